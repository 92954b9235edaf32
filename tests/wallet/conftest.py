"""Fixtures for the wallet tests: the pktwallet seed vectors and a session-wide Argon2id cache.

Decoding a pktwallet seed costs one Argon2id run (256 MiB, ~9 s here). The XOR key depends only
on the passphrase (the salt is fixed), so the whole session needs one run per distinct
passphrase: "" and "password".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.wallet.pktseed import argon2id_seed_key

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "pkt"

_KEY_CACHE: dict[bytes, bytes] = {}


def cached_seed_kdf(passphrase: bytes) -> bytes:
    """argon2id_seed_key, memoized for the whole test session."""
    if passphrase not in _KEY_CACHE:
        _KEY_CACHE[passphrase] = argon2id_seed_key(passphrase)
    return _KEY_CACHE[passphrase]


def load_seed_vectors() -> Any:
    with open(DATA_DIR / "seedwords_hd_vectors.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def seed_vectors() -> Any:
    return load_seed_vectors()


@pytest.fixture(scope="session")
def seed_kdf() -> Callable[[bytes], bytes]:
    return cached_seed_kdf
