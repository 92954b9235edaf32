"""Feedback on seed words while they are typed (no key derivation: instant).

Used by the window's restore screen; the restore itself checks everything again.
"""

from dataclasses import dataclass

from . import bip39, pktseed

BIP39_COUNTS = (12, 18, 21, 24)  # 15 words are always read as a pktwallet seed (as restore does)
SUGGESTIONS = 6


@dataclass(frozen=True)
class SeedFeedback:
    valid: bool | None  # None: not finished yet (nothing wrong so far)
    message: str
    kind: str = ""  # "bip39" or "pktwallet" once valid
    needs_passphrase: bool = False  # pktwallet words that were encrypted with a passphrase


def check_seed_words(text: str) -> SeedFeedback:
    """What to tell someone typing `text` as seed words."""
    ends_with_space = text[-1:].isspace()
    words = bip39.normalize_words(text)
    if not words:
        return SeedFeedback(None, "")
    for position, word in enumerate(words, 1):
        if bip39.word_index(word) is not None:
            continue
        typing = position == len(words) and not ends_with_space
        matches = bip39.complete_word(word)
        if typing and matches:
            shown = ", ".join(matches[:SUGGESTIONS]) + (" …" if len(matches) > SUGGESTIONS else "")
            return SeedFeedback(None, f"word {position}: {shown}")
        return SeedFeedback(False, f"word {position} ({word!r}) is not a seed word")
    count = len(words)
    if count == pktseed.WORD_COUNT:
        try:
            encoded = pktseed.parse_seed_words(" ".join(words))
        except pktseed.SeedWordsError as exc:
            return SeedFeedback(False, str(exc))
        else:
            note = " It has a passphrase: enter it below." if encoded.needs_passphrase else ""
            return SeedFeedback(
                True,
                f"✓ pktwallet seed, 15 words (its birthday is in the words).{note}",
                "pktwallet",
                encoded.needs_passphrase,
            )
    if count in BIP39_COUNTS:
        try:
            bip39.validate_mnemonic(" ".join(words))
        except bip39.MnemonicChecksumError:
            return SeedFeedback(
                False, "the checksum does not match: a word is wrong or out of order"
            )
        except bip39.MnemonicError as exc:
            return SeedFeedback(False, str(exc))
        return SeedFeedback(True, f"✓ {count} BIP39 words", "bip39")
    if count > max(BIP39_COUNTS):
        return SeedFeedback(False, f"{count} words: a seed has 12, 15 or 24")
    return SeedFeedback(None, f"{count} words (a seed has 12, 15 or 24)")
