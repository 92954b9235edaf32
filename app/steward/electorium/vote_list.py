"""From address balances and votes to the Electorium vote list, as the full node builds it.

electorium.md §4.1, with the details read from the node's `votecounter.go` and
`candidatetree.go` (pkt-cash/PKT-FullNode PR #3):

* Addresses are visited in the node's database order: by the bytes of `pkScript || 00000000`.
* Zero balances are skipped. An address enters the list when it stands as a candidate or votes
  for someone: VoterId = base64(pkScript), VoteFor = base64(target pkScript) ("" for none),
  NumberOfVotes = balance in units.
* The list holds at most 100,000 entries. Once full, each new entry still goes in, and the entry
  then holding the smallest balance leaves (among equal balances the greatest VoterId); the new
  entry takes over the leaver's slot, so the list keeps slot order.
* If anyone had to leave, a second pass adds the balance of every voter outside the list to
  its target, when the target is in the list.

Over the cap the node's own list is not exactly this one (its tree keeps pointers into a Go
slice that is still growing): docs/STEWARD_COUNT.md, "Known differences".

`TableHashVersion` selects how the vote table hash's first section is written; both versions are
implemented from the source and neither has been checked against a running node.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from .count import U64_MASK, VoteEntry, VoteListError

LIST_LIMIT = 100_000
MAX_BALANCE = (1 << 63) - 1  # the node keeps balances as int64 amounts


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """One address at the epoch cutoff: its balance and its latest unexpired vote."""

    script: bytes
    balance: int  # units
    is_candidate: bool = False
    vote_for: bytes = b""  # the target's pkScript, b"" for none

    @property
    def takes_part(self) -> bool:
        return self.balance > 0 and (self.is_candidate or len(self.vote_for) > 0)


class TableHashVersion(Enum):
    # pkt-cash/PKT-FullNode PR #3 (73296e35): section 1 covers every nonzero address.
    FN_PR3 = "fn-pr3"
    # cjdelisle/PKT-FullNode 9b30f961: section 1 covers nonzero addresses that neither vote nor stand.
    FN_CJD = "fn-cjd"


@dataclass(frozen=True)
class VoteList:
    entries: tuple[VoteEntry, ...]  # in the node's slot order (what Electorium is given)
    addresses: int  # nonzero-balance addresses read
    over_limit: bool  # the cap was reached and entries had to leave
    evicted: int
    folded_in: int  # voters outside the list whose balance went to their target (second pass)
    table_hash: bytes | None = None  # Blake2b-256, when a version was asked for


def scan_key(script: bytes) -> bytes:
    """Where an address comes in the node's scan (its balance key in the vote database)."""
    return script + b"\x00\x00\x00\x00"


def voter_id(script: bytes) -> str:
    return base64.b64encode(script).decode("ascii")


def _check(record: AddressRecord, position: int) -> None:
    if not isinstance(record.script, bytes) or not isinstance(record.vote_for, bytes):
        raise VoteListError(f"address {position}: scripts must be bytes")
    b = record.balance
    if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= MAX_BALANCE:
        raise VoteListError(f"address {position}: balance must be a whole number of units >= 0")


class _Worst:
    """Heap key: the smallest balance first, and among equal balances the greatest VoterId."""

    __slots__ = ("votes", "voter_id", "slot")

    def __init__(self, votes: int, voter_id: str, slot: int) -> None:
        self.votes = votes
        self.voter_id = voter_id
        self.slot = slot

    def __lt__(self, other: _Worst) -> bool:
        if self.votes != other.votes:
            return self.votes < other.votes
        return self.voter_id > other.voter_id


def _u64(n: int) -> bytes:
    return (n & U64_MASK).to_bytes(8, "little")


def build_vote_list(
    records: Iterable[AddressRecord],
    limit: int = LIST_LIMIT,
    table_hash: TableHashVersion | None = None,
) -> VoteList:
    """The vote list the node hands to Electorium, and optionally its vote table hash."""
    if limit < 1:
        raise ValueError("the list limit must be at least 1")
    ordered = list(records)
    for position, record in enumerate(ordered):
        _check(record, position)
    ordered.sort(key=lambda r: scan_key(r.script))
    hasher = hashlib.blake2b(digest_size=32) if table_hash is not None else None
    if hasher is not None:
        hasher.update(_u64(1))
    slots: list[VoteEntry] = []
    heap: list[_Worst] = []
    addresses = evicted = 0
    for record in ordered:
        if record.balance == 0:
            continue
        addresses += 1
        if hasher is not None and (table_hash is TableHashVersion.FN_PR3 or not record.takes_part):
            hasher.update(_u64(len(record.script)) + record.script + _u64(record.balance))
        if not record.takes_part:
            continue
        entry = VoteEntry(
            voter_id(record.script),
            voter_id(record.vote_for),
            record.balance,
            record.is_candidate,
        )
        if len(slots) >= limit:
            leaving = heapq.heappop(heap)
            slots[leaving.slot] = entry
            heapq.heappush(heap, _Worst(entry.votes, entry.voter_id, leaving.slot))
            evicted += 1
        else:
            heapq.heappush(heap, _Worst(entry.votes, entry.voter_id, len(slots)))
            slots.append(entry)

    folded = 0
    if evicted:
        slot_of = {e.voter_id: i for i, e in enumerate(slots)}
        extra = [0] * len(slots)
        for record in ordered:
            if record.balance == 0 or not record.vote_for:
                continue
            if voter_id(record.script) in slot_of:
                continue
            target = slot_of.get(voter_id(record.vote_for))
            if target is not None:
                extra[target] += record.balance
                folded += 1
        slots = [
            VoteEntry(e.voter_id, e.vote_for, (e.votes + add) & U64_MASK, e.willing_candidate)
            if add
            else e
            for e, add in zip(slots, extra, strict=True)
        ]

    digest = None
    if hasher is not None:
        hasher.update(_u64(0) + _u64(2))
        for e in slots:
            vid, vfor = e.voter_id.encode("ascii"), e.vote_for.encode("ascii")
            hasher.update(_u64(len(vid)) + vid + _u64(len(vfor)) + vfor)
            hasher.update(_u64(e.votes) + _u64(1 if e.willing_candidate else 0))
        digest = hasher.digest()
    return VoteList(
        entries=tuple(slots),
        addresses=addresses,
        over_limit=evicted > 0,
        evicted=evicted,
        folded_in=folded,
        table_hash=digest,
    )
