"""Fixtures for the one-click mining tests: a loopback pool and fast miner options."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from miner.annmine import MinerOptions
from miner.pool.client import PoolOptions
from miner.pool.upload import UploadOptions

from .poolserver import TestPool

PAYTO = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
"""A valid mainnet address (the Network Steward's)."""


def fast_pool_options(**upload: float) -> PoolOptions:
    return PoolOptions(
        poll_interval=0.1,
        request_timeout=2.0,
        connect_timeout=1.0,
        backoff_initial=0.1,
        backoff_max=0.4,
        upload=UploadOptions(
            uploaders=int(upload.pop("uploaders", 4)),
            batch_seconds=upload.pop("batch_seconds", 0.2),
            upload_timeout=upload.pop("upload_timeout", 5.0),
            connect_timeout=1.0,
            backoff_initial=upload.pop("backoff_initial", 0.1),
            backoff_max=0.4,
        ),
    )


def fast_options(**kw: object) -> MinerOptions:
    upload = kw.pop("upload", {})
    assert isinstance(upload, dict)
    opts = MinerOptions(
        threads=1,
        tick=0.05,
        stats_interval=0.5,
        history_interval=0.5,
        rate_window=2.0,
        failover_after=1.0,
        pool=fast_pool_options(**upload),
    )
    for key, value in kw.items():
        setattr(opts, key, value)
    return opts


@pytest.fixture
def pool() -> Iterator[TestPool]:
    with TestPool() as p:
        yield p
