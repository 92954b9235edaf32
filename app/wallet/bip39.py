"""BIP39 mnemonics (English word list): generation, validation, seed derivation, completion.

The work is done by ``mnemonic``, the BIP39 reference implementation (Trezor's, which BIP39
links to): word list, entropy <-> words with the checksum, PBKDF2 seed. This module adds what
a user-facing wallet needs on top: typed errors naming the offending word and its position,
word completion, and a check that the library's English list is the BIP39 list (sha256 in
:data:`WORDLIST_SHA256`). pktwallet's 15-word seeds use the same list (:mod:`.pktseed`).

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

from mnemonic import Mnemonic

WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
WORDLIST_SIZE = 2048
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
def _english() -> Mnemonic:
    return Mnemonic("english")


@cache
def wordlist() -> tuple[str, ...]:
    """The 2048 English words, in order (verified against :data:`WORDLIST_SHA256`)."""
    words = tuple(_english().wordlist)
    raw = ("\n".join(words) + "\n").encode("ascii")
    if len(words) != WORDLIST_SIZE or hashlib.sha256(raw).hexdigest() != WORDLIST_SHA256:
        raise WordlistIntegrityError("the BIP39 word list does not match its sha256")
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


def entropy_to_mnemonic(entropy: bytes) -> str:
    """The mnemonic encoding `entropy` (16, 20, 24, 28 or 32 bytes)."""
    if len(entropy) not in ENTROPY_SIZE_FOR_WORDS.values():
        raise MnemonicError("entropy must be 16, 20, 24, 28 or 32 bytes")
    wordlist()  # the list checked once
    return str(_english().to_mnemonic(entropy))


def mnemonic_to_entropy(mnemonic: str) -> bytes:
    """The entropy a valid mnemonic encodes; raises a MnemonicError subclass otherwise (the
    count, then the first unknown word by position, then the checksum)."""
    words = normalize_words(mnemonic)
    if len(words) not in ENTROPY_SIZE_FOR_WORDS:
        allowed = ", ".join(str(n) for n in ENTROPY_SIZE_FOR_WORDS)
        raise MnemonicLengthError(f"a BIP39 mnemonic has {allowed} words, got {len(words)}")
    words_to_indices(words)
    try:
        return bytes(_english().to_entropy(words))
    except ValueError:
        raise MnemonicChecksumError(
            "the mnemonic checksum does not match: a word is probably wrong or out of order"
        ) from None


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
    return bytes(Mnemonic.to_seed(" ".join(words), passphrase))
