"""Who may talk to the server: an opaque token, or an EdDSA JWT checked against a public key.

The second is how Turso and sqld (`--auth-jwt-key-file`) authenticate; the first is the
simpler form this server always had. Either, both or neither may be configured.
"""

from __future__ import annotations

import hmac
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

# Verified JWTs, so that a client reusing its token (all of them do) costs one signature check;
# bounded so that a client sending ever new tokens cannot grow it without limit.
MAX_CACHED_TOKENS = 1024


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A PEM public key as sqld's `--auth-jwt-key-file` takes it; only Ed25519 is accepted."""
    key = load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: the JWT key must be an Ed25519 public key")
    return key


class Authenticator:
    """Checks credentials; `required` is false when nothing is configured (all are let in)."""

    def __init__(self, token: str | None, jwt_key: Ed25519PublicKey | None = None) -> None:
        self._token = token.encode() if token is not None else None
        self._jwt_key = jwt_key
        self._verified: dict[bytes, float] = {}  # token -> expiry (inf when it has none)

    @property
    def required(self) -> bool:
        return self._token is not None or self._jwt_key is not None

    def accepts(self, credential: bytes) -> bool:
        if self._token is not None and hmac.compare_digest(credential, self._token):
            return True
        return self._jwt_key is not None and self._valid_jwt(credential)

    def _valid_jwt(self, credential: bytes) -> bool:
        expiry = self._verified.get(credential)
        now = time.time()
        if expiry is not None:
            return now < expiry
        try:
            claims = jwt.decode(credential, self._jwt_key, algorithms=["EdDSA"])
        except jwt.InvalidTokenError:
            return False
        if len(self._verified) >= MAX_CACHED_TOKENS:
            self._verified.clear()
        exp = claims.get("exp")
        self._verified[credential] = float(exp) if isinstance(exp, int | float) else float("inf")
        return True
