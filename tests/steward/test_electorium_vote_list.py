"""Building the vote list as the node does (electorium.md §4.1): order, cap, second pass, hash."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.steward.electorium.count import VoteEntry, VoteListError, count_votes
from app.steward.electorium.vote_list import (
    AddressRecord,
    TableHashVersion,
    build_vote_list,
)


def b64(script: bytes) -> str:
    return base64.b64encode(script).decode()


S = {n: bytes([n]) for n in range(1, 10)}  # one-byte scripts: scan order = n


def test_entries_skip_zero_balances_and_bystanders() -> None:
    records = [
        AddressRecord(S[3], 7, False, S[1]),
        AddressRecord(S[1], 5, True),
        AddressRecord(S[2], 9),  # neither votes nor stands
        AddressRecord(S[4], 0, True, S[1]),  # balance 0
        AddressRecord(S[5], 1, False, b""),  # no target, not a candidate
    ]
    vl = build_vote_list(records)
    assert vl.entries == (
        VoteEntry(b64(S[1]), "", 5, True),
        VoteEntry(b64(S[3]), b64(S[1]), 7, False),
    )
    assert vl.addresses == 4 and not vl.over_limit and vl.table_hash is None


def test_scan_order_is_the_node_database_order() -> None:
    a, b = bytes.fromhex("0014" + "ff" * 20), bytes.fromhex("a914" + "00" * 20 + "87")
    records = [AddressRecord(b, 1, True), AddressRecord(a, 1, True)]
    assert [e.voter_id for e in build_vote_list(records).entries] == [b64(a), b64(b)]


def _capped() -> list[AddressRecord]:
    return [
        AddressRecord(S[1], 10, True),
        AddressRecord(S[2], 5, False, S[1]),
        AddressRecord(S[3], 5, True),
        AddressRecord(S[4], 7, False, S[3]),  # full: S2 and S3 tie at 5; S3 (greater id) leaves
        AddressRecord(S[5], 1, False, S[1]),  # enters although poorest, in S2's place (S2 leaves)
        AddressRecord(S[6], 2, False, S[4]),  # S5 leaves, S6 takes its slot
    ]


def test_the_cap_evicts_the_poorest_and_the_newcomer_takes_its_slot() -> None:
    vl = build_vote_list(_capped(), limit=3)
    assert vl.over_limit and vl.evicted == 3
    assert [e.voter_id for e in vl.entries] == [b64(S[1]), b64(S[6]), b64(S[4])]
    # second pass: S2 (5) and S5 (1) voted for S1, which stayed; S3 stands but votes for nobody
    assert vl.folded_in == 2
    assert [e.votes for e in vl.entries] == [16, 2, 7]
    assert count_votes(vl.entries).winner == b64(S[1])


def test_a_full_list_without_overflow_has_no_second_pass() -> None:
    records = _capped()[:4]
    vl = build_vote_list(records, limit=4)
    assert not vl.over_limit and vl.evicted == 0 and vl.folded_in == 0
    assert [e.votes for e in vl.entries] == [10, 5, 5, 7]


def _le(n: int) -> bytes:
    return n.to_bytes(8, "little")


def _expected_hash(
    records: list[AddressRecord], entries: tuple[VoteEntry, ...], pr3: bool
) -> bytes:
    stream = _le(1)
    for r in sorted(records, key=lambda r: r.script):
        if r.balance and (pr3 or not (r.is_candidate or r.vote_for)):
            stream += _le(len(r.script)) + r.script + _le(r.balance)
    stream += _le(0) + _le(2)
    for e in entries:
        vid, vf = e.voter_id.encode(), e.vote_for.encode()
        stream += _le(len(vid)) + vid + _le(len(vf)) + vf + _le(e.votes)
        stream += _le(int(e.willing_candidate))
    return hashlib.blake2b(stream, digest_size=32).digest()


@pytest.mark.parametrize("version", list(TableHashVersion))
def test_vote_table_hash_layout(version: TableHashVersion) -> None:
    records = [*_capped(), AddressRecord(S[7], 3), AddressRecord(S[8], 0, True)]
    vl = build_vote_list(records, limit=3, table_hash=version)
    expected = _expected_hash(records, vl.entries, version is TableHashVersion.FN_PR3)
    assert vl.table_hash == expected
    other = next(v for v in TableHashVersion if v is not version)
    assert build_vote_list(records, limit=3, table_hash=other).table_hash != expected


def test_empty_list() -> None:
    vl = build_vote_list([], table_hash=TableHashVersion.FN_PR3)
    assert vl.entries == () and vl.addresses == 0
    assert vl.table_hash == hashlib.blake2b(_le(1) + _le(0) + _le(2), digest_size=32).digest()


@pytest.mark.parametrize(
    "record",
    [AddressRecord(S[1], -1, True), AddressRecord(S[1], 1 << 63, True), AddressRecord("ab", 1)],  # type: ignore[arg-type]
)
def test_bad_records_are_refused(record: AddressRecord) -> None:
    with pytest.raises(VoteListError, match="address 0"):
        build_vote_list([record])
