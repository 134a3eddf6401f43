"""Card keys at rest: encrypted, rotatable, fingerprinted, never printed."""

from __future__ import annotations

from store.adapters.card_key_cipher import CardKeyCipher

OLD = "an old passphrase that is comfortably over 32 chars"
NEW = "a new passphrase that is also comfortably over 32 chars"


def test_a_key_round_trips_and_the_ciphertext_does_not_contain_it() -> None:
    cipher = CardKeyCipher([NEW])
    token = cipher.encrypt("ABCD-1234-EFGH")
    assert "ABCD" not in token and cipher.decrypt(token) == "ABCD-1234-EFGH"


def test_keys_encrypted_under_an_old_passphrase_still_decrypt_after_rotation() -> None:
    token = CardKeyCipher([OLD]).encrypt("K-1")
    rotated = CardKeyCipher([NEW, OLD])
    assert rotated.decrypt(token) == "K-1"
    assert CardKeyCipher([NEW]).decrypt(rotated.rotate(token)) == "K-1"


def test_full_width_and_padded_forms_of_a_key_share_a_fingerprint() -> None:
    cipher = CardKeyCipher([NEW])
    assert cipher.fingerprint("  ＡＢＣ－１２３ ") == cipher.fingerprint("ABC-123")
    assert cipher.fingerprint("abc-123") != cipher.fingerprint("ABC-123")


def test_the_cipher_never_shows_key_material() -> None:
    assert NEW not in repr(CardKeyCipher([NEW]))
