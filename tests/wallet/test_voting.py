"""Electorium votes built from the wallet's own coins (injected, no network): the vote bytes of
electorium.md §5, one transaction per voting address spending only that address's coins
(largest first, just enough for the fee), the change back to it, the addresses skipped and
why, the warnings of §4.2, gathering the coins on one address."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.wallet.txbuild import InsufficientFundsError
from app.wallet.voting import COUNTS_ONLY_IF, VotingAddress
from app.wallet.wallet import Wallet, WalletError
from spv.address import script_for_address
from spv.electorium_vote import read_transaction_vote
from spv.params import MAINNET
from spv.tx import OutPoint, Transaction, TxIn, TxOut

PASSWORD = "pw"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
DOC_ADDRESS = "pkt1qtu5y64ln9n9mw3e88ydt28jgmu327ygme8y54t"  # electorium.md §5
COIN = MAINNET.units_per_coin
T0 = 1_700_000_000


def _funding(outputs: list[tuple[bytes, int]], tag: int) -> Transaction:
    return Transaction(
        1,
        (TxIn(OutPoint(bytes([tag]) * 32, 0), b"", 0xFFFFFFFF),),
        tuple(TxOut(v, s) for s, v in outputs),
        0,
    )


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    """Address A holds 5 coins and 200 small coins, B 3 coins; the tip is 2,000,000."""
    w, _ = Wallet.create(tmp_path, "v", MAINNET, PASSWORD, kdf_params=FAST_KDF)
    keys = w.accounts[w.default_account].keys[0]
    a, b = keys[0].script, keys[1].script  # type: ignore[union-attr]
    small = [(a, 10_000 + i) for i in range(200)]
    w.on_block_transactions(
        1_999_000, b"\x10" * 32, T0, [_funding([(a, 5 * COIN), (b, 3 * COIN), *small], 1)]
    )
    w.ledger.tip_height = 2_000_000
    return w


def _addresses(wallet: Wallet) -> tuple[str, str]:
    keys = wallet.accounts[wallet.default_account].keys[0]
    return keys[0].address(MAINNET), keys[1].address(MAINNET)  # type: ignore[union-attr]


def test_voting_addresses_and_their_weight(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    voters = wallet.voting.voting_addresses()
    assert [(v.address, v.balance, v.coins) for v in voters] == [
        (a, 5 * COIN + sum(10_000 + i for i in range(200)), 201),
        (b, 3 * COIN, 1),
    ]


def test_a_vote_per_address_with_the_doc_vector_bytes(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    batch = wallet.voting.create_vote(DOC_ADDRESS, candidate=True)
    assert batch.vote_script.hex() == "6a170100145f284d57f32ccbb74727391ab51e48df22af111b"
    assert batch.kind == "vote" and batch.vote_for == DOC_ADDRESS
    assert [v.address for v in batch.voters] == [a, b] and batch.skipped == ()
    assert COUNTS_ONLY_IF in batch.warnings
    assert "each of the 2 addresses stands as a separate candidate" in batch.warnings
    for voter, preview in zip(batch.voters, batch.previews, strict=True):
        # only the largest coin: it covers the fee (201 coins on A, one of them moves)
        (coin,) = preview.inputs
        assert coin.value == (5 if voter.address == a else 3) * COIN
        assert all(c.script == voter.script for c in preview.inputs)
        change, vote = preview.outputs
        assert (change.script, change.is_change, change.is_mine) == (voter.script, True, True)
        assert (vote.script, vote.value) == (batch.vote_script, 0)
        assert change.value == coin.value - preview.fee and 0 < preview.fee < 1000
        # what the vote indexer reads from it
        read = read_transaction_vote(preview.unsigned, [c.script for c in preview.inputs])
        assert read.counts and read.voter_script == voter.script
        assert read.vote is not None and read.vote.is_candidate
        assert read.vote.vote_for == script_for_address(DOC_ADDRESS, MAINNET)
    assert batch.total_fee == sum(p.fee for p in batch.previews)
    # the signed transactions are no larger than previewed
    for preview in batch.previews:
        signed = wallet.sign(preview, PASSWORD)
        assert signed.vsize <= preview.vsize and signed.outputs == preview.unsigned.outputs


def test_withdraw_candidacy_and_from(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    with pytest.raises(WalletError, match="no address of this wallet holding coins has a vote"):
        wallet.voting.create_vote(None, withdraw=True)
    with pytest.raises(WalletError, match="each would stand as a separate candidate"):
        wallet.voting.create_vote(None, candidate=True)
    stand = wallet.voting.create_vote(None, candidate=True, from_addresses=[b])
    assert stand.kind == "candidate" and stand.vote_script.hex() == "6a0101"
    assert [v.address for v in stand.voters] == [b] and COUNTS_ONLY_IF not in stand.warnings
    withdraw = wallet.voting.create_vote(None, withdraw=True, from_addresses=[a, a])
    assert withdraw.vote_script.hex() == "6a0100" and [v.address for v in withdraw.voters] == [a]
    with pytest.raises(WalletError, match="is not an address of this wallet"):
        wallet.voting.create_vote(DOC_ADDRESS, from_addresses=[DOC_ADDRESS])
    with pytest.raises(WalletError, match="invalid mainnet address"):
        wallet.voting.create_vote("pkt1qnotanaddress")
    with pytest.raises(WalletError, match="give an address to vote for"):
        wallet.voting.create_vote(None)
    with pytest.raises(WalletError, match="no target and no candidacy"):
        wallet.voting.create_vote(DOC_ADDRESS, withdraw=True)


def test_voting_for_an_own_address(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    batch = wallet.voting.create_vote(b)
    # B's vote for itself would be ignored by the count: B does not vote
    assert [v.address for v in batch.voters] == [a]
    assert batch.skipped == ((b, "an address's vote for itself is ignored by the count"),)
    assert any("has not voted or declared itself a candidate" in w for w in batch.warnings)


def test_addresses_that_cannot_vote_are_skipped_with_the_reason(
    wallet: Wallet, tmp_path: Path
) -> None:
    a, b = _addresses(wallet)
    keys = wallet.accounts[wallet.default_account].keys[0]
    c_script = keys[2].script  # type: ignore[union-attr]
    # C: only an immature coinbase reward (the largest coin of the wallet)
    coinbase = Transaction(
        1,
        (TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), b"\x03\x01\x02\x03", 0xFFFFFFFF),),
        (TxOut(50 * COIN, c_script),),
        0,
    )
    wallet.on_block_transactions(1_999_990, b"\x11" * 32, T0 + 60, [coinbase])
    # B's only coin frozen
    b_coin = next(c for c in wallet.coins() if c.value == 3 * COIN)
    wallet.freeze([b_coin.outpoint])
    batch = wallet.voting.create_vote(DOC_ADDRESS)
    c = keys[2].address(MAINNET)  # type: ignore[union-attr]
    assert [v.address for v in batch.voters] == [a]
    reasons = dict(batch.skipped)
    assert "none of its coins can be spent now" in reasons[c]
    assert "none of its coins can be spent now" in reasons[b]
    wallet.freeze([b_coin.outpoint], frozen=False)
    # D: one coin whose change would be dust: the fee takes it all and D would keep nothing
    d_script = keys[3].script  # type: ignore[union-attr]
    wallet.on_block_transactions(1_999_001, b"\x12" * 32, T0, [_funding([(d_script, 400)], 3)])
    d = keys[3].address(MAINNET)  # type: ignore[union-attr]
    with pytest.raises(InsufficientFundsError, match="no address of this wallet can cast") as e:
        wallet.voting.create_vote(DOC_ADDRESS, from_addresses=[d])
    assert "it would hold nothing after the fee" in str(e.value)


def test_dust_coins_that_do_not_cover_the_fee(tmp_path: Path) -> None:
    w, _ = Wallet.create(tmp_path, "d", MAINNET, PASSWORD, kdf_params=FAST_KDF)
    address = w.receive_address()
    script = script_for_address(address, MAINNET)
    w.on_block_transactions(100, b"\x10" * 32, T0, [_funding([(script, 50)] * 3, 2)])
    w.ledger.tip_height = 200
    with pytest.raises(InsufficientFundsError) as failed:
        w.voting.create_vote(DOC_ADDRESS)
    assert "do not cover the fee" in str(failed.value) and address in str(failed.value)


def test_the_vote_query_walks_the_address_index(wallet: Wallet) -> None:
    (voter, *_) = wallet.voting.voting_addresses()
    plan = " ".join(
        str(row[-1])
        for row in wallet.store.db.execute(
            "EXPLAIN QUERY PLAN SELECT c.value FROM coins c JOIN txs t ON t.id = c.tx "
            "WHERE c.script = ? AND c.spent_by IS NULL ORDER BY c.value DESC",
            (voter.script_id,),
        )
    )
    assert "coins_unspent_script" in plan and "TEMP B-TREE" not in plan


def test_gather_the_coins_on_one_address(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    (gather,) = wallet.voting.create_gather(b)
    assert gather.purpose == "gather"
    assert {c.script for c in gather.inputs} == {script_for_address(a, MAINNET)}
    assert len(gather.inputs) == 201
    (out,) = gather.outputs
    assert out.script == script_for_address(b, MAINNET) and out.is_mine
    with pytest.raises(WalletError, match="is not an address of this wallet"):
        wallet.voting.create_gather(DOC_ADDRESS)


def test_voting_address_is_plain_data() -> None:
    v = VotingAddress("pkt1q", b"\x00", 3, 7, 1)
    assert v.to_json() == {"address": "pkt1q", "balance": 7, "coins": 1}


def test_the_snapshot_for_the_reminder_reads_only_the_voters(wallet: Wallet) -> None:
    a, b = _addresses(wallet)
    assert wallet.voting.snapshot(every_address=False).voters == ()
    (preview,) = wallet.voting.create_vote(DOC_ADDRESS, from_addresses=[b]).previews
    wallet.record_pending(wallet.sign(preview, PASSWORD))
    quick = wallet.voting.snapshot(every_address=False)
    assert [v.address for v in quick.voters] == [b] and [c.voter for c in quick.casts] == [b]
    full = wallet.voting.snapshot()
    assert [v.address for v in full.voters] == [a, b] and full.casts == quick.casts
    assert quick.voters[0] == next(v for v in full.voters if v.address == b)
