"""The on-chain election state from the public explorer API (pkt-chain.md §8, steward.md §3.1).

`GET <base>/ns` → `{networkSteward, votesAgainst, votesNeeded}` and
`GET <base>/ns/candidates[/<limit>/<page>]` → `{result: [{candidate, votesFor, votesAgainst}],
prev, next}`; amounts are decimal strings in units, `next` a path relative to the base.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from miner import safejson

from .errors import MalformedResponseError, UnreachableError
from .http import USER_AGENT, describe_connection_error, normalise_base_url

DEFAULT_EXPLORER_API = "https://explorer.pkt.cash/api/v1/PKT/pkt"
MAX_CANDIDATE_PAGES = 20
MAX_REPLY_BYTES = 4 << 20


@dataclass(frozen=True)
class Candidate:
    address: str
    votes_for: int
    votes_against: int


@dataclass
class ElectionState:
    network_steward: str
    votes_against: int  # units voting against the current Network Steward
    votes_needed: int  # disapproval above this starts an election (half of all money issued)
    candidates: list[Candidate] = field(default_factory=list)
    source: str = ""
    fetched_at: float = 0.0
    more_candidates: bool = False  # the candidate list was cut at MAX_CANDIDATE_PAGES

    @property
    def disapproval_ratio(self) -> float:
        return self.votes_against / self.votes_needed if self.votes_needed else 0.0

    @property
    def election_triggered(self) -> bool:
        return self.votes_against > self.votes_needed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElectionState:
        return cls(
            network_steward=str(data["network_steward"]),
            votes_against=int(data["votes_against"]),
            votes_needed=int(data["votes_needed"]),
            candidates=[Candidate(**c) for c in data.get("candidates", [])],
            source=str(data.get("source", "")),
            fetched_at=float(data.get("fetched_at", 0.0)),
            more_candidates=bool(data.get("more_candidates", False)),
        )


MAX_UNITS = 1 << 64
"""No amount of PKT in units comes near 2**64 (all coins ever: about 2**63)."""


def _units(value: Any, what: str) -> int:
    """An amount in units, sent as a JSON integer or as decimal ASCII digits."""
    try:
        if isinstance(value, str):
            return safejson.parse_int_text(value, what, lo=0, hi=MAX_UNITS)
        return safejson.expect_int(value, what, lo=0, hi=MAX_UNITS)
    except safejson.JsonError:
        raise MalformedResponseError(
            f"the explorer sent an invalid amount for {what}: {str(value)[:40]!r}"
        ) from None


class ExplorerClient:
    def __init__(
        self,
        base_url: str = DEFAULT_EXPLORER_API,
        session: requests.Session | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.session = session or requests.Session()
        self.timeout = timeout

    def _get(self, path: str) -> Any:
        url = self.base_url + path
        host = urlsplit(url).netloc
        try:
            resp = self.session.get(
                url,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise UnreachableError(
                f"explorer API {self.base_url} unreachable: {describe_connection_error(exc)}"
            ) from None
        if resp.status_code != 200:
            raise UnreachableError(
                f"explorer API at {host} answered HTTP {resp.status_code} for {path}"
            )
        if len(resp.content) > MAX_REPLY_BYTES:
            raise MalformedResponseError(
                f"the explorer API at {host} sent a reply larger than 4 MiB for {path}"
            )
        try:
            return safejson.loads(resp.content, max_bytes=MAX_REPLY_BYTES)
        except safejson.JsonError as exc:
            raise MalformedResponseError(
                f"the explorer API at {host} sent an invalid reply for {path}: {exc}"
            ) from None

    def election(self, now: float) -> ElectionState:
        ns = self._get("/ns")
        if not isinstance(ns, dict) or not isinstance(ns.get("networkSteward"), str):
            raise MalformedResponseError("explorer /ns answer lacks networkSteward")
        state = ElectionState(
            network_steward=ns["networkSteward"],
            votes_against=_units(ns.get("votesAgainst"), "votesAgainst"),
            votes_needed=_units(ns.get("votesNeeded"), "votesNeeded"),
            source=self.base_url,
            fetched_at=now,
        )
        path: str = "/ns/candidates"
        seen: set[str] = set()
        for _ in range(MAX_CANDIDATE_PAGES):
            page = self._get(path)
            if not isinstance(page, dict) or not isinstance(page.get("result"), list):
                raise MalformedResponseError("explorer /ns/candidates answer lacks result")
            for row in page["result"]:
                if not isinstance(row, dict) or not isinstance(row.get("candidate"), str):
                    raise MalformedResponseError("explorer candidate row lacks candidate")
                if row["candidate"] in seen:
                    continue
                seen.add(row["candidate"])
                state.candidates.append(
                    Candidate(
                        row["candidate"],
                        _units(row.get("votesFor"), "votesFor"),
                        _units(row.get("votesAgainst"), "votesAgainst"),
                    )
                )
            nxt = page.get("next")
            if not isinstance(nxt, str) or not nxt or nxt == path:
                break
            path = nxt if nxt.startswith("/") else "/" + nxt
        else:
            state.more_candidates = True
        state.candidates.sort(key=lambda c: (-c.votes_for, c.address))
        return state
