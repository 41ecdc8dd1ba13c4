"""Keys derived from the server secret, and encryption of personal data at rest.

Infrastructure, not domain: the domain sees plaintext values only. Every key is derived
from ``LOYALTY_SECRET_KEY`` with HKDF-SHA256 under its own ``info`` label, so the keys are
independent of each other and no key is ever used for two purposes. Changing the secret
makes stored personal data unreadable: keep it stable.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12  # the 96-bit nonce AES-GCM is designed for
KEY_VERSION = 1  # first byte of every ciphertext; a rotated key gets the next number


class TamperedCiphertext(ValueError):
    """A stored value does not decrypt: altered, moved to another row, or another key."""


def derive_key(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(secret)


class Vault:
    """Encrypts personal fields (AES-256-GCM), computes the phone blind index (HMAC-SHA256)
    and holds the card-track MAC key."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("The server secret must not be empty.")
        master = secret.encode()
        self._ciphers = {KEY_VERSION: AESGCM(derive_key(master, "loyalty/pii-encryption/v1"))}
        self._index_key = derive_key(master, "loyalty/phone-blind-index/v1")
        self.card_mac_key: bytes = derive_key(master, "loyalty/card-track-mac/v1")

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """``version byte + nonce + ciphertext``. ``context`` (e.g. tenant, member and field)
        is authenticated, so a ciphertext copied to another row or field will not decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[KEY_VERSION].encrypt(nonce, plaintext.encode(), context.encode())
        return bytes([KEY_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        cipher = self._ciphers.get(blob[0]) if blob else None
        if cipher is None:
            raise TamperedCiphertext("Unknown key version.")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, sealed, context.encode()).decode()
        except InvalidTag:
            raise TamperedCiphertext("The value fails authentication.") from None

    def phone_hash(self, tenant_id: str, phone: str) -> str:
        """Blind index of a normalised phone number: equality search without the plaintext.
        Keyed per tenant too, so the same person is not linkable across tenants' rows."""
        message = f"{tenant_id}\x00{phone}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
