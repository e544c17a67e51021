"""TLS settings: a certificate without its key (or the reverse) is refused at start."""

from __future__ import annotations

import pytest

from localturso.settings import Settings


@pytest.mark.parametrize("given", [{"tls_cert": "cert.pem"}, {"tls_key": "key.pem"}])
def test_certificate_and_key_come_together(given: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="both --tls-cert and --tls-key"):
        Settings(**given)
