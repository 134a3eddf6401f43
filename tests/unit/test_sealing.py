"""What people type, at rest: sealed to fit its column, opened to show, plain rows still read."""

from __future__ import annotations

from store.services.sealing import open_text, seal_text, sealed_start
from tests.fakes import FakeCipher

CIPHER = FakeCipher()


def test_a_start_is_the_longest_that_fits_its_column_sealed() -> None:
    words, token = sealed_start(CIPHER, "a fairly long question about a key", 30)
    assert len(token) <= 30 and CIPHER.open(token) == words
    assert "a fairly long question about a key".startswith(words) and words
    assert len(CIPHER.seal("a fairly long question about a key"[: len(words) + 1])) > 30


def test_a_cut_never_splits_a_character() -> None:
    words, token = sealed_start(CIPHER, "钥匙不能用了请帮忙", 20)
    assert CIPHER.open(token) == words and "钥匙不能用了请帮忙".startswith(words)


def test_empty_text_stays_empty_and_is_not_sealed() -> None:
    assert sealed_start(CIPHER, "", 10) == ("", "") and seal_text(CIPHER, "") == ""


def test_text_stored_before_sealing_reads_as_it_is() -> None:
    assert open_text(CIPHER, "old words") == "old words"
    assert open_text(CIPHER, "gAAAAA is what the screen shows") == "gAAAAA is what the screen shows"
    assert open_text(CIPHER, seal_text(CIPHER, "new words")) == "new words"
