"""Fixtures for the PacketCrypt reference tests: the committed vectors and one prepared job."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from miner.reference import mine

DATA = Path(__file__).resolve().parent.parent / "data" / "packetcrypt"

WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Processes used to build the 8192-item tables of the mining tests."""


def load_json(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return json.load(fh)


def load_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture(scope="session")
def generated() -> Any:
    """generated_reference_vectors.json."""
    return load_json("generated_reference_vectors.json")


@pytest.fixture(scope="session")
def real_ann_json() -> Any:
    return load_json("real_ann_v1.json")


@pytest.fixture(scope="session")
def real_ann() -> bytes:
    return load_bytes("real_ann_v1.bin")


@pytest.fixture(scope="session")
def real_parent_hash(real_ann_json: Any) -> bytes:
    return bytes.fromhex(real_ann_json["parent_block_hash_internal_order"])


@pytest.fixture(scope="session")
def synthetic_json() -> Any:
    return load_json("synthetic_mined_anns_v1.json")


@pytest.fixture(scope="session")
def synthetic_anns() -> list[bytes]:
    blob = load_bytes("synthetic_mined_anns_v1.bin")
    assert len(blob) == 64 * 1024
    return [blob[i : i + 1024] for i in range(0, len(blob), 1024)]


@pytest.fixture(scope="session")
def synthetic_job(generated: Any) -> mine.AnnJob:
    sj = generated["synthetic_job"]
    return mine.AnnJob(
        parent_hash=bytes.fromhex(sj["parent_block_hash_internal_order"]),
        parent_height=sj["parent_block_height"],
        work_bits=int(sj["work_bits"], 16),
        hard_nonce=sj["hard_nonce"],
    )


@pytest.fixture(scope="session")
def synthetic_prepared(synthetic_job: mine.AnnJob) -> mine.PreparedJob:
    """The synthetic job's table1 (all 8192 items), tree and lazy table2: the costly fixture."""
    return mine.prepare_job(synthetic_job, workers=WORKERS)


SLOW_ENV = "PKT_MINER_SLOW_TESTS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"slow: minutes of pure-Python hashing; run with {SLOW_ENV}=1"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"slow; set {SLOW_ENV}=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def block_vectors() -> Any:
    """block_proof_vectors.json."""
    return load_json("block_proof_vectors.json")


def ann_set(name: str) -> list[bytes]:
    blob = load_bytes(name)
    assert len(blob) % 1024 == 0
    return [blob[i : i + 1024] for i in range(0, len(blob), 1024)]
