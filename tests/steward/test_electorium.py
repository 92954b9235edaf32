"""The Electorium count: Electorium's own cases (electorium.md §5), its fuzz seeds, properties."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from app.steward.electorium.count import (
    U64_MASK,
    Decision,
    VoteEntry,
    VoteListError,
    count_votes,
    delegation_totals,
    tie_break_hash,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "electorium"


class Votes:
    """Builds a vote list the way Electorium's `src/tests.rs` does (ids `<test>/<name>`)."""

    def __init__(self, test_name: str) -> None:
        self.test_name = test_name
        self.entries: list[VoteEntry] = []
        self.next_voter = 0

    def candidate(self, name: str, vote_for: str) -> None:
        self.entries.append(
            VoteEntry(f"{self.test_name}/{name}", f"{self.test_name}/{vote_for}", 1, True)
        )

    def votes(self, vote_for: str, n: int = 1) -> None:
        self.entries.append(
            VoteEntry(f"voter#{self.next_voter}", f"{self.test_name}/{vote_for}", n, False)
        )
        self.next_voter += 1

    def winner(self) -> str | None:
        outcome = count_votes(self.entries)
        if outcome.winner is not None:
            assert_winner_holds_top_total(self.entries, outcome.winner)
            return outcome.winner.removeprefix(f"{self.test_name}/")
        return None


def assert_winner_holds_top_total(entries: list[VoteEntry], winner: str) -> None:
    """Electorium's check: without the winner's own vote link, the winner has the top total."""
    totals = delegation_totals(entries, without_delegation_of=winner)
    willing = {e.voter_id for e in entries if e.willing_candidate}
    top = max(totals[v] for v in willing)
    assert totals[winner] == top, (winner, totals[winner], top)


# --- Electorium src/tests.rs (cjdelisle/Electorium @ cff9759) --------------------------------


def test_noone() -> None:
    v = Votes("test_noone")
    v.votes("non-existent-candidate")
    outcome = count_votes(v.entries)
    assert outcome.winner is None
    assert outcome.decided_by is Decision.NO_CANDIDATES
    assert outcome.unknown_targets == 1


def test_alice_alone() -> None:
    v = Votes("test_alice_alone")
    v.candidate("Alice", "")
    assert v.winner() == "Alice"
    v = Votes("test_alice_alone")
    v.candidate("Alice", "Alice")  # a vote for oneself is ignored
    assert v.winner() == "Alice"
    assert count_votes(v.entries).self_votes == 1


def alice_bob_ring_with_charlie(test_name: str) -> Votes:
    """Alice and Bob vote for each other, Charlie for Alice (each with 1 vote of their own)."""
    v = Votes(test_name)
    v.candidate("Alice", "Bob")
    v.candidate("Bob", "Alice")
    v.candidate("Charlie", "Alice")
    return v


def test_alice_bob_charlie() -> None:
    v = alice_bob_ring_with_charlie("test_alice_bob_charlie")
    v.votes("Bob", 3)
    v.votes("Charlie", 4)
    assert v.winner() == "Alice"
    outcome = count_votes(v.entries)
    assert outcome.decided_by is Decision.BEST_OF_RING
    assert outcome.ring_count == 1
    assert set(outcome.best_ring) == {"test_alice_bob_charlie/Alice", "test_alice_bob_charlie/Bob"}
    totals = {s.voter_id.split("/")[1]: s.total for s in outcome.ranking}
    assert totals == {"Alice": 10, "Bob": 10, "Charlie": 5}  # Charlie's 5 is not above 10 / 2


def test_charlie_is_patron() -> None:
    v = alice_bob_ring_with_charlie("charlie_is_patron")
    v.votes("Bob", 1)
    v.votes("Charlie", 4)
    assert v.winner() == "Charlie"
    outcome = count_votes(v.entries)
    assert outcome.decided_by is Decision.PATRON
    assert outcome.tentative_winners == ("charlie_is_patron/Alice",)


def test_ernist_is_patron() -> None:
    v = alice_bob_ring_with_charlie("ernist_is_patron")
    v.candidate("Dave", "Charlie")
    v.candidate("Ernist", "Dave")
    v.votes("Bob", 1)
    v.votes("Ernist", 5)
    assert v.winner() == "Ernist"
    patrons = [p.split("/")[1] for p in count_votes(v.entries).patrons]
    assert patrons == ["Charlie", "Dave", "Ernist"]  # each beats half of Alice's 11


def test_tennassee_capital_election() -> None:
    v = Votes("tennassee_capital_election")
    v.candidate("Memphis", "Nashville")
    v.candidate("Nashville", "Chattanooga")
    v.candidate("Knoxville", "Chattanooga")
    v.candidate("Chattanooga", "Knoxville")
    v.votes("Memphis", 42_000)
    v.votes("Nashville", 26_000)
    v.votes("Knoxville", 15_000)
    v.votes("Chattanooga", 17_000)
    assert v.winner() == "Nashville"


def test_go_simple_case() -> None:
    """Electorium_go test/simple_test.go: a non-candidate's vote makes a 0-vote candidate win."""
    entries = [VoteEntry("Alice", "Bob", 1, False), VoteEntry("Bob", "", 0, True)]
    outcome = count_votes(entries)
    assert outcome.winner == "Bob"
    assert outcome.winner_total == 1
    assert_winner_holds_top_total(entries, "Bob")


# --- the fuzz seeds (EL fuzz-afl/inputs), expectations derived in fuzz_expected.json ----------


def _seed_entries(name: str, ids: dict[str, str]) -> list[VoteEntry]:
    entries = []
    for line in (DATA / "fuzz_cases" / f"{name}.case").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        who, votes, vote_for = line.split(" ")
        entries.append(VoteEntry(ids[who], ids[vote_for], int(votes), True))
    return entries


EXPECTED = json.loads((DATA / "fuzz_expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED["cases"]))
def test_fuzz_seed_cases(name: str) -> None:
    ids = {k: v for k, v in EXPECTED["harness_ids"].items() if k != "about"}
    entries = _seed_entries(name, ids)
    outcome = count_votes(entries)
    assert outcome.winner == EXPECTED["cases"][name]["winner"]
    assert_winner_holds_top_total(entries, outcome.winner)
    # with the names as the case file writes them the same voter wins
    plain = _seed_entries(name, {n: n for n in ids})
    expected_plain = EXPECTED["cases"][name].get("winner_in_case_file", outcome.winner)
    assert count_votes(plain).winner == expected_plain


def test_tie_break_hash_is_blake2b_512_of_id_and_le_total() -> None:
    h = tie_break_hash("Alice", 8)
    assert h == hashlib.blake2b(b"Alice" + bytes([8, 0, 0, 0, 0, 0, 0, 0]), digest_size=64).digest()
    assert h.hex().startswith("c444d547")
    outcome = count_votes([VoteEntry("Alice", "Bob", 4, True), VoteEntry("Bob", "Alice", 4, True)])
    assert outcome.decided_by is Decision.TIE_BREAK
    assert outcome.winner == "Alice"
    assert outcome.tentative_winners == ("Alice", "Bob")


# --- entry rules --------------------------------------------------------------------------


def test_duplicates_keep_the_first_and_willing_candidates_first() -> None:
    entries = [
        VoteEntry("X", "", 100, False),  # a non-candidate X, listed first
        VoteEntry("X", "", 1, True),  # the willing X is kept: candidates come first
        VoteEntry("X", "", 50, True),  # a second willing X: dropped, the first one stays
        VoteEntry("Y", "", 2, True),
    ]
    outcome = count_votes(entries)
    assert outcome.duplicates == 2
    assert {s.voter_id: s.total for s in outcome.ranking} == {"X": 1, "Y": 2}
    assert outcome.winner == "Y"


def test_votes_for_unknown_ids_go_nowhere() -> None:
    entries = [VoteEntry("A", "", 5, True), VoteEntry("v", "nobody", 100, False)]
    outcome = count_votes(entries)
    assert outcome.winner == "A" and outcome.winner_total == 5
    assert outcome.unknown_targets == 1


def test_non_candidates_pass_votes_on_but_never_win() -> None:
    entries = [
        VoteEntry("rich", "", 1000, False),
        VoteEntry("relay", "C", 1, False),
        VoteEntry("v", "relay", 50, False),
        VoteEntry("C", "", 1, True),
        VoteEntry("D", "", 40, True),
    ]
    outcome = count_votes(entries)
    assert outcome.winner == "C" and outcome.winner_total == 52
    assert [s.voter_id for s in outcome.ranking] == ["C", "D"]


def test_a_ring_stops_the_walk() -> None:
    # A -> B -> C -> B: A's votes reach B and C once each; B and C share the ring's votes
    entries = [
        VoteEntry("A", "B", 1, True),
        VoteEntry("B", "C", 10, True),
        VoteEntry("C", "B", 100, True),
    ]
    assert delegation_totals(entries) == {"A": 1, "B": 111, "C": 111}


def test_two_separate_rings_skip_the_patron_step() -> None:
    # Without the second ring, P would win as the patron of A (P=4 > 6/2); the twin ring forbids it
    entries = [
        VoteEntry("A", "B", 1, True),
        VoteEntry("B", "A", 1, True),
        VoteEntry("P", "A", 4, True),
        VoteEntry("C", "D", 1, True),
        VoteEntry("D", "C", 1, True),
        VoteEntry("Q", "C", 4, True),
    ]
    outcome = count_votes(entries)
    assert outcome.ring_count == 2
    assert outcome.patrons == ()

    def b2(voter: str) -> bytes:
        return hashlib.blake2b(voter.encode() + (6).to_bytes(8, "little"), digest_size=64).digest()

    assert outcome.tentative_winners == ("A", "C") or outcome.tentative_winners == ("C", "A")
    assert outcome.winner == min("AC", key=b2) and outcome.decided_by is Decision.TIE_BREAK
    assert count_votes(entries[:3]).winner == "P"


def test_a_non_candidate_patron_stops_the_chain() -> None:
    # N holds most of A's votes but is not a candidate: A wins
    entries = [VoteEntry("A", "B", 1, True), VoteEntry("B", "A", 1, True)]
    entries.append(VoteEntry("N", "A", 10, False))
    outcome = count_votes(entries)
    assert outcome.winner == "A" and outcome.patrons == ()


def test_totals_wrap_like_uint64() -> None:
    big = 1 << 63
    entries = [VoteEntry("A", "", 5, True), VoteEntry("v1", "A", big, False)]
    entries.append(VoteEntry("v2", "A", big, False))
    assert delegation_totals(entries)["A"] == 5  # (5 + 2^64) mod 2^64, as Go computes


@pytest.mark.parametrize(
    "entry",
    [
        VoteEntry("A", "", -1, True),
        VoteEntry("A", "", 1 << 64, True),
        VoteEntry("A", "", True, True),
        VoteEntry(b"A", "", 1, True),  # type: ignore[arg-type]
        VoteEntry("A", None, 1, True),  # type: ignore[arg-type]
        VoteEntry("\ud800", "", 1, True),
        VoteEntry("A", "", 1, 1),  # type: ignore[arg-type]
    ],
)
def test_bad_entries_are_refused_with_a_message(entry: VoteEntry) -> None:
    with pytest.raises(VoteListError, match="entry 1"):
        count_votes([VoteEntry("ok", "", 1, True), entry])


# --- properties over random vote graphs (seeded) ---------------------------------------------


def _random_entries(rng: random.Random, n: int) -> list[VoteEntry]:
    ids = [f"id{i}" for i in range(n)]
    entries = []
    for voter in ids:
        roll = rng.random()
        if roll < 0.15:
            target = voter  # a vote for oneself
        elif roll < 0.25:
            target = ""
        elif roll < 0.3:
            target = "nobody"
        else:
            target = rng.choice(ids)
        votes = rng.choice([0, 1, 1, 2, 3, 5, rng.randrange(1000)])
        entries.append(VoteEntry(voter, target, votes, rng.random() < 0.5))
    return entries


def _walk_totals(entries: list[VoteEntry]) -> dict[str, int]:
    """Delegation as electorium.md §4.2 words it: walk each chain, stop at a repeat."""
    by_id = {e.voter_id: e for e in entries}
    totals = {e.voter_id: e.votes for e in entries}
    for e in entries:
        path = {e.voter_id}
        nxt = e.vote_for if e.vote_for != e.voter_id else None
        while nxt in by_id and nxt not in path:
            path.add(nxt)
            totals[nxt] += e.votes
            following = by_id[nxt].vote_for
            nxt = following if following != nxt else None
    return {k: v & U64_MASK for k, v in totals.items()}


def _components(members: set[str], entries: list[VoteEntry]) -> int:
    links = {e.voter_id: e.vote_for for e in entries}
    seen: set[str] = set()
    groups = 0
    for m in members:
        if m in seen:
            continue
        groups += 1
        todo = [m]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo.extend(y for y in members if links.get(y) == x or links.get(x) == y)
    return groups


@pytest.mark.parametrize("seed", range(60))
def test_random_vote_graphs(seed: int) -> None:
    rng = random.Random(seed)
    entries = _random_entries(rng, rng.randrange(1, 40))
    outcome = count_votes(entries)
    willing = {e.voter_id for e in entries if e.willing_candidate}
    totals = _walk_totals(entries)
    assert delegation_totals(entries) == totals
    if not willing:
        assert outcome.winner is None
        return
    assert outcome.winner in willing
    top = max(totals[w] for w in willing)
    assert set(outcome.best_ring) == {w for w in willing if totals[w] == top}
    assert outcome.ring_count == _components(set(outcome.best_ring), entries)
    assert_winner_holds_top_total(entries, outcome.winner)
    shuffled = list(entries)
    for _ in range(3):
        rng.shuffle(shuffled)
        again = count_votes(shuffled)
        assert (again.winner, again.decided_by, again.ranking) == (
            outcome.winner,
            outcome.decided_by,
            outcome.ranking,
        )


def test_no_candidates_no_winner() -> None:
    rng = random.Random(7)
    entries = [e for e in _random_entries(rng, 30) if not e.willing_candidate]
    assert entries and count_votes(entries).winner is None
    assert count_votes([]).winner is None
