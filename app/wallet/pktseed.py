"""pktwallet's 15-word seeds (not BIP39, although they use the BIP39 English word list).

The words encode 21 bytes ("SeedEnc")::

    byte 0      bits 7-5 unused (guard 001 while in word form), bits 4-1 version (0), bit 0 E
    byte 1      checksum: BLAKE2b-256 of the 21 bytes (byte 1 and guard bits zeroed), first byte
    bytes 2-3   birthday, days since 1970-01-01, big-endian  } XORed with
    bytes 4-20  17 random bytes                           } Argon2id(passphrase)

The 19-byte wallet seed is bytes 2..20 in clear (birthday included) and is fed directly to the
BIP32 master key derivation. E = 1 means the words were encrypted with a passphrase.

Quirk: the XOR with Argon2id (salt "pktwallet seed 0", 32 passes, 256 MiB, 8 lanes) is applied
even when there is no passphrase (Argon2id of the empty string), so every encode and decode
costs one Argon2id run: several seconds and 256 MiB of memory.

Threading: :func:`derive_seed_key` (and therefore :func:`decode_seed_words`,
:func:`decrypt_seed` without a ``kdf`` override, :func:`encode_seed`) blocks for seconds. A GUI
must call it off the Qt thread (a worker ``QThread``/``concurrent.futures`` executor); the
Argon2id computation releases the GIL, so the GUI stays responsive meanwhile. Pass ``cancel``
and/or ``progress`` to make the call return promptly on cancellation (see
:func:`derive_seed_key`).

A wrong passphrase is detected only through the birthday check (the checksum covers the
encrypted form): the decrypted birthday must be no earlier than 2020-04-07 and not in the
future. A few percent of wrong passphrases pass that check and give a wrong seed, so a restore
flow should show the birthday for the user to confirm.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from .bip39 import (
    WORDLIST_SIZE,
    UnknownWordError,
    normalize_words,
    wordlist,
    words_to_indices,
)

WORD_COUNT = 15
ENCODED_SIZE = 21
SEED_SIZE = 19  # birthday (2) + random (17)
RANDOM_SIZE = 17
SEED_VERSION = 0
ARGON2_SALT = b"pktwallet seed 0"
ARGON2_ITERATIONS = 32
ARGON2_MEMORY_KIB = 256 * 1024
ARGON2_LANES = 8
EARLIEST_BIRTHDAY_UNIX = 1586276691  # 2020-04-07 16:24:51 UTC; the first valid day is 2020-04-08
SECONDS_PER_DAY = 86400
EPOCH = date(1970, 1, 1)

_GUARD_MASK = 0xE0
_GUARD_BITS = 0x20
_E_FLAG = 0x01

SeedKdf = Callable[[bytes], bytes]
"""Maps the UTF-8 passphrase to the 19-byte XOR key (the default is :func:`argon2id_seed_key`)."""


class PktSeedError(ValueError):
    """Base class of pktwallet seed errors; messages never contain the words or passphrase."""


class SeedWordsError(PktSeedError):
    """The words themselves are malformed: count, unknown word, checksum, version."""


class UnknownSeedWordError(SeedWordsError):
    def __init__(self, word: str, position: int) -> None:
        super().__init__(f"word {position} ({word!r}) is not in the seed word list")
        self.word = word
        self.position = position  # 1-based


class SeedChecksumError(SeedWordsError):
    """The checksum does not match: a word is wrong or out of order."""


class UnsupportedSeedVersionError(SeedWordsError):
    """The version field is not 0."""


class PassphraseRequiredError(PktSeedError):
    """The seed words were encrypted with a passphrase and none was given."""


class WrongPassphraseError(PktSeedError):
    """The decrypted birthday is impossible: the passphrase is wrong (or the seed invalid)."""


class SeedDecodeCancelled(PktSeedError):
    """The caller cancelled a slow key derivation."""


# --- key derivation -----------------------------------------------------------------------------


def argon2id_seed_key(passphrase: bytes) -> bytes:
    """Argon2id(passphrase, "pktwallet seed 0", t=32, m=256 MiB, p=8) -> 19 bytes. Slow."""
    kdf = Argon2id(
        salt=ARGON2_SALT,
        length=SEED_SIZE,
        iterations=ARGON2_ITERATIONS,
        lanes=ARGON2_LANES,
        memory_cost=ARGON2_MEMORY_KIB,
    )
    return kdf.derive(passphrase)


def derive_seed_key(
    passphrase: str,
    *,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    poll_interval: float = 0.1,
) -> bytes:
    """The 19-byte XOR key for `passphrase` ("" included). Blocks for seconds.

    Without `cancel` and `progress` the key is computed in the caller's thread. With either,
    the computation runs in a helper thread while this function polls every `poll_interval`
    seconds, calling ``progress(elapsed_seconds)`` (no percentage exists: Argon2id cannot
    report one) and raising :class:`SeedDecodeCancelled` as soon as ``cancel()`` is true. After a
    cancellation the abandoned computation still runs to completion in the background (its
    result is discarded and its memory released then).
    """
    secret = passphrase.encode("utf-8")
    if cancel is None and progress is None:
        return kdf(secret)
    if cancel is not None and cancel():
        raise SeedDecodeCancelled("seed decoding was cancelled")
    outcome: dict[str, bytes | BaseException] = {}

    def work() -> None:
        try:
            outcome["key"] = kdf(secret)
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pktseed-argon2id", daemon=True)
    started = time.monotonic()
    worker.start()
    while True:
        worker.join(poll_interval)
        if not worker.is_alive():
            break
        if cancel is not None and cancel():
            raise SeedDecodeCancelled("seed decoding was cancelled")
        if progress is not None:
            progress(time.monotonic() - started)
    error = outcome.get("error")
    if isinstance(error, BaseException):
        raise error
    key = outcome["key"]
    assert isinstance(key, bytes)
    return key


# --- the encoded form ---------------------------------------------------------------------------


def _checksum(encoded: bytes) -> int:
    data = bytearray(encoded)
    data[0] &= ~_GUARD_MASK & 0xFF
    data[1] = 0
    return hashlib.blake2b(bytes(data), digest_size=32).digest()[0]


@dataclass(frozen=True, repr=False)
class EncryptedSeed:
    """The 21-byte SeedEnc (guard bits cleared), as read from or written to words."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != ENCODED_SIZE:
            raise SeedWordsError(f"an encoded seed is {ENCODED_SIZE} bytes")

    @property
    def needs_passphrase(self) -> bool:
        return bool(self.raw[0] & _E_FLAG)

    @property
    def version(self) -> int:
        return (self.raw[0] >> 1) & 0x0F

    @property
    def checksum(self) -> int:
        return self.raw[1]

    def words(self) -> str:
        """The 15 words (space separated)."""
        data = bytearray(self.raw)
        data[0] = (data[0] & ~_GUARD_MASK & 0xFF) | _GUARD_BITS
        number = int.from_bytes(data, "big")
        words = wordlist()
        out: list[str] = []
        for _ in range(WORD_COUNT):
            out.append(words[number & (WORDLIST_SIZE - 1)])
            number >>= 11
        if number != 1:  # pragma: no cover - impossible with 21 bytes and the guard bits
            raise AssertionError("seed encoding did not end on the guard bit")
        return " ".join(out)

    def __repr__(self) -> str:
        return f"EncryptedSeed(needs_passphrase={self.needs_passphrase}, <redacted>)"


def parse_seed_words(words: str) -> EncryptedSeed:
    """Check and decode 15 words to their encrypted form (fast: no Argon2id)."""
    items = normalize_words(words)
    if len(items) != WORD_COUNT:
        raise SeedWordsError(f"a pktwallet seed has {WORD_COUNT} words, got {len(items)}")
    try:
        indices = words_to_indices(items)
    except UnknownWordError as exc:
        raise UnknownSeedWordError(exc.word, exc.position) from None
    number = 1
    for index in reversed(indices):
        number = (number << 11) | index
    data = bytearray(number.to_bytes(ENCODED_SIZE, "big"))
    data[0] &= ~_GUARD_MASK & 0xFF
    encoded = EncryptedSeed(bytes(data))
    if encoded.version != SEED_VERSION:
        raise UnsupportedSeedVersionError(
            f"unknown seed version {encoded.version} (only version 0 exists)"
        )
    if encoded.checksum != _checksum(encoded.raw):
        raise SeedChecksumError(
            "the seed checksum does not match: a word is probably wrong or out of order"
        )
    return encoded


# --- the decrypted seed -------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class PktSeed:
    """A decrypted pktwallet seed: the 19 bytes that feed BIP32 (birthday included)."""

    seed: bytes
    needs_passphrase: bool  # the E flag of the words this seed came from / was encoded to

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_SIZE:
            raise PktSeedError(f"a pktwallet seed is {SEED_SIZE} bytes")

    @property
    def birthday_days(self) -> int:
        return int.from_bytes(self.seed[:2], "big")

    @property
    def birthday(self) -> date:
        return EPOCH + timedelta(days=self.birthday_days)

    @property
    def birthday_unix(self) -> int:
        return self.birthday_days * SECONDS_PER_DAY

    def __repr__(self) -> str:
        return (
            f"PktSeed(birthday={self.birthday.isoformat()}, "
            f"needs_passphrase={self.needs_passphrase}, <redacted>)"
        )


def _xor(data: bytes, key: bytes) -> bytes:
    if len(key) != SEED_SIZE:
        raise PktSeedError(f"the seed key must be {SEED_SIZE} bytes")
    return bytes(a ^ b for a, b in zip(data, key, strict=True))


def _unix_now(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def check_birthday(
    birthday_unix: int, *, now: datetime | float | None = None, allow_future: bool = False
) -> None:
    """Raise WrongPassphraseError unless pktwallet would accept this decrypted birthday."""
    shown = datetime.fromtimestamp(birthday_unix, UTC).date().isoformat()
    if birthday_unix > _unix_now(now) and not allow_future:
        raise WrongPassphraseError(
            f"the decrypted birthday {shown} is in the future: wrong passphrase or invalid seed"
        )
    if birthday_unix < EARLIEST_BIRTHDAY_UNIX:
        raise WrongPassphraseError(
            f"the decrypted birthday {shown} is before 2020-04-07 16:24 UTC, when pktwallet "
            "seeds were introduced: wrong passphrase or invalid seed"
        )


def decrypt_with_key(
    encoded: EncryptedSeed,
    key: bytes,
    *,
    now: datetime | float | None = None,
    allow_future: bool = False,
) -> PktSeed:
    """Decrypt with an already derived key (fast); checks the birthday like pktwallet."""
    seed = PktSeed(_xor(encoded.raw[2:], key), encoded.needs_passphrase)
    check_birthday(seed.birthday_unix, now=now, allow_future=allow_future)
    return seed


def decrypt_seed(
    encoded: EncryptedSeed,
    passphrase: str = "",
    *,
    now: datetime | float | None = None,
    allow_future: bool = False,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> PktSeed:
    """Decrypt a parsed seed. Slow (Argon2id): call it off the GUI thread.

    As in pktwallet, the passphrase is ignored when the words do not need one (Argon2id of ""
    is used). When they do, an empty passphrase raises PassphraseRequiredError, and a wrong
    one usually raises WrongPassphraseError. `allow_future` mirrors pktwallet's ``force``.
    """
    if not encoded.needs_passphrase:
        passphrase = ""
    elif not passphrase:
        raise PassphraseRequiredError(
            "these seed words are protected by a passphrase (the wallet password at the time "
            "they were exported); enter it to restore"
        )
    key = derive_seed_key(passphrase, kdf=kdf, cancel=cancel, progress=progress)
    return decrypt_with_key(encoded, key, now=now, allow_future=allow_future)


def decode_seed_words(
    words: str,
    passphrase: str = "",
    *,
    now: datetime | float | None = None,
    allow_future: bool = False,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> PktSeed:
    """Words (+ passphrase) -> decrypted seed: :func:`parse_seed_words` then
    :func:`decrypt_seed`. Slow (Argon2id): call it off the GUI thread."""
    return decrypt_seed(
        parse_seed_words(words),
        passphrase,
        now=now,
        allow_future=allow_future,
        kdf=kdf,
        cancel=cancel,
        progress=progress,
    )


# --- encoding -----------------------------------------------------------------------------------


def birthday_days_of(day: date) -> int:
    days = (day - EPOCH).days
    if not 0 <= days <= 0xFFFF:
        raise PktSeedError("birthday out of range")
    return days


def make_seed(random_bytes: bytes, birthday: date) -> bytes:
    """The 19-byte seed: birthday (days since epoch, big-endian) + 17 random bytes."""
    if len(random_bytes) != RANDOM_SIZE:
        raise PktSeedError(f"a pktwallet seed needs {RANDOM_SIZE} random bytes")
    days = birthday_days_of(birthday)
    if days * SECONDS_PER_DAY < EARLIEST_BIRTHDAY_UNIX:
        raise PktSeedError(
            "pktwallet rejects seeds born before 2020-04-07 16:24 UTC (the first valid day is "
            "2020-04-08)"
        )
    return days.to_bytes(2, "big") + random_bytes


def encrypt_with_key(seed: bytes, key: bytes, *, with_passphrase: bool) -> EncryptedSeed:
    """SeedEnc of a 19-byte seed with an already derived key (fast)."""
    if len(seed) != SEED_SIZE:
        raise PktSeedError(f"a pktwallet seed is {SEED_SIZE} bytes")
    header = (SEED_VERSION << 1) | (_E_FLAG if with_passphrase else 0)
    data = bytes([header, 0]) + _xor(seed, key)
    return EncryptedSeed(data[:1] + bytes([_checksum(data)]) + data[2:])


def encrypt_seed(
    seed: bytes,
    passphrase: str = "",
    *,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> EncryptedSeed:
    """SeedEnc of a 19-byte seed; E is set iff `passphrase` is not empty. Slow (Argon2id)."""
    key = derive_seed_key(passphrase, kdf=kdf, cancel=cancel, progress=progress)
    return encrypt_with_key(seed, key, with_passphrase=bool(passphrase))


def encode_seed(
    random_bytes: bytes,
    birthday: date,
    passphrase: str = "",
    *,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> str:
    """The 15 words for 17 random bytes and a birthday. Slow (Argon2id)."""
    seed = make_seed(random_bytes, birthday)
    encoded = encrypt_seed(seed, passphrase, kdf=kdf, cancel=cancel, progress=progress)
    return encoded.words()


def generate_seed(
    passphrase: str = "",
    *,
    today: date | None = None,
    kdf: SeedKdf = argon2id_seed_key,
    cancel: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[str, PktSeed]:
    """A new random seed born today (UTC): (15 words, decrypted seed). Slow (Argon2id)."""
    birthday = today if today is not None else datetime.now(UTC).date()
    seed = make_seed(secrets.token_bytes(RANDOM_SIZE), birthday)
    encoded = encrypt_seed(seed, passphrase, kdf=kdf, cancel=cancel, progress=progress)
    return encoded.words(), PktSeed(seed, encoded.needs_passphrase)
