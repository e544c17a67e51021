"""Auth as Turso does it: an Ed25519 key pair; the server gets the public key, clients a JWT."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# What Turso's tokens grant: read-write access to the database (`"a": "rw"`).
READ_WRITE_CLAIMS = {"a": "rw"}


@dataclass(frozen=True)
class JwtAuth:
    """A fresh key pair per run; the private key never leaves this process."""

    private_key: Ed25519PrivateKey = field(repr=False)
    public_key_pem: bytes
    token: str  # read-write, no expiry: what the app is given as TURSO_AUTH_TOKEN

    @classmethod
    def generate(cls) -> JwtAuth:
        key = Ed25519PrivateKey.generate()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(key, public_pem, jwt.encode(READ_WRITE_CLAIMS, key, algorithm="EdDSA"))

    def sign(self, claims: dict[str, object]) -> str:
        """Another token from the same key, e.g. one that has expired."""
        return jwt.encode(claims, self.private_key, algorithm="EdDSA")

    def write_public_key(self, path: Path) -> Path:
        """The PEM file sqld's `--auth-jwt-key-file` (and localturso's) reads."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.public_key_pem)
        return path
