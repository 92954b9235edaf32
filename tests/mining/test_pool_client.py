"""The pool client against the loopback pool: config polling, the job block, blkinfo caching,
backoff, cache headers; the uploader: routing, replies, overload, timeouts, stale batches."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from miner.pool.client import PoolClient
from miner.pool.protocol import PoolJob, handler_index

from .conftest import PAYTO, fast_pool_options
from .poolserver import TestPool, dead_url, wait_for
from .test_protocol import fake_ann


@pytest.fixture
def client_factory() -> Iterator[list[PoolClient]]:
    made: list[PoolClient] = []
    yield made
    for c in made:
        c.stop()


def make(made: list[PoolClient], url: str, **upload: float) -> PoolClient:
    client = PoolClient(url, PAYTO, fast_pool_options(**upload))
    made.append(client)
    return client


def test_job_is_tip_minus_mine_old(pool: TestPool, client_factory: list[PoolClient]) -> None:
    updates: list[PoolJob | None] = []
    client = make(client_factory, pool.url)
    client.on_update = lambda c: updates.append(c.job)
    client.start()
    assert wait_for(lambda: client.job is not None, 5)
    job = client.job
    assert job is not None
    want = pool.job_block()
    assert job.parent_height == want.height == pool.tip.height - 2
    assert job.parent_hash == bytes.fromhex(want.hash)[::-1]
    assert job.target_bits == pool.ann_target and job.signing_key == bytes(32)
    assert client.uploader.handler_urls == [pool.handler_url(0), pool.handler_url(1)]
    # history: the tip and 6 blocks behind it, each fetched once
    assert len(pool.blkinfo_requests) == 7 and max(pool.blkinfo_requests.values()) == 1
    status = client.status()
    assert status.state == "up" and status.height == pool.tip.height

    pool.advance()
    assert wait_for(
        lambda: client.job is not None and client.job.parent_height == want.height + 1, 3
    )
    assert len(pool.blkinfo_requests) == 8  # only the new tip was fetched
    assert max(pool.blkinfo_requests.values()) == 1
    assert updates and updates[-1] == client.job
    # unchanged config: conditional requests answered 304
    assert wait_for(lambda: pool.not_modified >= 2, 3)


def test_mine_old_override_and_sig_key(client_factory: list[PoolClient]) -> None:
    with TestPool(mine_old=1, sig_key=b"\x42" * 32) as pool:
        opts = fast_pool_options()
        opts.mine_old_anns = 0
        client = PoolClient(pool.url, PAYTO, opts)
        client_factory.append(client)
        client.start()
        assert wait_for(lambda: client.job is not None, 5)
        job = client.job
        assert job is not None
        assert job.parent_height == pool.tip.height and job.signing_key == b"\x42" * 32
        # anns signed with another key would be refused here
        other = PoolJob(job.parent_hash, job.parent_height, job.target_bits, b"\x01" * 32)
        assert client.incompatibility(other) == "the mined signing key is not this pool's"
        harder = PoolJob(job.parent_hash, job.parent_height, job.target_bits - 1, bytes(32))
        assert client.incompatibility(harder) is None
        assert (
            client.incompatibility(
                PoolJob(job.parent_hash, job.parent_height, 0x20000001 + job.target_bits, bytes(32))
            )
            == "the mined target is easier than this pool's annTarget"
        )
        assert (
            client.incompatibility(
                PoolJob(b"\x00" * 32, job.parent_height, job.target_bits, bytes(32))
            )
            == "this pool does not track the mined parent block"
        )


@pytest.mark.parametrize("mode", ["error", "garbage", "missing-tip"])
def test_failing_config_backs_off_and_recovers(
    pool: TestPool, client_factory: list[PoolClient], mode: str
) -> None:
    pool.config_mode = mode
    client = make(client_factory, pool.url)
    client.start()
    assert wait_for(lambda: client.failures >= 3, 5)
    status = client.status()
    assert status.state == "down" and status.retry_in is not None and status.last_error
    # backoff: 0.1, 0.2, 0.4, 0.4 ... so far fewer requests than a 0.1 s poll would make
    t0, n0 = time.monotonic(), pool.config_requests
    time.sleep(1.2)
    rate = (pool.config_requests - n0) / (time.monotonic() - t0)
    assert rate < 5
    pool.config_mode = "ok"
    assert wait_for(lambda: client.state == "up" and client.job is not None, 3)
    assert client.failures == 0


def test_dead_pool_is_down(client_factory: list[PoolClient]) -> None:
    client = make(client_factory, dead_url())
    client.start()
    assert wait_for(lambda: client.failures >= 2, 5)
    assert client.status().state == "down" and client.last_error == "cannot connect"
    assert client.job is None


def test_cache_control_max_age_is_honoured(client_factory: list[PoolClient]) -> None:
    with TestPool(cache_control="max-age=1, stale-while-revalidate=2") as pool:
        client = make(client_factory, pool.url)
        client.start()
        time.sleep(2.5)
        # poll_interval 0.1 s would make ~25 requests; max-age=1 allows ~3
        assert 2 <= pool.config_requests <= 4


# --- the uploader ----------------------------------------------------------------------------------


def started(made: list[PoolClient], pool: TestPool, **upload: float) -> tuple[PoolClient, PoolJob]:
    client = make(made, pool.url, **upload)
    client.start()
    assert wait_for(lambda: client.job is not None, 5)
    job = client.job
    assert job is not None
    client.uploader.set_job(job)
    return client, job


def anns_for(job: PoolJob, n: int, first: int = 0) -> list[bytes]:
    return [fake_ann(first + i, job.parent_height) for i in range(n)]


def test_upload_routes_and_counts(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False, handlers=3) as pool:
        client, job = started(client_factory, pool)
        anns = anns_for(job, 200)
        client.uploader.add(anns, job)
        assert wait_for(lambda: client.uploader.counters.accepted == 200, 5)
        c = client.uploader.counters
        assert (c.submitted, c.rejected, c.lost, c.inflight) == (200, 0, 0, 0)
        assert c.bytes_sent == 200 * 1024 and c.goodrate == 1.0
        assert pool.invalid == {} and pool.accepted == 200
        per_handler = {i: 0 for i in range(3)}
        for sub in pool.submissions:
            per_handler[sub.handler] += sub.count
            assert sub.headers["x-pc-payto"] == PAYTO
            assert sub.headers["x-pc-worknum"] == str(job.parent_height + 1)
            assert sub.headers["x-pc-sver"] == "1" and sub.headers["x-pc-annver"] == "1"
            assert "x-pc-sid" in sub.headers
        expected = {i: 0 for i in range(3)}
        for ann in anns:
            index = handler_index(ann, 3)
            assert index is not None
            expected[index] += 1
        assert per_handler == expected
        # the same anns again: duplicates, counted rejected as packetcrypt_rs does
        client.uploader.add(anns[:10], job)
        assert wait_for(lambda: client.uploader.counters.dup == 10, 5)
        assert client.uploader.counters.rejected == 10


def test_full_batches_go_at_once(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False, handlers=1) as pool:
        client, job = started(client_factory, pool, batch_seconds=60)
        client.uploader.add(anns_for(job, 1500), job)
        assert wait_for(lambda: pool.accepted == 1024, 5)  # one full batch, the rest waits
        time.sleep(0.3)
        assert pool.accepted == 1024 and pool.submissions[0].count == 1024
        client.uploader.flush_due(force=True)
        assert wait_for(lambda: pool.accepted == 1500, 5)


@pytest.mark.parametrize(
    ("mode", "field"),
    [("overload", "overload"), ("error", "lost"), ("garbage", "lost")],
)
def test_handler_failures(client_factory: list[PoolClient], mode: str, field: str) -> None:
    with TestPool(validate=False) as pool:
        client, job = started(client_factory, pool)
        pool.submit_mode = mode
        client.uploader.add(anns_for(job, 50), job)
        assert wait_for(lambda: getattr(client.uploader.counters, field) == 50, 5)
        c = client.uploader.counters
        assert c.accepted == 0 and c.rejected == 0 and c.goodrate == 0.0
        pool.submit_mode = "ok"
        client.uploader.add(anns_for(job, 50, first=100), job)
        assert wait_for(lambda: client.uploader.counters.accepted == 50, 5)
        assert client.uploader.counters.goodrate == 0.5


def test_rejected_batch(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False) as pool:
        client, job = started(client_factory, pool)
        wrong = PoolJob(job.parent_hash, job.parent_height - 20, job.target_bits)
        client.uploader.set_job(wrong)
        client.uploader.add(anns_for(wrong, 30), wrong)
        assert wait_for(lambda: client.uploader.counters.rejected == 30, 5)
        assert "block number out of range" in client.uploader.counters.last_error


def test_slow_handler_times_out_and_is_retried_later(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False) as pool:
        client, job = started(client_factory, pool, upload_timeout=0.3, backoff_initial=0.2)
        pool.submit_mode, pool.delay = "slow", 1.0
        client.uploader.add(anns_for(job, 20), job)
        assert wait_for(lambda: client.uploader.counters.lost == 20, 5)
        assert "timed out" in client.uploader.counters.last_error
        pool.submit_mode = "ok"
        client.uploader.add(anns_for(job, 20, first=50), job)
        assert wait_for(lambda: client.uploader.counters.accepted == 20, 5)


def test_stale_anns_are_dropped_not_sent(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False) as pool:
        client, job = started(client_factory, pool, batch_seconds=60)
        client.uploader.add(anns_for(job, 40), job)
        newer = PoolJob(b"\x07" * 32, job.parent_height + 1, job.target_bits)
        client.uploader.set_job(newer)
        client.uploader.add(anns_for(job, 5, first=500), job)  # late anns of the old job
        client.uploader.flush_due(force=True)
        time.sleep(0.3)
        assert client.uploader.counters.stale == 45 and pool.submissions == []


def test_queue_overflow_drops_oldest(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False, handlers=1) as pool:
        pool.submit_mode, pool.delay = "slow", 0.5
        opts = fast_pool_options(uploaders=1, batch_seconds=0)
        opts.upload.max_queued_batches = 2
        client = PoolClient(pool.url, PAYTO, opts)
        client_factory.append(client)
        client.start()
        assert wait_for(lambda: client.job is not None, 5)
        job = client.job
        assert job is not None
        client.uploader.set_job(job)
        for i in range(6):
            client.uploader.add(anns_for(job, 1, first=i), job)
            client.uploader.flush_due(force=True)
        c = client.uploader.counters
        assert c.lost >= 2 and "overflow" in c.last_error


def test_watchdog_restarts_a_stalled_config_poller(
    pool: TestPool, client_factory: list[PoolClient]
) -> None:
    pool.config_mode, pool.delay = "slow", 1.0
    client = make(client_factory, pool.url)
    client.start()
    time.sleep(0.4)  # the poller waits for the slow answer
    assert client.check(stall_after=5.0) == []
    reasons = client.check(stall_after=0.2)
    assert len(reasons) == 1 and "connection restarted" in reasons[0]
    pool.config_mode = "ok"
    assert wait_for(lambda: client.job is not None, 5)


def test_stop_uploads_what_was_mined_just_before(client_factory: list[PoolClient]) -> None:
    with TestPool(validate=False, handlers=2) as pool:
        client, job = started(client_factory, pool, batch_seconds=60)
        client.uploader.add(anns_for(job, 30), job)  # an open batch, not due for a minute
        time.sleep(0.2)
        assert pool.accepted == 0
        client.stop(drain_until=time.monotonic() + 5)
        assert pool.accepted == 30 and client.uploader.counters.unsent == 0


def test_stop_without_drain_or_past_the_deadline_counts_unsent(
    client_factory: list[PoolClient],
) -> None:
    with TestPool(validate=False, handlers=1) as pool:
        client, job = started(client_factory, pool, batch_seconds=60)
        client.uploader.add(anns_for(job, 12), job)
        client.stop()
        assert client.uploader.counters.unsent == 12 and pool.accepted == 0
    with TestPool(validate=False, handlers=1) as pool:
        pool.submit_mode, pool.delay = "slow", 2.0
        client, job = started(client_factory, pool, batch_seconds=60)
        client.uploader.add(anns_for(job, 7), job)
        start = time.monotonic()
        client.stop(drain_until=start + 0.3)  # the pool answers too late: the stop does not wait
        assert time.monotonic() - start < 1.5
