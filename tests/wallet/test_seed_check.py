"""Seed words feedback while typing: suggestions, unknown words, checksums, both seed kinds."""

from app.wallet.seed_check import check_seed_words
from tests.wallet.conftest import load_seed_vectors

BIP39 = "abandon " * 11 + "about"


def test_nothing_typed_and_words_in_progress() -> None:
    assert check_seed_words("").valid is None
    typing = check_seed_words("abandon ab")
    assert typing.valid is None and typing.message.startswith("word 2: abandon, ability, able")
    assert check_seed_words("abandon abandon ").message == "2 words (a seed has 12, 15 or 24)"


def test_unknown_word_is_named_once_it_is_finished() -> None:
    bad = check_seed_words("abandon abandonn abandon")
    assert bad.valid is False and bad.message == "word 2 ('abandonn') is not a seed word"
    assert check_seed_words("abandon xyzzy").valid is False  # no word starts like this
    assert check_seed_words("abandon abandonn ").valid is False


def test_bip39_checksum() -> None:
    ok = check_seed_words(BIP39)
    assert ok.valid is True and ok.kind == "bip39" and ok.message == "✓ 12 BIP39 words"
    wrong = check_seed_words("abandon " * 12)
    assert wrong.valid is False and "checksum" in wrong.message
    assert check_seed_words(" ".join(["abandon"] * 25)).valid is False


def test_pktwallet_words_and_their_passphrase_flag() -> None:
    vectors = load_seed_vectors()["seedwords_vectors"]
    for vector in vectors:
        feedback = check_seed_words(vector["words"])
        assert feedback.valid is True and feedback.kind == "pktwallet"
        assert feedback.needs_passphrase == bool(vector["passphrase"])
    words = vectors[0]["words"].split()
    swapped = " ".join([words[1], words[0], *words[2:]])
    assert check_seed_words(swapped).valid is False
