"""Personal data at rest: AES-GCM encryption and keyed hashes for look-ups.

One 32-byte master secret (``Settings.secret_key``) is stretched with HKDF into
separate keys for encryption and for hashing, so a leaked hash key does not
decrypt anything and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"livegate:" + purpose).derive(
        secret
    )


class FieldCipher:
    """Encrypts and decrypts personal fields; computes their keyed hashes."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the encryption secret must be at least 32 bytes")
        self._aead = AESGCM(_derive(secret, b"encrypt"))
        self._hash_key = _derive(secret, b"lookup-hash")

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        """Version byte, 12-byte nonce, ciphertext with tag; ``context`` binds it to its column."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> bytes:
        if not blob or blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], context)

    def encrypt_text(self, text: str, context: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), context.encode())

    def decrypt_text(self, blob: bytes, context: str) -> str:
        return self.decrypt(blob, context.encode()).decode("utf-8")

    def keyed_hash(self, value: str, kind: str) -> str:
        """HMAC-SHA256 of a normalised value, hex; the same value always gives the same hash."""
        return hmac.new(self._hash_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def mask_name(name: str | None) -> str:
    """Keep the first character of a name: ``张*`` / ``J***``."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
