"""The headless Electorium count API the CLI and the Steward page call.

* `count_from_file(path, params)`: an address list file in the `listaddresses` shape.
* `count_from_node(url, user, password, params)`: the same list read from a full node's RPC,
  with the node's own `getwinners` result for that election when it offers one.
* `node_winners(url, user, password)`: `getwinners` as the node answers it.

Each returns plain values (amounts in units, addresses as text); every failure is a
`StewardError` subclass with a one-line message for the user. Blocking: call them off the GUI
thread.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests

from app.threadguard import forbid_gui_thread
from spv.address import address_from_script
from spv.params import NetworkParams

from .address_list import AddressList, AddressListBuilder, EpochChangedError, load_address_list
from .count import Decision, count_votes
from .noderpc import (
    DEFAULT_TIMEOUT,
    ElectionResult,
    NodeMethodMissingError,
    NodeRpcClient,
    NodeRpcError,
    NodeWinners,
)
from .vote_list import LIST_LIMIT, TableHashVersion, build_vote_list

DEFAULT_TOP = 10


@dataclass(frozen=True)
class CandidateStanding:
    address: str
    voter_id: str  # base64 of the script, as Electorium sees it
    total: int  # units: own balance plus every balance delegated to it
    own_balance: int


@dataclass(frozen=True)
class StewardCount:
    winner_address: str | None  # None: no candidate, no winner
    winner_voter_id: str | None
    winner_total: int | None
    decided_by: Decision
    ranking: tuple[CandidateStanding, ...]  # the top candidates, highest total first
    best_ring: tuple[str, ...]  # addresses tied at the top total
    patrons: tuple[str, ...]  # addresses of the valid patrons found (the last one won)
    candidates: int
    voters: int  # list entries that vote for someone
    entries: int  # entries in the vote list
    addresses: int  # nonzero-balance addresses read
    as_of_block: int | None  # the effective block E the balances and votes are from
    over_limit: bool  # more than 100,000 entries: the cap applied
    table_hash: bytes | None = None
    table_hash_version: TableHashVersion | None = None
    warnings: tuple[str, ...] = ()

    @property
    def election_block(self) -> int | None:
        """The deadline D whose election this is (E + 1), when the list says E."""
        return self.as_of_block + 1 if self.as_of_block is not None else None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (amounts in units, the hash in hex) for `--json` output."""
        return {
            "winner": self.winner_address,
            "winner_total": self.winner_total,
            "decided_by": self.decided_by.value,
            "ranking": [
                {"address": c.address, "total": c.total, "own_balance": c.own_balance}
                for c in self.ranking
            ],
            "best_ring": list(self.best_ring),
            "patrons": list(self.patrons),
            "candidates": self.candidates,
            "voters": self.voters,
            "entries": self.entries,
            "addresses": self.addresses,
            "as_of_block": self.as_of_block,
            "election_block": self.election_block,
            "over_limit": self.over_limit,
            "vote_table_hash": self.table_hash.hex() if self.table_hash is not None else None,
            "vote_table_hash_version": (
                self.table_hash_version.value if self.table_hash_version is not None else None
            ),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class NodeCount:
    count: StewardCount
    winners: NodeWinners | None  # None when the node does not offer getwinners
    node_result: ElectionResult | None  # the node's own result for the same election

    @property
    def agrees(self) -> bool | None:
        """Whether the node elected the same address (None when it has no result to compare)."""
        if self.node_result is None:
            return None
        return self.node_result.winner == (self.count.winner_address or "")

    def as_dict(self) -> dict[str, Any]:
        out = self.count.as_dict()
        out["node_winner"] = self.node_result.winner if self.node_result is not None else None
        out["node_vote_table_hash"] = (
            self.node_result.vote_table_hash if self.node_result is not None else None
        )
        out["node_agrees"] = self.agrees
        if self.winners is not None:
            out["next_election_block"] = self.winners.next_election_block
            out["next_election_estimated_time"] = self.winners.next_election_estimated_time
        return out


def address_text(script: bytes, params: NetworkParams) -> str:
    """The address of a script, or `script:<base64>` as the node writes other scripts."""
    return address_from_script(script, params) or "script:" + base64.b64encode(script).decode()


def _address_of_id(voter_id: str, params: NetworkParams) -> str:
    return address_text(base64.b64decode(voter_id), params)


def count_address_list(
    address_list: AddressList,
    params: NetworkParams,
    *,
    top: int = DEFAULT_TOP,
    table_hash: TableHashVersion | None = None,
    limit: int = LIST_LIMIT,
) -> StewardCount:
    """Build the vote list as the node does and run the Electorium count on it."""
    vote_list = build_vote_list(address_list.records, limit, table_hash)
    outcome = count_votes(vote_list.entries)
    warnings = list(address_list.warnings)
    if vote_list.over_limit:
        warnings.append(
            f"more than {limit} addresses vote or stand: the cap applied and "
            f"{vote_list.evicted} left the list; the node's own list may differ "
            "(docs/STEWARD_COUNT.md)"
        )
    ranking = tuple(
        CandidateStanding(_address_of_id(s.voter_id, params), s.voter_id, s.total, s.own_votes)
        for s in outcome.ranking[: max(0, top)]
    )
    winner = outcome.winner
    return StewardCount(
        winner_address=_address_of_id(winner, params) if winner is not None else None,
        winner_voter_id=winner,
        winner_total=outcome.winner_total,
        decided_by=outcome.decided_by,
        ranking=ranking,
        best_ring=tuple(_address_of_id(v, params) for v in outcome.best_ring),
        patrons=tuple(_address_of_id(v, params) for v in outcome.patrons),
        candidates=len(outcome.ranking),
        voters=sum(1 for e in vote_list.entries if e.vote_for),
        entries=len(vote_list.entries),
        addresses=vote_list.addresses,
        as_of_block=address_list.as_of_block,
        over_limit=vote_list.over_limit,
        table_hash=vote_list.table_hash,
        table_hash_version=table_hash,
        warnings=tuple(warnings),
    )


def count_from_file(
    path: str | Path,
    params: NetworkParams,
    *,
    top: int = DEFAULT_TOP,
    table_hash: TableHashVersion | None = None,
) -> StewardCount:
    """Count the election in an address list file (listaddresses pages)."""
    forbid_gui_thread("count_from_file")
    return count_address_list(
        load_address_list(path, params), params, top=top, table_hash=table_hash
    )


def _client(
    url: str,
    user: str | None,
    password: str | None,
    timeout: float,
    tls_verify: bool | str,
    session: requests.Session | None,
) -> NodeRpcClient:
    return NodeRpcClient(
        url, user, password, timeout=timeout, tls_verify=tls_verify, session=session
    )


def fetch_address_list(
    client: NodeRpcClient, params: NetworkParams, *, current: bool = False, voting_only: bool = True
) -> AddressList:
    """Every listaddresses page; read again once if an epoch ends while reading."""
    for attempt in (1, 2):
        builder = AddressListBuilder(params, client.where)
        try:
            for page in client.address_pages(current=current, voting_only=voting_only):
                builder.add_page(page)
            return builder.finish()
        except EpochChangedError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def count_from_node(
    url: str,
    user: str | None,
    password: str | None,
    params: NetworkParams,
    *,
    current: bool = False,
    top: int = DEFAULT_TOP,
    table_hash: TableHashVersion | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    tls_verify: bool | str = True,
    session: requests.Session | None = None,
) -> NodeCount:
    """Count the last election (or, with `current`, one held at the tip) from a node's data.

    Only voting and standing addresses are fetched, which is all the count needs; asking for
    the vote table hash fetches every address with a balance (its first section covers them).
    """
    forbid_gui_thread("count_from_node")
    client = _client(url, user, password, timeout, tls_verify, session)
    address_list = fetch_address_list(
        client, params, current=current, voting_only=table_hash is None
    )
    count = count_address_list(address_list, params, top=top, table_hash=table_hash)
    winners: NodeWinners | None = None
    try:
        winners = client.get_winners()
    except NodeMethodMissingError:
        pass
    except NodeRpcError as exc:
        count = _with_warning(count, f"the node's own result could not be read: {exc}")
    node_result = None
    if winners is not None and not current and count.election_block is not None:
        node_result = winners.result_for(count.election_block)
    return NodeCount(count, winners, node_result)


def _with_warning(count: StewardCount, text: str) -> StewardCount:
    return replace(count, warnings=(*count.warnings, text))


def node_winners(
    url: str,
    user: str | None,
    password: str | None,
    *,
    height: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    tls_verify: bool | str = True,
    session: requests.Session | None = None,
) -> NodeWinners:
    """The node's `getwinners` answer (NodeMethodMissingError when it does not offer it)."""
    forbid_gui_thread("node_winners")
    return _client(url, user, password, timeout, tls_verify, session).get_winners(height)
