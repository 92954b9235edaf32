"""On-chain election state from the loopback explorer, and Network Steward vote outputs."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from app.steward.errors import StewardError
from app.steward.service import StewardService
from app.steward.vote import VOTE_LIFETIME_BLOCKS, plan_vote
from spv.address import address_from_script, script_for_address
from spv.params import MAINNET, REGTEST, TESTNET
from spv.script import add_vote, split_vote

from .conftest import ServiceFactory
from .fake_servers import FakeServers

NS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
NS_SCRIPT = "0020d5c1005c0d4012d3ae2672319e7f9eb15a57516aeefabbbc062265f67e308f2b"


def test_election_state(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = make_service()
    view = svc.election(servers.explorer_url)
    assert not view.from_cache and view.error is None and view.state is not None
    s = view.state
    assert s.network_steward == NS
    assert (s.votes_against, s.votes_needed) == (68433255, 756890419284638197)
    assert [c.address for c in s.candidates] == [NS, "pkt1qeuw07385audg2dpy4px75e90efjn5symq85nwx"]
    assert s.candidates[0].votes_for == 1137612916 and s.candidates[1].votes_against == 1073741824
    assert not s.election_triggered and 0 < s.disapproval_ratio < 1e-9
    assert svc.settings()["explorer_api_url"] == servers.explorer_url  # saved once it answered
    assert svc.cached_election() == s


def test_candidate_pages_are_followed(make_service: ServiceFactory, servers: FakeServers) -> None:
    servers.candidates_page_size = 1
    state = make_service().election(servers.explorer_url).state
    assert state is not None and len(state.candidates) == 2
    assert servers.hits["/api/v1/PKT/pkt/ns/candidates/1/2"] == 1


def test_unreachable_or_broken_explorer(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = make_service()
    url = servers.explorer_url
    servers.explorer_status = 502
    view = svc.election(url)
    assert view.state is None and view.error and "HTTP 502" in view.error
    assert svc.settings()["explorer_api_url"] == "https://explorer.pkt.cash/api/v1/PKT/pkt"
    servers.explorer_status = None
    fresh = svc.election(url).state
    servers.explorer_malformed = True
    view = svc.election()
    assert view.from_cache and view.state == fresh and "sent an invalid reply" in (view.error or "")
    servers.stop()
    view = svc.election()
    assert view.from_cache and view.state == fresh
    assert view.error and "unreachable" in view.error and "connection refused" in view.error


def test_no_explorer_known_for_testnet(tmp_path: Path) -> None:
    with StewardService(tmp_path, TESTNET) as svc:
        view = svc.election()
    assert view.state is None and "no explorer API is known for testnet" in (view.error or "")


def test_vote_script_matches_the_pktd_vector(pkt_vectors: Callable[[str], Any]) -> None:
    v = pkt_vectors("tx_sighash_vote_vectors.json")["vote_scripts"]
    full = bytes.fromhex(v["p2pkh_with_vote_script"])
    parts = split_vote(full)
    assert parts is not None
    vote_for = address_from_script(bytes.fromhex(v["parsed_vote_for"]), MAINNET)
    vote_against = address_from_script(bytes.fromhex(v["parsed_vote_against"]), MAINNET)
    assert vote_against == NS
    plan = plan_vote(vote_for, vote_against, MAINNET, now=1_700_000_000.0)
    assert plan.vote_for is not None and plan.vote_for.script.hex() == v["parsed_vote_for"]
    assert plan.vote_against is not None and plan.vote_against.script.hex() == NS_SCRIPT
    assert plan.output_script(parts.base_script) == full
    assert address_from_script(parts.base_script, MAINNET) == v["extracted_address"]
    # no vote against: OP_0 in its place
    only_for = plan_vote(vote_for, None, MAINNET, now=0.0)
    assert only_for.suffix == add_vote(b"", bytes.fromhex(v["parsed_vote_for"]), None)
    assert only_for.suffix[-2:] == b"\x00\x66"
    # a vote lasts 52 epochs of 10080 one-minute blocks
    assert plan.lifetime_blocks == VOTE_LIFETIME_BLOCKS == 524160
    assert plan.expires_at == 1_700_000_000.0 + 524160 * 60


@pytest.mark.parametrize(
    ("vote_for", "against", "message"),
    [
        ("pkt1qbad", None, "invalid candidate address"),
        ("tpk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", None, "invalid candidate address"),
        ("none", None, "give a candidate"),
        (NS, "garbage", "invalid vote-against address"),
    ],
)
def test_vote_candidates_are_checked(vote_for: str, against: str | None, message: str) -> None:
    with pytest.raises(StewardError, match=message):
        plan_vote(vote_for, against, MAINNET, now=0.0)


def test_wallet_builds_the_vote_transaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`steward vote --legacy-2019` asks the wallet (Wallet.create_legacy_vote) for the
    2019-2023 OP_VOTE transaction preview."""
    from app.wallet.sync import sync_wallet
    from app.wallet.wallet import Wallet
    from spv.node import SpvNode
    from tests.support.regtest_chain import RegtestChain
    from tests.support.test_peer import TestPeer

    wallet, _ = Wallet.create(
        tmp_path, "default", REGTEST, "pw", kdf_params={"n": 1024, "r": 8, "p": 1}
    )
    chain = RegtestChain()
    chain.mine(pay_to=script_for_address(wallet.receive_address(), REGTEST))
    chain.mine_many(100)

    async def sync(peer: TestPeer) -> None:
        node = SpvNode(REGTEST, tmp_path, peers=[("127.0.0.1", peer.port)], peer_timeout=5.0)
        async with node:
            await sync_wallet(wallet, node)

    with TestPeer(chain) as peer:
        asyncio.run(asyncio.wait_for(sync(peer), 60))
    legacy = wallet.receive_address(legacy=True)
    wallet.close()

    candidate = address_from_script(bytes.fromhex("76a914" + "55" * 20 + "88ac"), REGTEST)
    assert candidate is not None
    argv = [
        "--network",
        "regtest",
        "--datadir",
        str(tmp_path),
        "steward",
        "vote",
        candidate,
        "--legacy-2019",
    ]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["wallet"] == "default" and out["vote_for"] == candidate
    coin = REGTEST.units_per_coin
    assert out["amount_to_self"] + out["fee"] == 50 * coin and 0 < out["fee"] < coin // 1000
    (tx,) = out["transactions"]
    vote_out = tx["outputs"][0]
    assert vote_out["mine"] and vote_out["address"] == legacy
    assert vote_out["script"] == script_for_address(legacy, REGTEST).hex() + out["vote_suffix"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "preview, nothing is sent" in text and "to itself" in text and "fee" in text
    assert (
        "vote again before" in text
        and f"pkt-wallet steward vote {candidate} --legacy-2019 --send" in text
    )

    # --send: the wallet syncs, signs and broadcasts; the peer checks the signatures.
    with TestPeer(chain) as peer:
        monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
        code = main(
            [
                "--network",
                "regtest",
                "--datadir",
                str(tmp_path),
                "--peer",
                f"127.0.0.1:{peer.port}",
                "steward",
                "vote",
                candidate,
                "--legacy-2019",
                "--send",
                "--yes",
                "--password-stdin",
            ]
        )
        assert code == 0, capsys.readouterr().err
        (sent,) = peer.received_txs
    assert sent.outputs[0].script.hex() == vote_out["script"]
