"""Card keys at rest: MultiFernet encryption and an HMAC fingerprint for duplicate detection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.domain.errors import UnreadableToken


def normalise_card_key(raw: str) -> str:
    """The form a key is compared in: NFKC (full-width to half-width), outer blanks removed."""
    return unicodedata.normalize("NFKC", raw).strip()


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kamibot/v1", info=purpose).derive(
        secret.encode()
    )


class CardKeyCipher:
    """Encrypts with the newest passphrase, decrypts with any; fingerprints under every one.

    Fingerprints are computed under each configured passphrase so that a key imported before a
    rotation is still recognised as a duplicate after it.
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("at least one passphrase is needed")
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(s, b"card-key encryption"))) for s in secrets]
        )
        self._hmac_keys = [_derive(s, b"card-key fingerprint") for s in secrets]

    def encrypt(self, card_key: str) -> str:
        return self._fernet.encrypt(normalise_card_key(card_key).encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UnreadableToken from None

    def rotate(self, token: str) -> str:
        """The same plaintext under the newest passphrase (for `python -m bot keys rotate`)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UnreadableToken from None

    def seal(self, text: str) -> str:
        """Free text at rest (support messages, stored updates), exactly as given: no
        normalisation, unlike a card key."""
        return self._fernet.encrypt(text.encode()).decode()

    def open(self, token: str) -> str:
        """What `seal` stored."""
        return self.decrypt(token)

    def fingerprint(self, card_key: str) -> str:
        """The fingerprint stored with a new key (newest passphrase)."""
        return self._fingerprint_with(self._hmac_keys[0], card_key)

    def fingerprints(self, card_key: str) -> list[str]:
        """Every fingerprint this key could have been stored under."""
        return [self._fingerprint_with(k, card_key) for k in self._hmac_keys]

    @staticmethod
    def _fingerprint_with(hmac_key: bytes, card_key: str) -> str:
        digest = hmac.new(hmac_key, normalise_card_key(card_key).encode(), hashlib.sha256)
        return digest.hexdigest()

    def __repr__(self) -> str:  # never show key material
        return f"CardKeyCipher(passphrases={len(self._hmac_keys)})"
