"""The Electorium count: who wins a delegated vote (electorium.md §4.2).

Written from the specification; where it was silent, the behaviour of Electorium_go
(`cjdelisle/Electorium_go` @ 531e568, the version the PKT full node links) was read and is
reproduced (see docs/STEWARD_COUNT.md for each point):

1. Entries: willing candidates first, then the others, each group in input order; a repeated
   VoterId is dropped (the first kept). A vote for oneself or for an id that is not in the list
   goes nowhere. Like the Go code, an empty `vote_for` is looked up like any other id.
2. Delegation totals: every entry's own votes flow along its chain of `vote_for` links and stop
   before reaching an entry already on the path. Computed here in linear time: an entry off any
   cycle totals its own votes plus its voters' totals; every entry on a cycle totals its whole
   connected group. Arithmetic is modulo 2^64 like Go's uint64 (no real chain comes near).
3. Ranking: willing candidates by total. The best ring is every willing candidate tied at the
   top; it is split into rings: the connected groups of the vote links between its members.
4. Best of ring: each member's own votes plus the totals of its direct voters outside the best
   ring; the highest score(s) are the tentative winners.
5. Patron (one ring, one tentative winner T): T's direct voter outside the ring with the highest
   total (the first such in entry order) is the potential patron P; P is valid when it is a
   willing candidate with a total above half of T's total and above the runner-up's. The
   runner-up is the first ranked candidate after the best ring, moved one place down the ranking
   whenever it is the potential patron being tested. A valid patron's own potential patron is
   tested next, still against T's total; the last valid one wins.
6. Tie-break: the lowest Blake2b-512 of UTF-8 VoterId || little-endian u64 total wins.

The outcome does not depend on the input order unless VoterIds repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from ..errors import StewardError

U64_MASK = (1 << 64) - 1


class VoteListError(StewardError):
    """A vote list entry that cannot be counted (wrong type, votes outside 0..2^64-1)."""


@dataclass(frozen=True, slots=True)
class VoteEntry:
    """One line of an Electorium vote list (the Go `Vote` struct)."""

    voter_id: str
    vote_for: str  # "" = no vote
    votes: int  # NumberOfVotes, 0..2^64-1
    willing_candidate: bool


class Decision(Enum):
    NO_CANDIDATES = "no_candidates"  # no willing candidate in the list: no winner
    TOP_TOTAL = "top_total"  # one candidate alone at the top total
    BEST_OF_RING = "best_of_ring"  # the best ring's member with the most votes from outside it
    PATRON = "patron"  # a patron of the best-of-ring winner
    TIE_BREAK = "tie_break"  # the Blake2b tie-break among equal winners


@dataclass(frozen=True, slots=True)
class Standing:
    voter_id: str
    total: int  # own votes plus every vote delegated to it
    own_votes: int


@dataclass(frozen=True)
class ElectoriumOutcome:
    winner: str | None
    winner_total: int | None
    decided_by: Decision
    ranking: tuple[Standing, ...]  # willing candidates, highest total first (ties by id)
    best_ring: tuple[str, ...]
    ring_count: int
    tentative_winners: tuple[str, ...]
    patrons: tuple[str, ...]  # valid patrons in the order found; the last one won
    entries: int  # entries counted (duplicates dropped)
    duplicates: int
    self_votes: int
    unknown_targets: int  # non-empty vote_for naming nobody in the list


@dataclass
class _Graph:
    ids: list[str]
    own: list[int]
    willing: list[bool]
    target: list[int]  # index voted for, -1 for none
    duplicates: int
    self_votes: int
    unknown_targets: int


def _check(entry: VoteEntry, position: int) -> None:
    if not isinstance(entry, VoteEntry):
        raise VoteListError(f"entry {position} is not a vote entry")
    for name in ("voter_id", "vote_for"):
        value = getattr(entry, name)
        if not isinstance(value, str):
            raise VoteListError(f"entry {position}: {name} must be text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise VoteListError(f"entry {position}: {name} is not valid Unicode text") from None
    votes = entry.votes
    if isinstance(votes, bool) or not isinstance(votes, int) or not 0 <= votes <= U64_MASK:
        raise VoteListError(f"entry {position}: votes must be a whole number from 0 to 2^64-1")
    if not isinstance(entry.willing_candidate, bool):
        raise VoteListError(f"entry {position}: willing_candidate must be true or false")


def _graph(entries: Sequence[VoteEntry]) -> _Graph:
    index: dict[str, int] = {}
    kept: list[VoteEntry] = []
    for position, entry in enumerate(entries):
        _check(entry, position)
    duplicates = 0
    for willing in (True, False):
        for entry in entries:
            if entry.willing_candidate is not willing:
                continue
            if entry.voter_id in index:
                duplicates += 1
                continue
            index[entry.voter_id] = len(kept)
            kept.append(entry)
    target = [-1] * len(kept)
    self_votes = unknown = 0
    for i, entry in enumerate(kept):
        if entry.vote_for == entry.voter_id:
            self_votes += 1
            continue
        j = index.get(entry.vote_for)
        if j is None:
            unknown += entry.vote_for != ""
            continue
        target[i] = j
    return _Graph(
        ids=[e.voter_id for e in kept],
        own=[e.votes for e in kept],
        willing=[e.willing_candidate for e in kept],
        target=target,
        duplicates=duplicates,
        self_votes=self_votes,
        unknown_targets=unknown,
    )


def _totals(own: Sequence[int], target: Sequence[int]) -> list[int]:
    """Delegation totals of a graph where each entry votes for at most one other."""
    n = len(own)
    pending = [0] * n  # voters not yet folded in
    for t in target:
        if t >= 0:
            pending[t] += 1
    acc = list(own)
    done = bytearray(n)
    ready = [i for i in range(n) if pending[i] == 0]
    while ready:  # entries off every cycle, leaves first
        i = ready.pop()
        done[i] = 1
        t = target[i]
        if t >= 0:
            acc[t] += acc[i]
            pending[t] -= 1
            if pending[t] == 0:
                ready.append(t)
    for start in range(n):  # what is left lies on cycles: each member totals the group
        if done[start]:
            continue
        cycle = []
        i = start
        while not done[i]:
            done[i] = 1
            cycle.append(i)
            i = target[i]
        group = sum(acc[c] for c in cycle)
        for c in cycle:
            acc[c] = group
    return [a & U64_MASK for a in acc]


def _ring_count(members: Sequence[int], target: Sequence[int]) -> int:
    """How many connected groups the vote links between `members` form."""
    parent = {m: m for m in members}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    groups = len(members)
    for m in members:
        t = target[m]
        if t in parent:
            a, b = root(m), root(t)
            if a != b:
                parent[a] = b
                groups -= 1
    return groups


def tie_break_hash(voter_id: str, total: int) -> bytes:
    """Blake2b-512 of the UTF-8 VoterId followed by the total as a little-endian u64."""
    data = voter_id.encode("utf-8") + (total & U64_MASK).to_bytes(8, "little")
    return hashlib.blake2b(data, digest_size=64).digest()


def count_votes(entries: Iterable[VoteEntry]) -> ElectoriumOutcome:
    """Run the Electorium count over a vote list."""
    g = _graph(list(entries))
    total = _totals(g.own, g.target)
    order = sorted(
        (i for i in range(len(g.ids)) if g.willing[i]), key=lambda i: (-total[i], g.ids[i])
    )
    ranking = tuple(Standing(g.ids[i], total[i], g.own[i]) for i in order)

    def outcome(
        winner: int | None,
        decided_by: Decision,
        ring: Sequence[int] = (),
        rings: int = 0,
        tentative: Sequence[int] = (),
        patrons: Sequence[int] = (),
    ) -> ElectoriumOutcome:
        return ElectoriumOutcome(
            winner=g.ids[winner] if winner is not None else None,
            winner_total=total[winner] if winner is not None else None,
            decided_by=decided_by,
            ranking=ranking,
            best_ring=tuple(g.ids[i] for i in ring),
            ring_count=rings,
            tentative_winners=tuple(g.ids[i] for i in tentative),
            patrons=tuple(g.ids[i] for i in patrons),
            entries=len(g.ids),
            duplicates=g.duplicates,
            self_votes=g.self_votes,
            unknown_targets=g.unknown_targets,
        )

    if not order:
        return outcome(None, Decision.NO_CANDIDATES)
    top = total[order[0]]
    ring_size = next((k for k, i in enumerate(order) if total[i] != top), len(order))
    ring = order[:ring_size]
    in_ring = set(ring)
    voters: dict[int, list[int]] = {}
    for i, t in enumerate(g.target):
        if t >= 0:
            voters.setdefault(t, []).append(i)
    rings = _ring_count(ring, g.target)

    scores = {
        c: (g.own[c] + sum(total[v] for v in voters.get(c, ()) if v not in in_ring)) & U64_MASK
        for c in ring
    }
    best_score = max(scores.values())
    tentative = [c for c in ring if scores[c] == best_score]

    patrons: list[int] = []
    if rings < 2 and len(tentative) == 1:
        patrons = _patron_chain(tentative[0], order, ring_size, in_ring, voters, total, g.willing)
    finalists = [patrons[-1]] if patrons else tentative
    if len(finalists) > 1:
        winner = min(finalists, key=lambda c: tie_break_hash(g.ids[c], total[c]))
        decided_by = Decision.TIE_BREAK
    else:
        winner = finalists[0]
        if patrons:
            decided_by = Decision.PATRON
        elif ring_size == 1:
            decided_by = Decision.TOP_TOTAL
        else:
            decided_by = Decision.BEST_OF_RING
    return outcome(winner, decided_by, ring, rings, tentative, patrons)


def _patron_chain(
    tentative: int,
    order: Sequence[int],
    ring_size: int,
    in_ring: set[int],
    voters: dict[int, list[int]],
    total: Sequence[int],
    willing: Sequence[bool],
) -> list[int]:
    def potential_patron(of: int) -> int | None:
        best, found = 0, None
        for v in voters.get(of, ()):
            if v not in in_ring and total[v] > best:
                best, found = total[v], v
        return found

    mark = total[tentative] // 2
    runner_up = ring_size  # position in `order`: the first ranked candidate after the ring
    chain: list[int] = []
    seen = {tentative}
    candidate = potential_patron(tentative)
    while candidate is not None and candidate not in seen:
        seen.add(candidate)
        if runner_up < len(order) and order[runner_up] == candidate:
            runner_up += 1
        beaten = runner_up >= len(order) or total[candidate] > total[order[runner_up]]
        if not (willing[candidate] and total[candidate] > mark and beaten):
            break
        chain.append(candidate)
        candidate = potential_patron(candidate)
    return chain


def delegation_totals(
    entries: Iterable[VoteEntry], without_delegation_of: str | None = None
) -> dict[str, int]:
    """Every entry's total, optionally with one voter's own vote link removed.

    With the winner's link removed the winner holds the top total among willing candidates
    (Electorium's check that nobody could beat them without their own delegation).
    """
    g = _graph(list(entries))
    target = list(g.target)
    if without_delegation_of is not None:
        for i, voter_id in enumerate(g.ids):
            if voter_id == without_delegation_of:
                target[i] = -1
    return dict(zip(g.ids, _totals(g.own, target), strict=True))
