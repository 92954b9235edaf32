"""BIP39 mnemonics (English word list): generation, validation, seed derivation, completion.

The word list is the BIP39 English list, shipped as ``data/bip39_english.txt`` (a byte-identical
copy of ``bip-0039/english.txt`` from bitcoin/bips; sha256 in :data:`WORDLIST_SHA256`, checked
when it is loaded). pktwallet's 15-word seeds use the same list (see :mod:`app.wallet.pktseed`).

Input typed by a user is normalized before use: Unicode NFKD, lower case, any run of
whitespace as a separator. Error messages name the offending word and its position but never
repeat the rest of the mnemonic.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from bisect import bisect_left
from functools import cache
from importlib import resources

WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
WORDLIST_SIZE = 2048
BITS_PER_WORD = 11
PBKDF2_ROUNDS = 2048
SEED_SIZE = 64
# Words -> entropy bytes; checksum bits = entropy bits / 32.
ENTROPY_SIZE_FOR_WORDS = {12: 16, 15: 20, 18: 24, 21: 28, 24: 32}


class MnemonicError(ValueError):
    """A mnemonic that is not valid BIP39."""


class MnemonicLengthError(MnemonicError):
    """The number of words is not one BIP39 allows."""


class UnknownWordError(MnemonicError):
    """A word that is not in the word list."""

    def __init__(self, word: str, position: int) -> None:
        super().__init__(f"word {position} ({word!r}) is not in the BIP39 English word list")
        self.word = word
        self.position = position  # 1-based


class MnemonicChecksumError(MnemonicError):
    """All words are known but the checksum does not match (a word is wrong or misplaced)."""


class WordlistIntegrityError(RuntimeError):
    """The shipped word list file is damaged."""


@cache
def wordlist() -> tuple[str, ...]:
    """The 2048 English words, in order (verified against :data:`WORDLIST_SHA256`)."""
    raw = resources.files("app.wallet").joinpath("data/bip39_english.txt").read_bytes()
    if hashlib.sha256(raw).hexdigest() != WORDLIST_SHA256:
        raise WordlistIntegrityError("the BIP39 word list file does not match its sha256")
    words = tuple(raw.decode("ascii").split("\n")[:WORDLIST_SIZE])
    if len(words) != WORDLIST_SIZE:
        raise WordlistIntegrityError("the BIP39 word list must have 2048 words")
    return words


@cache
def _word_index() -> dict[str, int]:
    return {word: index for index, word in enumerate(wordlist())}


def word_index(word: str) -> int | None:
    """Position of `word` in the list, or None if it is not there."""
    return _word_index().get(word)


def normalize_words(text: str) -> list[str]:
    """Words of a mnemonic as typed: NFKD, lower case, split on any whitespace."""
    return unicodedata.normalize("NFKD", text).lower().split()


def words_to_indices(words: list[str]) -> list[int]:
    """Word-list positions of `words`; raises UnknownWordError naming the first unknown word."""
    indices: list[int] = []
    for position, word in enumerate(words, start=1):
        index = word_index(word)
        if index is None:
            raise UnknownWordError(word, position)
        indices.append(index)
    return indices


def complete_word(prefix: str) -> list[str]:
    """Words starting with `prefix` (normalized), in list order; [] for an empty prefix.

    Every BIP39 English word is determined by its first four letters, so a four-letter prefix
    gives at most one word.
    """
    normalized = unicodedata.normalize("NFKD", prefix).strip().lower()
    if not normalized:
        return []
    words = wordlist()  # sorted, so the matches are one contiguous run
    start = bisect_left(words, normalized)
    matches: list[str] = []
    for word in words[start:]:
        if not word.startswith(normalized):
            break
        matches.append(word)
    return matches


def _checksum_bits(entropy: bytes) -> tuple[int, int]:
    """(checksum value, checksum bit count) for `entropy`."""
    bit_count = len(entropy) * 8 // 32
    first_byte = hashlib.sha256(entropy).digest()[0]
    return first_byte >> (8 - bit_count), bit_count


def entropy_to_mnemonic(entropy: bytes) -> str:
    """The mnemonic encoding `entropy` (16, 20, 24, 28 or 32 bytes)."""
    if len(entropy) not in ENTROPY_SIZE_FOR_WORDS.values():
        raise MnemonicError("entropy must be 16, 20, 24, 28 or 32 bytes")
    checksum, checksum_bit_count = _checksum_bits(entropy)
    number = (int.from_bytes(entropy, "big") << checksum_bit_count) | checksum
    word_count = (len(entropy) * 8 + checksum_bit_count) // BITS_PER_WORD
    words = wordlist()
    out = [
        words[(number >> (BITS_PER_WORD * (word_count - 1 - i))) & (WORDLIST_SIZE - 1)]
        for i in range(word_count)
    ]
    return " ".join(out)


def mnemonic_to_entropy(mnemonic: str) -> bytes:
    """The entropy a valid mnemonic encodes; raises a MnemonicError subclass otherwise."""
    words = normalize_words(mnemonic)
    entropy_size = ENTROPY_SIZE_FOR_WORDS.get(len(words))
    if entropy_size is None:
        allowed = ", ".join(str(n) for n in ENTROPY_SIZE_FOR_WORDS)
        raise MnemonicLengthError(f"a BIP39 mnemonic has {allowed} words, got {len(words)}")
    number = 0
    for index in words_to_indices(words):
        number = (number << BITS_PER_WORD) | index
    checksum_bit_count = entropy_size * 8 // 32
    entropy = (number >> checksum_bit_count).to_bytes(entropy_size, "big")
    expected, _ = _checksum_bits(entropy)
    if number & ((1 << checksum_bit_count) - 1) != expected:
        raise MnemonicChecksumError(
            "the mnemonic checksum does not match: a word is probably wrong or out of order"
        )
    return entropy


def validate_mnemonic(mnemonic: str) -> None:
    """Raise a MnemonicError subclass unless `mnemonic` is valid BIP39 English."""
    mnemonic_to_entropy(mnemonic)


def is_valid_mnemonic(mnemonic: str) -> bool:
    try:
        validate_mnemonic(mnemonic)
    except MnemonicError:
        return False
    return True


def generate_mnemonic(word_count: int = 12) -> str:
    """A new random mnemonic of 12 or 24 words (15, 18, 21 also accepted)."""
    entropy_size = ENTROPY_SIZE_FOR_WORDS.get(word_count)
    if entropy_size is None:
        raise MnemonicLengthError("choose 12, 15, 18, 21 or 24 words")
    return entropy_to_mnemonic(secrets.token_bytes(entropy_size))


def mnemonic_to_seed(mnemonic: str, passphrase: str = "", *, validate: bool = True) -> bytes:
    """The 64-byte BIP39 seed: PBKDF2-HMAC-SHA512(mnemonic, "mnemonic" + passphrase, 2048).

    The mnemonic is normalized (NFKD, lower case, single spaces); the passphrase only NFKD.
    With `validate` (the default) an invalid mnemonic raises instead of giving a seed.
    """
    words = normalize_words(mnemonic)
    if validate:
        validate_mnemonic(" ".join(words))
    password = " ".join(words).encode("utf-8")
    salt = ("mnemonic" + unicodedata.normalize("NFKD", passphrase)).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", password, salt, PBKDF2_ROUNDS, SEED_SIZE)
