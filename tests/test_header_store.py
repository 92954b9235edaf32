"""The header store and chain: validation, most-work reorgs, and crash recovery."""

import dataclasses
from pathlib import Path

import pytest

from spv.chain import HeaderChain, HeaderRejected
from spv.headerstore import HeaderStore, StoreAnchor, StoreError
from spv.params import MAINNET, REGTEST, Checkpoint
from tests.support.regtest_chain import RegtestChain


@pytest.fixture(scope="module")
def chain3000() -> RegtestChain:
    c = RegtestChain()
    c.mine_many(3000)
    return c


def _sync(hc: HeaderChain, c: RegtestChain, first: int, last: int) -> None:
    for start in range(first, last + 1, 2000):
        hc.connect(c.headers_bytes(start, min(start + 1999, last)))
    hc.flush()


def test_sync_reopen_and_locator(tmp_path: Path, chain3000: RegtestChain) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    assert hc.height == 0 and hc.tip_hash == REGTEST.genesis_hash
    _sync(hc, chain3000, 1, 3000)
    assert hc.height == 3000 and hc.tip_hash == chain3000.tip.hash
    again = HeaderChain(REGTEST, tmp_path)
    assert again.height == 3000 and again.tip_hash == chain3000.tip.hash
    loc = again.locator()
    assert loc[0] == chain3000.tip.hash and loc[-1] == REGTEST.genesis_hash
    assert loc[:10] == [chain3000.blocks[3000 - i].hash for i in range(10)]
    assert len(loc) < 30


def test_hashes_between_reads_a_range_like_hash_at(tmp_path: Path, chain3000: RegtestChain) -> None:
    _sync(HeaderChain(REGTEST, tmp_path), chain3000, 1, 3000)
    hc = HeaderChain(REGTEST, tmp_path)  # reopened: old heights come from the file
    for first, last in [(0, 3000), (1, 10), (2990, 3000), (1000, 2999), (0, 0), (5, 4)]:
        expected = [chain3000.blocks[h].hash for h in range(first, last + 1)]
        assert (
            hc.hashes_between(first, last)
            == expected
            == [hc.hash_at(h) for h in range(first, last + 1)]
        )


@pytest.mark.parametrize("depth", [1, 10])
def test_reorg_to_more_work(tmp_path: Path, chain3000: RegtestChain, depth: int) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 3000)
    fork = chain3000.fork(3000 - depth)
    for _ in range(depth + 1):
        fork.mine(tag=b"fork")
    result = hc.connect(fork.headers_bytes(3001 - depth, 3001))
    assert result.reorged_from == 3001 - depth and result.added == depth + 1
    assert hc.tip_hash == fork.tip.hash and hc.height == 3001
    assert HeaderChain(REGTEST, tmp_path).tip_hash == fork.tip.hash


def test_equal_work_fork_does_not_switch(tmp_path: Path, chain3000: RegtestChain) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 3000)
    fork = chain3000.fork(2995)
    for _ in range(5):
        fork.mine(tag=b"same-length")
    result = hc.connect(fork.headers_bytes(2996, 3000))
    assert not result.better and hc.tip_hash == chain3000.tip.hash


def test_bad_headers_are_rejected_and_nothing_is_stored(
    tmp_path: Path, chain3000: RegtestChain
) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 100)
    raw = bytearray(chain3000.headers_bytes(101, 110))
    raw[5 * 80 + 72 : 5 * 80 + 76] = (0x1D00FFFF).to_bytes(4, "little")  # wrong bits at 106
    with pytest.raises(HeaderRejected, match="height 106"):
        hc.connect(bytes(raw))
    assert hc.height == 100
    unlinked = chain3000.headers_bytes(101, 101) + chain3000.headers_bytes(103, 103)
    with pytest.raises(HeaderRejected, match="does not link"):
        hc.connect(unlinked)
    assert hc.height == 100
    future = RegtestChain()
    future.mine(timestamp=int(hc.clock()) + 3 * 3600)
    with pytest.raises(HeaderRejected, match="future") as info:
        HeaderChain(REGTEST, tmp_path / "other").connect(future.headers_bytes(1, 1))
    assert not info.value.misbehaving
    hc.connect(chain3000.headers_bytes(101, 110))
    assert hc.height == 110


def test_checkpoint_mismatch_is_rejected(tmp_path: Path, chain3000: RegtestChain) -> None:
    wrong = Checkpoint(50, b"\x11" * 32)
    params = dataclasses.replace(REGTEST)
    hc = HeaderChain(params, tmp_path)  # anchored at the genesis block
    object.__setattr__(params, "checkpoints", (wrong,))  # a checkpoint the sync must meet
    with pytest.raises(HeaderRejected, match="checkpoint 50"):
        hc.connect(chain3000.headers_bytes(1, 100))
    assert hc.height == 0


def test_mainnet_store_starts_after_the_last_checkpoint(tmp_path: Path) -> None:
    hc = HeaderChain(MAINNET, tmp_path)
    last = MAINNET.checkpoints[-1]
    assert hc.height == last.height and hc.tip_hash == last.block_hash
    assert hc.locator() == [last.block_hash]
    assert hc.next_checkpoint_hash() is None


def test_torn_tail_and_uncommitted_records_are_dropped(
    tmp_path: Path, chain3000: RegtestChain
) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 500)
    data = tmp_path / "headers.dat"
    with open(data, "ab") as fh:  # a crash after appending 1.5 records, before the index
        fh.write(chain3000.headers_bytes(501, 502)[:120])
    reopened = HeaderChain(REGTEST, tmp_path)
    assert reopened.height == 500 and data.stat().st_size == 501 * 80
    reopened.connect(chain3000.headers_bytes(501, 600))
    assert reopened.height == 600


def test_interrupted_reorg_keeps_a_linked_chain(tmp_path: Path, chain3000: RegtestChain) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 1000)
    fork = chain3000.fork(990)
    for _ in range(5):
        fork.mine(tag=b"crash")
    data = tmp_path / "headers.dat"
    with open(data, "r+b") as fh:  # truncate and half-write the new branch, then "crash"
        fh.truncate(991 * 80)
        fh.seek(991 * 80)
        fh.write(fork.headers_bytes(991, 993))
    reopened = HeaderChain(REGTEST, tmp_path)
    assert reopened.height == 993 and reopened.tip_hash == fork.blocks[993].hash
    reopened.connect(chain3000.headers_bytes(991, 1000))  # the old branch has more work
    assert reopened.tip_hash == chain3000.blocks[1000].hash


def test_unflushed_appends_are_lost_but_the_store_stays_consistent(
    tmp_path: Path, chain3000: RegtestChain
) -> None:
    hc = HeaderChain(REGTEST, tmp_path)
    _sync(hc, chain3000, 1, 100)
    hc.connect(chain3000.headers_bytes(101, 200))  # written, not yet committed
    reopened = HeaderChain(REGTEST, tmp_path)  # as after a crash
    assert reopened.height in (100, 200)
    assert reopened.tip_hash == chain3000.blocks[reopened.height].hash


def test_store_refuses_another_network(tmp_path: Path) -> None:
    HeaderStore(tmp_path, "regtest", StoreAnchor(0, b"\x00" * 32))
    with pytest.raises(StoreError, match="regtest"):
        HeaderStore(tmp_path, "mainnet", StoreAnchor(0, b"\x00" * 32))


def test_history_from_picks_an_older_checkpoint_and_rebases_the_store(tmp_path: Path) -> None:
    from spv.chain import anchor_for, estimate_height_below

    assert anchor_for(MAINNET).first_height == 524289
    assert anchor_for(MAINNET, 400_000).first_height == 393217  # 48 * 8192 + 1
    assert anchor_for(MAINNET, 8191).first_height == 0  # before the first checkpoint: genesis
    newest = HeaderChain(MAINNET, tmp_path)
    assert newest.first_height == 524289 and not newest.rebased
    older = HeaderChain(MAINNET, tmp_path, history_from=400_000)
    assert older.rebased and older.first_height == 393217 and older.height == 393216
    again = HeaderChain(MAINNET, tmp_path)  # a store reaching further back is kept
    assert again.first_height == 393217 and not again.rebased
    # The estimate never runs ahead of the real chain: block 369372 was mined at 1587735837.
    assert estimate_height_below(MAINNET, 1587735837) < 369372
    assert estimate_height_below(MAINNET, 1566269808) == 0
    assert estimate_height_below(REGTEST, 2_000_000_000) == 0
