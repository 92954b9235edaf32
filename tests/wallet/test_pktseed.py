"""pktwallet 15-word seeds against tests/data/pkt/seedwords_hd_vectors.json (generated with
pktd's own Go code; see tests/data/pkt/PROVENANCE.md), plus the error paths.

Argon2id runs at most once per distinct passphrase per session (see conftest.py).
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.wallet.accounts import INTERNAL, Account, AddressKind, pktwallet_scopes
from app.wallet.bip32 import master_key_from_seed, parse_path
from app.wallet.pktseed import (
    ARGON2_ITERATIONS,
    ARGON2_LANES,
    ARGON2_MEMORY_KIB,
    ARGON2_SALT,
    EARLIEST_BIRTHDAY_UNIX,
    EncryptedSeed,
    PassphraseRequiredError,
    PktSeed,
    PktSeedError,
    SeedChecksumError,
    SeedDecodeCancelled,
    SeedWordsError,
    UnknownSeedWordError,
    UnsupportedSeedVersionError,
    WrongPassphraseError,
    check_birthday,
    decode_seed_words,
    decrypt_seed,
    decrypt_with_key,
    derive_seed_key,
    encode_seed,
    encrypt_with_key,
    generate_seed,
    make_seed,
    parse_seed_words,
)
from spv.address import encode_wif
from spv.params import MAINNET

from .conftest import cached_seed_kdf, load_seed_vectors
from .mutation import assert_every_change_detected

SEED_VECTORS: list[dict[str, Any]] = load_seed_vectors()["seedwords_vectors"]
# "now" for the birthday check: fixed, so the tests do not depend on the clock.
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def fake_kdf(passphrase: bytes) -> bytes:
    """A fast stand-in for Argon2id, for tests of the seed format only."""
    return hashlib.sha256(b"test kdf" + passphrase).digest()[:19]


def _check_derivations(master_xprv_key: Any, vector: dict[str, Any]) -> None:
    accounts = {
        scope.purpose: Account.from_master(master_xprv_key, scope)
        for scope in pktwallet_scopes(MAINNET)
    }
    assert len(vector["addresses"]) == 12
    for entry in vector["addresses"]:
        assert entry["PathKind"] == "DeriveNonStandard"
        path = parse_path(entry["Path"])
        account = accounts[path[0] & 0x7FFFFFFF]
        assert account.scope.path == path[:3]
        branch, index = path[3], path[4]
        key = account.derive(branch, index)
        assert key.path == path
        assert key.public_key.hex() == entry["Pubkey"]
        if account.scope.purpose == 49 and branch == INTERNAL:
            # pktwallet's change is P2WPKH; the vector renders the P2SH-P2WPKH form (watched).
            assert key.kind is AddressKind.P2WPKH
            assert key.watch_addresses(MAINNET)[1] == entry["Address"]
        else:
            assert key.address(MAINNET) == entry["Address"]
        privkey = account.private_key(branch, index)
        assert encode_wif(privkey, True, MAINNET) == entry["WIF"]


def check_seed_vector(vector: dict[str, Any]) -> None:
    """Every field of one seedwords vector, in both directions (with the cached Argon2id)."""
    words, passphrase = vector["words"], vector["passphrase"]
    encoded = parse_seed_words(words)
    assert encoded.raw.hex() == vector["encoded_21_bytes_hex_before_guard_bits"]
    assert encoded.needs_passphrase is vector["needs_passphrase"]
    assert encoded.words() == words
    seed = decrypt_seed(encoded, passphrase, now=NOW, kdf=cached_seed_kdf)
    assert seed.seed.hex() == vector["seed_bytes_19_hex"]
    assert seed.birthday_days == vector["birthday_day"]
    assert f"{seed.birthday.isoformat()}T00:00:00Z" == vector["birthday_utc"]
    assert seed.needs_passphrase is vector["needs_passphrase"]
    assert vector["vector"] == {"4844": 1, "4a38": 2}[vector["seed_bytes_19_hex"][:4]]
    # Encoding the seed again gives the same words.
    again = encode_seed(seed.seed[2:], seed.birthday, passphrase, kdf=cached_seed_kdf)
    assert again == words
    master = master_key_from_seed(seed.seed, MAINNET)
    assert master.to_string() == vector["master_xprv"]
    assert master.xpub() == vector["master_xpub"]
    _check_derivations(master, vector)


@pytest.mark.parametrize("number", range(len(SEED_VECTORS)))
def test_seedwords_vector(number: int) -> None:
    check_seed_vector(SEED_VECTORS[number])


@pytest.mark.parametrize("number", range(len(SEED_VECTORS)))
def test_seedwords_vector_rejects_any_single_change(number: int) -> None:
    # "passphrase" is an input: a changed one needs a fresh 9-second Argon2id run; that it is
    # rejected is shown by test_wrong_passphrase_is_reported.
    assert_every_change_detected(
        SEED_VECTORS[number], check_seed_vector, skip=frozenset({"passphrase"})
    )


def test_decode_seed_words_end_to_end() -> None:
    for vector in SEED_VECTORS:
        seed = decode_seed_words(vector["words"], vector["passphrase"], kdf=cached_seed_kdf)
        assert seed.seed.hex() == vector["seed_bytes_19_hex"]


def test_same_seed_two_passphrases_same_keys() -> None:
    by_seed: dict[str, set[str]] = {}
    for vector in SEED_VECTORS:
        by_seed.setdefault(vector["seed_bytes_19_hex"], set()).add(vector["words"])
    assert all(len(words) == 2 for words in by_seed.values())


def test_argon2id_parameters() -> None:
    assert ARGON2_SALT == b"pktwallet seed 0"
    assert (ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_LANES) == (32, 262144, 8)
    assert EARLIEST_BIRTHDAY_UNIX == 1586276691


def test_wrong_passphrase_is_reported() -> None:
    protected = next(v for v in SEED_VECTORS if v["needs_passphrase"])
    encoded = parse_seed_words(protected["words"])
    # The key of "" is a wrong key for these words (and is already cached).
    with pytest.raises(WrongPassphraseError, match="wrong passphrase") as info:
        decrypt_with_key(encoded, cached_seed_kdf(b""), now=NOW)
    assert protected["passphrase"] not in str(info.value)
    # Through the public API: a passphrase whose key is wrong.
    with pytest.raises(WrongPassphraseError):
        decode_seed_words(
            protected["words"], "not it", now=NOW, kdf=lambda _p: cached_seed_kdf(b"")
        )


def test_passphrase_required_and_ignored() -> None:
    protected = next(v for v in SEED_VECTORS if v["needs_passphrase"])
    with pytest.raises(PassphraseRequiredError, match="passphrase"):
        decode_seed_words(protected["words"], "", kdf=cached_seed_kdf)
    # As in pktwallet, a passphrase given for words that need none is ignored.
    plain = next(v for v in SEED_VECTORS if not v["needs_passphrase"])
    seed = decode_seed_words(plain["words"], "anything", now=NOW, kdf=cached_seed_kdf)
    assert seed.seed.hex() == plain["seed_bytes_19_hex"]


def test_word_errors() -> None:
    words = SEED_VECTORS[0]["words"].split()
    with pytest.raises(SeedWordsError, match="15 words, got 14"):
        parse_seed_words(" ".join(words[:14]))
    typo = [*words[:6], "wrnog", *words[7:]]
    with pytest.raises(UnknownSeedWordError, match=r"word 7 \('wrnog'\)") as info:
        parse_seed_words(" ".join(typo))
    assert info.value.position == 7 and words[0] not in str(info.value)
    swapped = [words[1], words[0], *words[2:]]
    with pytest.raises(SeedChecksumError):
        parse_seed_words(" ".join(swapped))
    # Upper case and extra whitespace are fine.
    assert parse_seed_words("  " + "\t".join(words).upper() + "\n").words() == " ".join(words)


def test_unknown_version_is_rejected() -> None:
    good = encrypt_with_key(
        make_seed(bytes(17), date(2021, 1, 1)), bytes(19), with_passphrase=False
    )
    raw = bytearray(good.raw)
    raw[0] |= 1 << 1  # version 1
    raw[1] = 0
    raw[1] = hashlib.blake2b(bytes(raw), digest_size=32).digest()[0]
    with pytest.raises(UnsupportedSeedVersionError, match="version 1"):
        parse_seed_words(EncryptedSeed(bytes(raw)).words())


def test_birthday_window() -> None:
    check_birthday(18360 * 86400, now=NOW)  # 2020-04-08: the first accepted day
    with pytest.raises(WrongPassphraseError, match="before 2020-04-07"):
        check_birthday(18359 * 86400, now=NOW)
    future = int(NOW.timestamp()) + 86400
    with pytest.raises(WrongPassphraseError, match="future"):
        check_birthday(future, now=NOW)
    check_birthday(future, now=NOW, allow_future=True)
    check_birthday(int(NOW.timestamp()), now=NOW)
    # End to end with a fast stand-in KDF: a seed born in 2030 is refused in 2024.
    words = encode_seed(bytes(17), date(2030, 1, 1), kdf=fake_kdf)
    with pytest.raises(WrongPassphraseError, match="future"):
        decode_seed_words(words, now=NOW, kdf=fake_kdf)
    assert decode_seed_words(words, now=NOW, allow_future=True, kdf=fake_kdf).birthday == date(
        2030, 1, 1
    )
    with pytest.raises(PktSeedError, match="2020-04-08"):
        make_seed(bytes(17), date(2020, 4, 7))
    assert make_seed(bytes(17), date(2020, 4, 8))[:2] == (18360).to_bytes(2, "big")


def test_round_trip_with_passphrase_and_generation() -> None:
    words = encode_seed(bytes(range(17)), date(2023, 5, 17), "pässword", kdf=fake_kdf)
    encoded = parse_seed_words(words)
    assert encoded.needs_passphrase
    seed = decrypt_seed(encoded, "pässword", now=NOW, kdf=fake_kdf)
    assert seed.seed == make_seed(bytes(range(17)), date(2023, 5, 17))
    assert seed.birthday == date(2023, 5, 17)
    generated_words, generated = generate_seed("pw", today=date(2023, 1, 2), kdf=fake_kdf)
    assert len(generated_words.split()) == 15 and generated.needs_passphrase
    assert decode_seed_words(generated_words, "pw", now=NOW, kdf=fake_kdf) == generated
    _, today_seed = generate_seed(kdf=fake_kdf)
    assert today_seed.birthday == datetime.now(UTC).date() and not today_seed.needs_passphrase


def test_progress_and_cancel() -> None:
    release = threading.Event()

    def slow_kdf(passphrase: bytes) -> bytes:
        release.wait(5)
        return fake_kdf(passphrase)

    ticks: list[float] = []

    def progress(elapsed: float) -> None:
        ticks.append(elapsed)
        if len(ticks) == 3:
            release.set()

    key = derive_seed_key("x", kdf=slow_kdf, progress=progress, poll_interval=0.01)
    assert key == fake_kdf(b"x") and len(ticks) >= 3
    assert ticks == sorted(ticks)

    release.clear()
    started = time.monotonic()
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    with pytest.raises(SeedDecodeCancelled):
        derive_seed_key("x", kdf=slow_kdf, cancel=cancel, poll_interval=0.01)
    assert time.monotonic() - started < 2
    release.set()
    with pytest.raises(SeedDecodeCancelled):
        decode_seed_words(SEED_VECTORS[0]["words"], kdf=slow_kdf, cancel=lambda: True)

    def failing_kdf(_passphrase: bytes) -> bytes:
        raise MemoryError("no memory")

    with pytest.raises(MemoryError):
        derive_seed_key("x", kdf=failing_kdf, cancel=lambda: False, poll_interval=0.01)


def test_reprs_hide_secrets() -> None:
    vector = SEED_VECTORS[1]
    encoded = parse_seed_words(vector["words"])
    seed = PktSeed(bytes.fromhex(vector["seed_bytes_19_hex"]), True)
    text = repr(encoded) + str(encoded) + repr(seed) + str(seed)
    for secret in (vector["seed_bytes_19_hex"], vector["words"].split()[0], encoded.raw.hex()):
        assert secret not in text
    assert "2020-08-26" in repr(seed)
