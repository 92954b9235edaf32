"""The light client against real P2P test peers on 127.0.0.1."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spv.messages import NODE_COMPACT_FILTERS
from spv.node import SpvNode
from spv.params import REGTEST
from spv.script import p2wpkh_script
from spv.tx import OutPoint, Transaction, TxIn, TxOut
from tests.support.app_cli import run_app
from tests.support.recording_watcher import RecordingWatcher
from tests.support.regtest_chain import ANYONE_CAN_SPEND, RegtestChain
from tests.support.test_peer import Misbehaviour, TestPeer

ROOT = Path(__file__).resolve().parent.parent
WALLET_SCRIPT = p2wpkh_script(b"\x42" * 20)


@pytest.fixture(scope="module")
def chain() -> RegtestChain:
    c = RegtestChain()
    c.mine_many(2500)
    c.mine(pay_to=WALLET_SCRIPT)  # 2501 pays the wallet
    c.mine_many(499)
    return c


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 120))


def node_for(tmp_path: Path, peers: list[TestPeer], **kw) -> SpvNode:  # type: ignore[no-untyped-def]
    kw.setdefault("peer_timeout", 5.0)
    return SpvNode(REGTEST, tmp_path, peers=[("127.0.0.1", p.port) for p in peers], **kw)


def test_full_sync_matches_wallet_transactions(tmp_path: Path, chain: RegtestChain) -> None:
    watcher = RecordingWatcher([WALLET_SCRIPT])
    progress = []
    with TestPeer(chain) as peer:

        async def go() -> None:
            async with node_for(
                tmp_path, [peer], watcher=watcher, on_progress=progress.append
            ) as node:
                final = await node.sync()
                assert final.stage == "synced"
                assert node.chain.height == 3000 and node.chain.tip_hash == chain.tip.hash
                assert node.filter_headers.tip_height == 3000
                assert node.filter_headers.get(3000) == chain.tip.filter_header
                assert node.scan_height == 3000

        run(go())
    coinbase = chain.blocks[2501].block.transactions[0]
    assert watcher.seen == {coinbase.txid: 2501}
    stages = {p.stage for p in progress}
    assert {"headers", "filter headers", "filters", "blocks", "synced"} <= stages
    assert peer.user_agents[0].startswith("/pkt-wallet:")
    assert peer.requests.get("block") is None  # the client only asks with getdata
    assert peer.requests["getdata"] >= 1


def test_new_blocks_and_reorg_of_depth_1_and_10(tmp_path: Path, chain: RegtestChain) -> None:
    watcher = RecordingWatcher([WALLET_SCRIPT])
    base = chain.fork(2995)
    with TestPeer(base) as peer:

        async def go() -> None:
            async with node_for(tmp_path, [peer], watcher=watcher) as node:
                await node.sync()
                assert node.chain.height == 2995
                for depth in (1, 10):
                    fork = base.fork(base.height - depth)
                    fork.mine(pay_to=WALLET_SCRIPT, tag=b"d%d" % depth)
                    for _ in range(depth):
                        fork.mine(tag=b"d%d" % depth)
                    peer.set_chain(fork)  # announced with a headers message (sendheaders)
                    await node.sync()
                    assert node.chain.tip_hash == fork.tip.hash
                    assert node.filter_headers.get(node.chain.height) == fork.tip.filter_header
                    paid = fork.blocks[base.height - depth + 1].block.transactions[0].txid
                    assert watcher.seen.get(paid) == base.height - depth + 1
                    base_height = base.height
                    assert watcher.rewound[-1] == base_height - depth or depth == 1
                    base.__dict__.update(fork.__dict__)

        run(go())


def test_peers_disagreeing_on_filter_headers_ban_the_liar(
    tmp_path: Path, chain: RegtestChain
) -> None:
    honest = TestPeer(chain)
    liar = TestPeer(chain, misbehaviour=Misbehaviour(lie_filters_from=1500))
    with honest, liar:

        async def go() -> None:
            async with node_for(
                tmp_path, [honest, liar], watcher=RecordingWatcher([WALLET_SCRIPT])
            ) as node:
                await node.wait_for_peers(2)
                await node.sync()
                assert node.filter_headers.get(3000) == chain.tip.filter_header
                assert node.addrbook.is_banned("127.0.0.1", liar.port)
                assert not node.addrbook.is_banned("127.0.0.1", honest.port)
                assert (
                    "false filter for block 1500"
                    in node.addrbook.get("127.0.0.1", liar.port).ban_reason
                )

        run(go())


def test_a_stalling_peer_is_skipped(tmp_path: Path, chain: RegtestChain) -> None:
    staller = TestPeer(
        chain,
        misbehaviour=Misbehaviour(stall={"getheaders", "getcfheaders", "getcfilters", "getdata"}),
    )
    good = TestPeer(chain)
    with staller, good:

        async def go() -> None:
            async with node_for(tmp_path, [staller, good], peer_timeout=1.0) as node:
                await node.wait_for_peers(2)
                await node.sync(timeout=60)
                assert node.chain.height == 3000
                assert not node.addrbook.is_banned("127.0.0.1", staller.port)  # silence is no crime

        run(go())


def test_bad_header_and_oversize_message_get_peers_banned(
    tmp_path: Path, chain: RegtestChain
) -> None:
    bad = TestPeer(chain, misbehaviour=Misbehaviour(bad_header_at=1200))
    huge = TestPeer(chain, misbehaviour=Misbehaviour(oversize_after_handshake=True))
    good = TestPeer(chain)
    with bad, huge, good:

        async def go() -> None:
            async with node_for(tmp_path, [bad, huge, good]) as node:
                await node.wait_for_peers(2)
                await node.sync(timeout=60)
                assert node.chain.tip_hash == chain.tip.hash
                await asyncio.sleep(0.3)
                assert node.addrbook.is_banned("127.0.0.1", huge.port)

        run(go())
    # the bad-header peer is banned if it was asked first; either way its header never landed
    assert bad.connections >= 1


def test_broadcast_reaches_the_peer_and_is_relayed(tmp_path: Path, chain: RegtestChain) -> None:
    spend_from = OutPoint(chain.blocks[10].block.transactions[0].txid, 0)
    value = chain.value_of(spend_from)
    tx = Transaction(
        1, (TxIn(spend_from, b"", 0xFFFFFFFF),), (TxOut(value - 1000, ANYONE_CAN_SPEND),), 0
    )
    a, b = TestPeer(chain), TestPeer(chain)
    with a, b:

        async def go() -> None:
            async with node_for(tmp_path, [a, b], target_peers=2) as node:
                await node.wait_for_peers(2)
                result = await node.broadcast(tx.serialize(), wait=3)
                assert sorted(result.requested_by) == sorted([a.address, b.address])
                assert result.accepted and not result.rejected
                bad = Transaction(
                    1, (TxIn(OutPoint(b"\x07" * 32, 0), b"", 0),), (TxOut(1, b"\x51"),), 0
                )
                rejected = await node.broadcast(bad.serialize(), wait=3)
                assert rejected.rejected and "missing inputs" in rejected.rejected[0][1]

        run(go())
    assert [t.txid for t in a.received_txs] == [tx.txid]


def test_sync_cli_until_synced_and_chain_info(tmp_path: Path, chain: RegtestChain) -> None:
    with TestPeer(chain) as peer:
        out = _cli(tmp_path, "sync", "--peer", peer.address, "--until-synced", "--timeout", "60")
        assert out.returncode == 0, out.stderr
        assert f"synced to height 3000\ntip {chain.tip.block.header.hash_hex}" in out.stdout
    info = _cli(tmp_path, "--json", "chain-info")
    assert '"height": 3000' in info.stdout and '"filter_header_height": 3000' in info.stdout
    dead = _cli(tmp_path, "sync", "--peer", "127.0.0.1:1", "--until-synced", "--timeout", "3")
    assert dead.returncode == 1 and dead.stderr.startswith("error: no peer reachable")


def _cli(datadir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_app(datadir, *args)


def test_sigkill_mid_sync_resumes_without_corruption(tmp_path: Path) -> None:
    long_chain = RegtestChain()
    long_chain.mine_many(6000)
    with TestPeer(long_chain, misbehaviour=Misbehaviour(delay=0.05)) as peer:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "--network",
                "regtest",
                "--datadir",
                str(tmp_path),
                "sync",
                "--peer",
                peer.address,
                "--until-synced",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        data = tmp_path / "chain" / "filterheaders.dat"
        while time.monotonic() < deadline and (
            not data.exists() or data.stat().st_size < 32 * 2000
        ):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        headers = (tmp_path / "chain" / "headers.dat").stat().st_size
        assert headers > 0  # it was killed mid-sync, with data on disk
        out = _cli(tmp_path, "sync", "--peer", peer.address, "--until-synced", "--timeout", "90")
        assert out.returncode == 0, out.stderr
        assert f"synced to height 6000\ntip {long_chain.tip.block.header.hash_hex}" in out.stdout


def test_services_advertised_like_neutrino() -> None:
    from spv.peer import CLIENT_SERVICES

    assert CLIENT_SERVICES == 0x48 and CLIENT_SERVICES & NODE_COMPACT_FILTERS


def test_mainnet_parameters_genesis_and_sync_from_the_newest_checkpoint(tmp_path: Path) -> None:
    """PKT mainnet magic and rules: the real genesis block and its filter from a PKT-mode peer,
    and a header/filter sync that starts right after the real checkpoint 524288."""
    from spv.bip158 import filter_header
    from spv.block import Block
    from spv.params import MAINNET
    from spv.peer import Peer
    from tests.conftest import load_vector
    from tests.support.pkt_chain import CHECKPOINT, PktChain

    g = load_vector("pkt", "genesis.json")
    chain = PktChain()
    for i in range(1200):
        chain.mine(pay_to=WALLET_SCRIPT if i == 700 else b"\x51")
    watcher = RecordingWatcher([WALLET_SCRIPT], start=CHECKPOINT.height + 1)
    with TestPeer(chain, params=MAINNET) as peer:
        # the genesis block is served in PKT layout, exactly as pktd does
        peer.blocks[MAINNET.genesis_hash] = MAINNET.genesis_block

        async def go() -> None:
            p = Peer(MAINNET, "127.0.0.1", peer.port, timeout=5)
            await p.connect()
            (raw,) = await p.get_blocks([MAINNET.genesis_hash])
            block = Block.parse(raw, has_packetcrypt=True)
            assert raw.hex() == g["block_hex"] and block.proof is not None
            block.check_merkle_root()
            await p.close()
            node = SpvNode(
                MAINNET,
                tmp_path,
                peers=[("127.0.0.1", peer.port)],
                watcher=watcher,
                peer_timeout=5,
                verify_packetcrypt_proofs=False,  # the synthetic blocks carry placeholder proofs
            )
            async with node:
                await node.sync(timeout=60)
                assert node.chain.first_height == CHECKPOINT.height + 1
                assert node.chain.height == chain.height == CHECKPOINT.height + 1200
                assert node.chain.tip_hash == chain.tip.hash
                assert node.filter_headers.get(chain.height) == chain.tip.filter_header

        run(go())
    paid = chain.blocks[700].block.transactions[0].txid
    assert watcher.seen == {paid: CHECKPOINT.height + 701}
    genesis_filter = bytes.fromhex(g["bip158_basic"]["filter_hex"])
    assert (
        filter_header(genesis_filter, bytes(32)).hex()
        == g["bip158_basic"]["filter_header_internal"]
    )


def test_a_peer_contradicting_a_checkpoint_is_banned(tmp_path: Path) -> None:
    """A chain that reaches checkpoint 524288's height with another block is refused."""
    import dataclasses

    from spv.params import MAINNET, Checkpoint
    from tests.support.pkt_chain import CHECKPOINT, PktChain

    chain = PktChain()
    for _ in range(300):
        chain.mine()
    # pretend the network has one more checkpoint, at a height this chain contradicts
    params = dataclasses.replace(MAINNET)
    with TestPeer(chain, params=params) as liar:

        async def go() -> None:
            node = SpvNode(params, tmp_path, peers=[("127.0.0.1", liar.port)], peer_timeout=3)
            object.__setattr__(
                params,
                "checkpoints",
                (*MAINNET.checkpoints, Checkpoint(CHECKPOINT.height + 100, b"\x33" * 32)),
            )
            async with node:
                await node.wait_for_peers(1)
                await node._sync_headers()
                assert node.chain.height < CHECKPOINT.height + 100
                assert node.addrbook.is_banned("127.0.0.1", liar.port)
                assert "checkpoint" in node.addrbook.get("127.0.0.1", liar.port).ban_reason

        run(go())


def test_dns_seeds_address_book_and_persistent_bans(tmp_path: Path, chain: RegtestChain) -> None:
    """Peers found through DNS (the system resolver, on "localhost"), remembered across
    restarts; a banned peer stays banned after a restart."""
    import dataclasses

    with TestPeer(chain) as peer:
        params = dataclasses.replace(REGTEST, dns_seeds=("localhost",), default_port=peer.port)

        async def go() -> None:
            async with SpvNode(params, tmp_path, target_peers=1, peer_timeout=5) as node:
                assert node.use_dns_seeds
                await node.wait_for_peers(1, timeout=20)
                await node.sync(timeout=60)
                key = next(iter(node.peers))
                assert key.endswith(f":{peer.port}")
                node.ban(node.peers[key], "test ban")
            book = (tmp_path / "chain" / "peers.json").read_text()
            assert f'"port": {peer.port}' in book and "test ban" in book
            async with SpvNode(params, tmp_path, target_peers=1, peer_timeout=2) as again:
                assert again.addrbook.is_banned(key.rsplit(":", 1)[0].strip("[]"), peer.port)
                with pytest.raises(Exception, match="no peer reachable"):
                    await again.wait_for_peers(1, timeout=2)

        run(go())


def test_filter_headers_learned_from_a_liar_are_repaired_when_an_honest_peer_appears(
    tmp_path: Path, chain: RegtestChain
) -> None:
    liar = TestPeer(chain, misbehaviour=Misbehaviour(lie_filters_from=1500))
    honest = TestPeer(chain)
    with liar, honest:

        async def alone_with_the_liar() -> None:
            async with node_for(tmp_path, [liar]) as node:
                await node.sync()
                assert node.filter_headers.get(3000) != chain.tip.filter_header

        run(alone_with_the_liar())

        async def honest_arrives() -> None:
            async with node_for(tmp_path, [liar, honest]) as node:
                await node.wait_for_peers(2)
                await node.sync()
                assert node.addrbook.is_banned("127.0.0.1", liar.port)
                assert node.filter_headers.get(3000) == chain.tip.filter_header
                assert node.filter_headers.get(1499) == chain.blocks[1499].filter_header

        run(honest_arrives())


def test_a_wallet_older_than_the_store_gets_headers_from_an_earlier_checkpoint(
    tmp_path: Path, chain: RegtestChain
) -> None:
    """Headers start at the newest checkpoint; a restored wallet whose birthday is older makes
    the store start again at an older checkpoint, and its old payment is found."""
    import dataclasses

    from spv.params import Checkpoint

    params = dataclasses.replace(
        REGTEST,
        checkpoints=(
            Checkpoint(2400, chain.blocks[2400].hash),
            Checkpoint(2600, chain.blocks[2600].hash),
        ),
    )
    watcher = RecordingWatcher([WALLET_SCRIPT], start=2450)  # paid at 2501
    with TestPeer(chain) as peer:

        async def go() -> None:
            async with SpvNode(
                params, tmp_path, peers=[("127.0.0.1", peer.port)], peer_timeout=5
            ) as node:
                await node.sync()
                assert node.chain.first_height == 2601 and node.chain.height == 3000
            async with SpvNode(
                params,
                tmp_path,
                peers=[("127.0.0.1", peer.port)],
                peer_timeout=5,
                watcher=watcher,
                history_from_height=2450,
            ) as node:
                assert node.chain.rebased and node.chain.first_height == 2401
                await node.sync()
                assert node.chain.tip_hash == chain.tip.hash
                assert node.filter_headers.first_height == 2401
                assert node.filter_headers.get(3000) == chain.tip.filter_header

        run(go())
    assert watcher.seen == {chain.blocks[2501].block.transactions[0].txid: 2501}


def test_unconfirmed_payments_announced_by_peers_reach_the_wallet(
    tmp_path: Path, chain: RegtestChain
) -> None:
    from spv.peer import Peer

    spend = OutPoint(chain.blocks[12].block.transactions[0].txid, 0)
    pay = Transaction(
        1, (TxIn(spend, b"", 0xFFFFFFFF),), (TxOut(chain.value_of(spend) - 1000, WALLET_SCRIPT),), 0
    )
    unrelated = Transaction(
        1,
        (TxIn(OutPoint(chain.blocks[13].block.transactions[0].txid, 0), b"", 0xFFFFFFFF),),
        (TxOut(1000, ANYONE_CAN_SPEND),),
        0,
    )
    watcher = RecordingWatcher([WALLET_SCRIPT])
    with TestPeer(chain) as peer:

        async def go() -> None:
            async with node_for(tmp_path, [peer], watcher=watcher) as node:
                await node.sync()
                sender = Peer(REGTEST, "127.0.0.1", peer.port, timeout=5)
                await sender.connect()
                for tx in (unrelated, pay):
                    await sender.announce_transaction(tx.txid)
                    await sender.send_raw_transaction(tx.serialize())
                for _ in range(100):
                    if watcher.mempool:
                        break
                    await asyncio.sleep(0.05)
                await sender.close()

        run(go())
    assert watcher.mempool == [pay.txid]  # the unrelated one was fetched but not passed on
