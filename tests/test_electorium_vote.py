"""Electorium vote outputs: the bytes of electorium.md §5 and the indexer's rules of §1.1, §2.1."""

from __future__ import annotations

import base64
import random

import pytest

from spv.address import script_for_address
from spv.electorium_vote import (
    MAX_VOTE_TARGET_SCRIPT,
    ElectoriumVote,
    VoteStatus,
    parse_vote_output,
    parse_vote_script,
    read_transaction_vote,
    single_voter,
    vote_output_script,
    withdraw_vote_script,
)
from spv.params import MAINNET
from spv.script import op_return_script
from spv.tx import COINBASE_PREV_INDEX, OutPoint, Transaction, TxIn, TxOut

DOC_ADDRESS = "pkt1qtu5y64ln9n9mw3e88ydt28jgmu327ygme8y54t"
DOC_SCRIPT = "00145f284d57f32ccbb74727391ab51e48df22af111b"
MAINNET_TARGET = "pkt1qpl48jdwyn3t0uj7lu303f5szejgl5dmc0p2vpu"


def test_doc_example_candidate_vote() -> None:
    target = script_for_address(DOC_ADDRESS, MAINNET)
    assert target.hex() == DOC_SCRIPT
    script = vote_output_script(target, is_candidate=True)
    assert script.hex() == "6a170100145f284d57f32ccbb74727391ab51e48df22af111b"
    assert parse_vote_script(script) == ElectoriumVote(target, True)
    assert base64.b64encode(target).decode() == "ABRfKE1X8yzLt0cnORq1HkjfIq8RGw=="


def test_withdraw_and_candidacy_without_target_are_raw_one_byte_pushes() -> None:
    assert withdraw_vote_script().hex() == "6a0100"
    assert vote_output_script(b"", False).hex() == "6a0100"
    assert vote_output_script(b"", True).hex() == "6a0101"
    assert parse_vote_script(bytes.fromhex("6a0100")) == ElectoriumVote(b"", False)
    assert parse_vote_script(bytes.fromhex("6a0100")).is_withdraw  # type: ignore[union-attr]
    assert parse_vote_script(bytes.fromhex("6a0101")) == ElectoriumVote(b"", True)
    # what btcd's ScriptBuilder.AddData writes for one byte 00 / 01 is not a vote to the indexer
    assert parse_vote_script(bytes.fromhex("6a00")) is None  # OP_0
    assert parse_vote_script(bytes.fromhex("6a51")) is None  # OP_1
    assert parse_vote_script(op_return_script(b"\x01")) is None  # our minimal push: 6a51 too


def test_derived_mainnet_example() -> None:
    target = script_for_address(MAINNET_TARGET, MAINNET)
    assert target.hex() == "00140fea7935c49c56fe4bdfe45f14d202cc91fa3778"
    assert (
        vote_output_script(target, False).hex()
        == "6a170000140fea7935c49c56fe4bdfe45f14d202cc91fa3778"
    )


def test_long_targets_use_pushdata1_and_the_limit_is_79_bytes() -> None:
    for n in (73, 74, 75, 79):
        target = bytes(range(n))
        script = vote_output_script(target, True)
        assert script[1] == (0x4C if n + 1 > 75 else n + 1)
        assert parse_vote_script(script) == ElectoriumVote(target, True)
    assert len(vote_output_script(bytes(MAX_VOTE_TARGET_SCRIPT), False)) == 83
    with pytest.raises(ValueError, match="at most 79 bytes"):
        vote_output_script(bytes(80), False)


@pytest.mark.parametrize(
    ("hex_script", "vote"),
    [
        ("6a4c020001", ElectoriumVote(b"\x01", False)),  # PUSHDATA1, not minimal
        ("6a4d03000001ab", ElectoriumVote(b"\x01\xab", False)),  # PUSHDATA2
        ("6a4e0200000001ab", ElectoriumVote(b"\xab", True)),  # PUSHDATA4
        ("6a0201ff", ElectoriumVote(b"\xff", True)),
    ],
)
def test_the_indexer_takes_any_push_form(hex_script: str, vote: ElectoriumVote) -> None:
    assert parse_vote_script(bytes.fromhex(hex_script)) == vote


@pytest.mark.parametrize(
    "hex_script",
    [
        "",
        "6a",  # OP_RETURN alone
        "6a00",  # OP_0: no data
        "6a51",  # OP_1
        "6a4f",  # OP_1NEGATE
        "6a4c00",  # an empty PUSHDATA1
        "6a0102",  # flag 2
        "6a01000100",  # a third opcode
        "6a0100ac",
        "6a61",  # OP_NOP is not a push
        "6a0501",  # the push runs past the end
        "6a4c",
        "00140100",  # not OP_RETURN
        "516a0100",
    ],
)
def test_what_is_not_a_vote(hex_script: str) -> None:
    assert parse_vote_script(bytes.fromhex(hex_script)) is None


def test_only_zero_value_outputs_are_votes() -> None:
    assert parse_vote_output(TxOut(0, bytes.fromhex("6a0100"))) is not None
    assert parse_vote_output(TxOut(1, bytes.fromhex("6a0100"))) is None


VOTER = script_for_address(DOC_ADDRESS, MAINNET)
OTHER = bytes.fromhex("76a914" + "11" * 20 + "88ac")


def _tx(outputs: list[TxOut], n_inputs: int = 2, coinbase: bool = False) -> Transaction:
    if coinbase:
        inputs = (TxIn(OutPoint(b"\x00" * 32, COINBASE_PREV_INDEX), b"\x01\x02", 0xFFFFFFFF),)
    else:
        inputs = tuple(
            TxIn(OutPoint(bytes([i + 1]) * 32, i), b"", 0xFFFFFFFF) for i in range(n_inputs)
        )
    return Transaction(2, inputs, tuple(outputs), 0)


def test_a_vote_counts_for_the_single_script_its_inputs_spend() -> None:
    vote_script = vote_output_script(OTHER, False)
    tx = _tx([TxOut(5000, VOTER), TxOut(0, vote_script)])
    got = read_transaction_vote(tx, [VOTER, VOTER])
    assert got.status is VoteStatus.COUNTED and got.counts
    assert got.voter_script == VOTER
    assert got.output_index == 1
    assert got.vote == ElectoriumVote(OTHER, False)


def test_inputs_from_two_scripts_void_the_vote() -> None:
    tx = _tx([TxOut(5000, VOTER), TxOut(0, withdraw_vote_script())])
    got = read_transaction_vote(tx, [VOTER, OTHER])
    assert got.status is VoteStatus.SEVERAL_VOTERS and not got.counts
    assert got.voter_script is None
    assert single_voter([VOTER, OTHER]) is None
    assert single_voter([]) is None
    assert single_voter([OTHER, OTHER, OTHER]) == OTHER


def test_two_votes_void_the_whole_transaction() -> None:
    tx = _tx([TxOut(0, withdraw_vote_script()), TxOut(0, vote_output_script(OTHER, True))])
    assert read_transaction_vote(tx, [VOTER, VOTER]).status is VoteStatus.SEVERAL_VOTES


def test_a_valued_vote_shaped_output_is_neither_a_vote_nor_a_second_vote() -> None:
    tx = _tx([TxOut(10, withdraw_vote_script()), TxOut(0, vote_output_script(OTHER, True))])
    got = read_transaction_vote(tx, [VOTER, VOTER])
    assert got.status is VoteStatus.COUNTED and got.output_index == 1


def test_no_vote_and_coinbase() -> None:
    assert read_transaction_vote(_tx([TxOut(1, VOTER)]), [VOTER, VOTER]).status is VoteStatus.NONE
    coinbase = _tx([TxOut(0, withdraw_vote_script())], coinbase=True)
    assert read_transaction_vote(coinbase, []).status is VoteStatus.NONE


def test_the_spent_scripts_must_match_the_inputs() -> None:
    with pytest.raises(ValueError, match="2 inputs"):
        read_transaction_vote(_tx([TxOut(0, withdraw_vote_script())]), [VOTER])


def test_the_parser_never_raises_and_round_trips() -> None:
    rng = random.Random(2024)
    corpus = [
        vote_output_script(VOTER, True),
        withdraw_vote_script(),
        bytes.fromhex("6a4c020001"),
        bytes.fromhex("6a4e0200000001ab"),
        vote_output_script(bytes(79), False),
    ]
    found = 0
    for i in range(6000):
        if i % 3 == 0:
            data = rng.randbytes(rng.choice((0, 1, 2, 3, 24, 83)))
        else:
            buf = bytearray(rng.choice(corpus))
            for _ in range(rng.randint(1, 3)):
                pos = rng.randrange(len(buf) + 1)
                if rng.random() < 0.5 and buf:
                    buf[rng.randrange(len(buf))] = rng.choice(
                        (0x00, 0x01, 0x4C, 0x4D, 0x4E, 0x6A, 0xFF)
                    )
                else:
                    del buf[pos : pos + rng.randint(1, 4)]
            data = bytes(buf)
        vote = parse_vote_script(data)
        if vote is not None:
            found += 1
            assert data[0] == 0x6A
            if len(vote.vote_for) <= MAX_VOTE_TARGET_SCRIPT:
                assert (
                    parse_vote_script(vote_output_script(vote.vote_for, vote.is_candidate)) == vote
                )
    assert found > 100
