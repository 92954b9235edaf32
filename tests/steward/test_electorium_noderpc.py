"""The full node's vote RPC against a loopback stand-in (tests/steward/fake_pktd_rpc.py)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from app.steward.electorium import TableHashVersion, count_from_node, node_winners, noderpc
from app.steward.electorium.address_list import EpochChangedError
from app.steward.electorium.noderpc import (
    NodeAnswerError,
    NodeAuthError,
    NodeCallError,
    NodeMethodMissingError,
    NodeRpcClient,
    NodeRpcError,
    NodeUnreachableError,
)
from app.steward.electorium.vote_list import build_vote_list
from spv.params import MAINNET

from .electorium_data import SAMPLE_AS_OF_BLOCK, named_address, tennessee_records
from .fake_pktd_rpc import FakePktdRpc

NASHVILLE = named_address("Nashville").encode(MAINNET)
MEMPHIS = named_address("Memphis").encode(MAINNET)


@pytest.fixture
def node() -> Iterator[FakePktdRpc]:
    fake = FakePktdRpc(
        tennessee_records(),
        results=[
            {
                "vote_close_height": SAMPLE_AS_OF_BLOCK + 1,
                "winner": NASHVILLE,
                "vote_table_hash": "ab" * 32,
            },
            {
                "vote_close_height": SAMPLE_AS_OF_BLOCK + 1 - 10080,
                "winner": "",
                "vote_table_hash": "cd" * 32,
            },
        ],
    ).start()
    yield fake
    fake.stop()


def test_count_reads_every_page_and_agrees_with_the_node(node: FakePktdRpc) -> None:
    result = count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)
    assert result.count.winner_address == NASHVILLE
    assert result.count.as_of_block == SAMPLE_AS_OF_BLOCK
    assert result.node_result is not None and result.node_result.winner == NASHVILLE
    assert result.agrees is True
    data = json.loads(json.dumps(result.as_dict()))
    assert data["node_winner"] == NASHVILLE and data["node_agrees"] is True
    assert data["next_election_block"] == 2348640
    assert result.winners is not None and result.winners.next_election_block == 2348640
    pages = [params for method, params in node.calls if method == "listaddresses"]
    assert len(pages) >= 2  # 9 voting addresses at page size 3
    assert pages[0] == ["", False, True]  # voting addresses only, as of the last epoch end
    assert all(p[0] for p in pages[1:])  # every later page continues from an address
    assert len({p[0] for p in pages}) == len(pages)
    assert result.count.entries == 9 and result.count.addresses == 9  # the bystander is not read
    assert result.count.warnings == ()  # no address came twice


def test_a_different_node_winner_is_reported(node: FakePktdRpc) -> None:
    node.results[0]["winner"] = MEMPHIS
    result = count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)
    assert result.agrees is False


def test_the_table_hash_reads_every_address(node: FakePktdRpc) -> None:
    result = count_from_node(
        node.url, node.user, node.password, MAINNET, timeout=5, table_hash=TableHashVersion.FN_CJD
    )
    first = next(p for m, p in node.calls if m == "listaddresses")
    assert first == ["", False, False]
    assert result.count.addresses == 10
    expected = build_vote_list(tennessee_records(), table_hash=TableHashVersion.FN_CJD).table_hash
    assert result.count.table_hash == expected


def test_current_counts_at_the_tip_without_comparing(node: FakePktdRpc) -> None:
    result = count_from_node(node.url, node.user, node.password, MAINNET, timeout=5, current=True)
    assert next(p for m, p in node.calls if m == "listaddresses") == ["", True, True]
    assert result.node_result is None and result.agrees is None


def test_wrong_password(node: FakePktdRpc) -> None:
    with pytest.raises(NodeAuthError, match="refused the RPC user name or password") as exc:
        count_from_node(node.url, node.user, "wrong-secret", MAINNET, timeout=5)
    assert "wrong-secret" not in str(exc.value)


def test_credentials_in_the_url_are_used_and_not_shown(node: FakePktdRpc) -> None:
    port = node.server.server_address[1]
    url = f"http://{node.user}:{node.password.replace(' ', '%20').replace(':', '%3A')}@127.0.0.1:{port}"
    client = NodeRpcClient(url, timeout=5)
    assert client.url == f"http://127.0.0.1:{port}/"
    assert node.password not in repr(client) and "%3A" not in client.where
    assert client.get_address_info(NASHVILLE) is not None


def test_garbage_answer(node: FakePktdRpc) -> None:
    node.garbage = True
    with pytest.raises(NodeAnswerError, match="not JSON-RPC"):
        node_winners(node.url, node.user, node.password, timeout=5)


def test_a_node_without_getwinners(node: FakePktdRpc) -> None:
    node.offer_getwinners = False
    with pytest.raises(NodeMethodMissingError, match="does not offer getwinners"):
        node_winners(node.url, node.user, node.password, timeout=5)
    result = count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)
    assert result.count.winner_address == NASHVILLE
    assert result.winners is None and result.agrees is None


def test_a_node_without_the_vote_indexer(node: FakePktdRpc) -> None:
    node.offer_vote_rpc = False
    with pytest.raises(NodeMethodMissingError, match="does not offer listaddresses") as exc:
        count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)
    assert exc.value.method == "listaddresses"


def test_other_rpc_errors_carry_the_node_message(node: FakePktdRpc) -> None:
    client = NodeRpcClient(node.url, node.user, node.password, timeout=5)
    with pytest.raises(NodeCallError, match="refused getaddressinfo") as exc:
        client.get_address_info("pkt1notanaddress")
    assert exc.value.code == -8


def test_getaddressinfo(node: FakePktdRpc) -> None:
    client = NodeRpcClient(node.url, node.user, node.password, timeout=5)
    got = client.get_address_info(NASHVILLE)
    assert got is not None and got["address"] == NASHVILLE and got["is_candidate"] is True
    assert client.get_address_info(named_address("nobody").encode(MAINNET)) is None
    assert node.calls[-1] == ("getaddressinfo", [named_address("nobody").encode(MAINNET), False])


def test_getwinners_shape(node: FakePktdRpc) -> None:
    winners = node_winners(node.url, node.user, node.password, timeout=5)
    assert [r.vote_close_height for r in winners.results] == [2338560, 2328480]
    assert winners.result_for(2328480) is not None and winners.result_for(2328480).winner == ""  # type: ignore[union-attr]
    assert winners.next_inauguration_block == winners.next_election_block + 360
    node.results = []
    assert node_winners(node.url, node.user, node.password, timeout=5).results == ()


def test_an_epoch_ending_while_reading_starts_over_once(node: FakePktdRpc) -> None:
    node.epoch_change_after_pages = 1
    result = count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)
    assert result.count.as_of_block == SAMPLE_AS_OF_BLOCK + 10080
    node.calls.clear()
    node.epoch_changes_forever = True
    with pytest.raises(EpochChangedError, match="different epochs"):
        count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)


def test_a_node_that_pages_without_progress(node: FakePktdRpc) -> None:
    node.no_progress = True
    with pytest.raises(NodeAnswerError, match="no way on|more than"):
        count_from_node(node.url, node.user, node.password, MAINNET, timeout=5)


def test_oversized_and_hostile_answers(node: FakePktdRpc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(noderpc, "MAX_ANSWER_BYTES", 4096)
    node.huge_answer = 10_000
    with pytest.raises(NodeAnswerError, match="larger than"):
        node_winners(node.url, node.user, node.password, timeout=5)


def test_nobody_listening() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        NodeUnreachableError,
        match=rf"the node at http://127.0.0.1:{port}/ did not answer \(connection refused\)",
    ):
        node_winners(f"http://127.0.0.1:{port}", "u", "p", timeout=5)


def test_a_node_that_never_answers(node: FakePktdRpc) -> None:
    node.silent = True
    with pytest.raises(NodeUnreachableError, match="did not answer within 0.3 s"):
        node_winners(node.url, node.user, node.password, timeout=0.3)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "127.0.0.1:64765", "http://:5/", "http://h:99999/"]
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(NodeRpcError, match="http:// or https:// URL"):
        NodeRpcClient(url)
