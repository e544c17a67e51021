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
JWT_INVALID = "The JWT is invalid"
JWT_EXPIRED = "The JWT has expired"


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

    def problem(self, credential: bytes) -> str | None:
        """None when `credential` is accepted, else why not, in sqld's words."""
        if self._token is not None and hmac.compare_digest(credential, self._token):
            return None
        if self._jwt_key is None:
            return JWT_INVALID
        return self._jwt_problem(credential)

    def _jwt_problem(self, credential: bytes) -> str | None:
        expiry = self._verified.get(credential)
        if expiry is not None:
            return None if time.time() < expiry else JWT_EXPIRED
        try:
            claims = jwt.decode(credential, self._jwt_key, algorithms=["EdDSA"])
        except jwt.ExpiredSignatureError:
            return JWT_EXPIRED
        except jwt.InvalidTokenError:
            return JWT_INVALID
        if len(self._verified) >= MAX_CACHED_TOKENS:
            self._verified.clear()
        exp = claims.get("exp")
        self._verified[credential] = float(exp) if isinstance(exp, int | float) else float("inf")
        return None
