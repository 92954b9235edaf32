"""The light client against hostile peers on 127.0.0.1 (issue 16): garbage, bad checksums,
wrong magic, disconnects at every stage, slow drip, headers that connect to nothing, oversize
counts, the wrong block, a lie about the height. Each hostile peer alone, and listed first
next to one honest peer: the hostile one is banned (invalid data) or dropped (silence,
disconnects, lies about its height), and the sync finishes from the honest one.

A frozen event loop cannot even fire its own timeouts, so every sync runs in a guarded thread
(tests/support/guard.py) that fails the test instead of hanging it."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from spv.node import NoPeersError, SpvNode, SyncTimeout
from spv.params import REGTEST
from spv.script import p2wpkh_script
from tests.support.app_cli import run_app
from tests.support.guard import run_guarded
from tests.support.recording_watcher import RecordingWatcher
from tests.support.regtest_chain import RegtestChain
from tests.support.test_peer import Fault, Misbehaviour, TestPeer

WALLET_SCRIPT = p2wpkh_script(b"\x17" * 20)
PAID_AT = (300, 700, *range(995, 1006), 1100)  # matched blocks in both filter batches
PEER_TIMEOUT = 2.0
ALONE_TIMEOUT = 6.0

BANNED, DROPPED = "banned", "dropped"


@dataclass(frozen=True)
class Case:
    stage: str  # what the client was doing
    command: str  # the request the hostile peer answers badly
    fault: Fault
    outcome: str  # BANNED or DROPPED

    @property
    def id(self) -> str:
        return f"{self.fault.value}-at-{self.stage}".replace(" ", "-")


FAULTS = {  # (stage, the request answered badly): [(fault, what the client must do)]
    ("handshake", "version"): [
        (Fault.GARBAGE, BANNED),
        (Fault.BAD_CHECKSUM, BANNED),
        (Fault.WRONG_MAGIC, BANNED),
        (Fault.DISCONNECT, DROPPED),
        (Fault.DRIP, DROPPED),
    ],
    ("headers", "getheaders"): [
        (Fault.GARBAGE, BANNED),
        (Fault.BAD_CHECKSUM, BANNED),
        (Fault.WRONG_MAGIC, BANNED),
        (Fault.DISCONNECT, DROPPED),
        (Fault.DRIP, DROPPED),
        (Fault.OVERSIZE_COUNT, BANNED),
        (Fault.UNCONNECTED_HEADERS, BANNED),
    ],
    ("cfheaders", "getcfheaders"): [
        (Fault.GARBAGE, BANNED),
        (Fault.DISCONNECT, DROPPED),
        (Fault.OVERSIZE_COUNT, BANNED),
    ],
    ("cfilters", "getcfilters"): [
        (Fault.GARBAGE, BANNED),
        (Fault.BAD_CHECKSUM, BANNED),
        (Fault.DISCONNECT, DROPPED),
        (Fault.OVERSIZE_COUNT, BANNED),
    ],
    ("blocks", "getdata"): [
        (Fault.GARBAGE, BANNED),
        (Fault.WRONG_MAGIC, BANNED),
        (Fault.DISCONNECT, DROPPED),
        (Fault.DRIP, DROPPED),
        (Fault.OVERSIZE_COUNT, BANNED),
        (Fault.WRONG_BLOCK, BANNED),
    ],
}
CASES = [
    Case(stage, command, fault, outcome)
    for (stage, command), faults in FAULTS.items()
    for fault, outcome in faults
]


@pytest.fixture(scope="module")
def chain() -> RegtestChain:
    c = RegtestChain()
    for height in range(1, 1101):
        c.mine(pay_to=WALLET_SCRIPT if height in PAID_AT else b"\x51")
    return c


def node_for(datadir: Path, peers: list[TestPeer], watcher: RecordingWatcher) -> SpvNode:
    return SpvNode(
        REGTEST,
        datadir,
        peers=[("127.0.0.1", p.port) for p in peers],
        watcher=watcher,
        peer_timeout=PEER_TIMEOUT,
    )


def hostile_peer(chain: RegtestChain, case: Case) -> TestPeer:
    return TestPeer(chain, misbehaviour=Misbehaviour(faults={case.command: case.fault}))


async def eventually_punished(node: SpvNode, peer: TestPeer, outcome: str) -> None:
    """For a peer whose handshake fails: the honest sync may end before that failure."""
    for _ in range(int(PEER_TIMEOUT * 4 / 0.5)):
        if peer.address not in node.peers and (
            node.addrbook.is_banned("127.0.0.1", peer.port)
            or any(a == peer.address for a, _ in node.peer_set.recent_drops)
        ):
            break
        await node.peer_set.wait_for_change(0.5)
    assert_punished(node, peer, outcome)


def assert_punished(node: SpvNode, peer: TestPeer, outcome: str) -> None:
    book = node.addrbook
    banned = book.is_banned("127.0.0.1", peer.port)
    drops = [reason for address, reason in node.peer_set.recent_drops if address == peer.address]
    if outcome == BANNED:
        assert banned, f"not banned; dropped for {drops}"
    else:
        assert not banned, book.get("127.0.0.1", peer.port).ban_reason
        assert drops, "the peer was neither banned nor dropped"
    assert peer.address not in node.peers


def assert_synced(node: SpvNode, chain: RegtestChain, watcher: RecordingWatcher) -> None:
    assert node.chain.tip_hash == chain.tip.hash
    assert node.filter_headers.get(chain.height) == chain.tip.filter_header
    assert node.scan_height == chain.height
    paid = {chain.blocks[h].block.transactions[0].txid: h for h in PAID_AT}
    assert watcher.seen == paid
    assert watcher.delivered == sorted(PAID_AT)  # each matched block once, in height order


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_peer_listed_first_next_to_an_honest_one(
    tmp_path: Path, chain: RegtestChain, case: Case
) -> None:
    hostile, honest = hostile_peer(chain, case), TestPeer(chain)
    watcher = RecordingWatcher([WALLET_SCRIPT])
    with hostile, honest:

        async def go() -> None:
            async with node_for(tmp_path, [hostile, honest], watcher) as node:
                # both connected first (the hostile one is then asked first: listed first),
                # except when the hostile one never finishes its handshake
                await node.wait_for_peers(1 if case.stage == "handshake" else 2, timeout=20)
                await node.sync(timeout=60)
                assert_synced(node, chain, watcher)
                assert hostile.faults_done.get(case.command, 0) >= 1, "never asked"
                await eventually_punished(node, hostile, case.outcome)

        run_guarded(go)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_peer_alone_ends_the_sync_with_an_error(
    tmp_path: Path, chain: RegtestChain, case: Case
) -> None:
    hostile = hostile_peer(chain, case)
    watcher = RecordingWatcher([WALLET_SCRIPT])
    with hostile:

        async def go() -> None:
            async with node_for(tmp_path, [hostile], watcher) as node:
                with pytest.raises((NoPeersError, SyncTimeout)):
                    await node.sync(timeout=ALONE_TIMEOUT)
                assert hostile.faults_done.get(case.command, 0) >= 1
                await eventually_punished(node, hostile, case.outcome)
                assert node.progress.stage != "synced"

        run_guarded(go)


def test_a_peer_lying_about_its_height_is_dropped(tmp_path: Path, chain: RegtestChain) -> None:
    liar = TestPeer(chain, misbehaviour=Misbehaviour(claim_height=chain.height + 5000))
    honest = TestPeer(chain)
    watcher = RecordingWatcher([WALLET_SCRIPT])
    with liar, honest:

        async def go() -> None:
            async with node_for(tmp_path, [liar, honest], watcher) as node:
                await node.wait_for_peers(2, timeout=20)
                await node.sync(timeout=60)
                assert_synced(node, chain, watcher)
                assert_punished(node, liar, DROPPED)
                assert any("claimed height 6100" in r for _, r in node.peer_set.recent_drops)

        run_guarded(go)


def test_a_height_liar_alone_cannot_make_the_sync_wait_forever(
    tmp_path: Path, chain: RegtestChain
) -> None:
    liar = TestPeer(chain, misbehaviour=Misbehaviour(claim_height=chain.height + 5000))
    with liar:

        async def go() -> None:
            async with node_for(tmp_path, [liar], RecordingWatcher([WALLET_SCRIPT])) as node:
                with pytest.raises((NoPeersError, SyncTimeout)):
                    await node.sync()  # no timeout: like the window's sync
                assert node.chain.tip_hash == chain.tip.hash  # what it served was real
                assert_punished(node, liar, DROPPED)

        run_guarded(go)


@pytest.mark.parametrize("fault", [Fault.GARBAGE, Fault.BAD_CHECKSUM, Fault.DISCONNECT])
def test_cli_sync_with_a_failing_peer_listed_first_finishes_from_the_honest_one(
    tmp_path: Path, chain: RegtestChain, fault: Fault
) -> None:
    """`pkt-wallet sync --until-synced --timeout 20` with the failing peer first on the command
    line: the honest one is slower to shake hands, so the sync starts with the failing one
    (issue 16's freeze: the loop spun and the honest handshake never completed)."""
    hostile = TestPeer(chain, misbehaviour=Misbehaviour(faults={"getheaders": fault}))
    honest = TestPeer(chain, misbehaviour=Misbehaviour(handshake_delay=0.3))
    with hostile, honest:
        args = ["sync", "--peer", hostile.address, "--peer", honest.address]
        out = run_app(tmp_path, *args, "--until-synced", "--timeout", "20")
    assert out.returncode == 0, out.stderr
    assert f"synced to height {chain.height}\ntip {chain.tip.block.header.hash_hex}" in out.stdout
    assert hostile.faults_done["getheaders"] >= 1
    book = json.loads((tmp_path / "chain" / "peers.json").read_text())
    bans = {p["port"]: p["ban_reason"] for p in book["peers"] if p["banned_until"]}
    if fault is Fault.DISCONNECT:
        assert bans == {}
    else:
        assert list(bans) == [hostile.port] and "protocol error" in bans[hostile.port]


def test_the_timeout_given_is_honoured_with_a_peer_that_never_answers(
    tmp_path: Path, chain: RegtestChain
) -> None:
    staller = TestPeer(
        chain,
        misbehaviour=Misbehaviour(stall={"getheaders", "getcfheaders", "getcfilters", "getdata"}),
    )
    with staller:

        async def go() -> None:
            async with node_for(tmp_path, [staller], RecordingWatcher([WALLET_SCRIPT])) as node:
                await node.wait_for_peers(1, timeout=20)
                with pytest.raises(SyncTimeout, match="within 1.5 s"):
                    await node.sync(timeout=1.5)

        run_guarded(go)
        for extra in (["--until-synced"], []):  # `sync` alone follows the chain until then
            out = run_app(tmp_path, "sync", "--peer", staller.address, *extra, "--timeout", "2")
            assert out.returncode == 1
            assert out.stderr.splitlines()[-1] == "error: sync did not finish within 2 s"


def test_blocks_held_by_a_slow_peer_are_asked_of_an_idle_one(
    tmp_path: Path, chain: RegtestChain
) -> None:
    """A peer dripping the blocks it was asked for, with a peer timeout far longer than the
    test may take: the blocks holding up the scan are asked of the honest peer too."""
    slow = TestPeer(chain, misbehaviour=Misbehaviour(faults={"getdata": Fault.DRIP}))
    honest = TestPeer(chain)
    watcher = RecordingWatcher([WALLET_SCRIPT])
    with slow, honest:

        async def go() -> None:
            peers = [("127.0.0.1", p.port) for p in (slow, honest)]
            node = SpvNode(REGTEST, tmp_path, peers=peers, watcher=watcher, peer_timeout=600)
            async with node:
                await node.wait_for_peers(2, timeout=20)
                await node.sync(timeout=60)
                assert_synced(node, chain, watcher)
                assert slow.faults_done["getdata"] >= 1 and honest.requests["getdata"] >= 1
                assert not node.addrbook.is_banned("127.0.0.1", slow.port)

        run_guarded(go, limit=60)
