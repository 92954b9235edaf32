"""Building transactions from a wallet with injected coins: errors for bad addresses, amounts
and fee rates, "max", coin control and freezing, change, stale previews."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.wallet.model import outpoint_text
from app.wallet.txbuild import InsufficientFundsError, TxBuildError
from app.wallet.wallet import Wallet, WalletError
from spv.address import p2pkh_address, p2wpkh_address
from spv.params import REGTEST
from spv.script import p2wpkh_script
from spv.tx import OutPoint, Transaction, TxIn, TxOut

PASSWORD = "pw"
DEST = p2wpkh_address(b"\x02" * 33, REGTEST).encode(REGTEST)


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    w, _ = Wallet.create(tmp_path, "s", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1})
    keys = w.accounts[w.default_account].keys[0]
    outputs = tuple(TxOut(v, keys[i].script) for i, v in enumerate((100_000, 50_000, 20_000)))  # type: ignore[union-attr]
    funding = Transaction(1, (TxIn(OutPoint(b"\x77" * 32, 0), b"", 0xFFFFFFFF),), outputs, 0)
    w.on_block_transactions(10, b"\x10" * 32, 1_700_000_000, [funding])
    w.ledger.tip_height = 20
    return w


def test_errors_are_clear(wallet: Wallet) -> None:
    with pytest.raises(WalletError, match="invalid regtest address 'nope'"):
        wallet.create_send([("nope", 1000)])
    mainnet = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
    with pytest.raises(WalletError, match="mainnet"):
        wallet.create_send([(mainnet, 1000)])
    smallest = r"below the smallest amount this address can receive \(0.00000{} rBTC\)"
    with pytest.raises(WalletError, match=smallest.format(294)):
        wallet.create_send([(DEST, 293)])
    legacy = p2pkh_address(b"\x02" * 33, REGTEST).encode(REGTEST)
    with pytest.raises(WalletError, match=smallest.format(546)):
        wallet.create_send([(legacy, 545)])
    with pytest.raises(InsufficientFundsError, match="insufficient funds") as short:
        wallet.create_send([(DEST, 170_000)])
    # in coins for the CLI; the amounts themselves for a window showing its own unit
    assert "0.0017 rBTC plus the fee are needed, 0.0017 rBTC are spendable" in str(short.value)
    assert (short.value.needed, short.value.available) == (170_000, 170_000)
    with pytest.raises(TxBuildError, match="minimum relay fee"):
        wallet.create_send([(DEST, 1000)], fee_rate="0.5")
    with pytest.raises(WalletError, match='only one payment can be "max"'):
        wallet.create_send([(DEST, "max"), (DEST, "max")])
    with pytest.raises(WalletError, match="not an unspent coin"):
        wallet.create_send([(DEST, 1000)], coins=["00" * 32 + ":0"])


def test_max_change_coin_control_and_freeze(wallet: Wallet) -> None:
    everything = wallet.create_send([(DEST, "max")], fee_rate=2)
    assert len(everything.inputs) == 3 and len(everything.outputs) == 1
    assert everything.outputs[0].value == 170_000 - everything.fee
    assert everything.fee >= 2 * everything.vsize
    # a payment with change: the change goes to a fresh change address of the wallet
    paying = wallet.create_send([(DEST, 60_000)])
    change = [o for o in paying.outputs if o.is_change]
    assert change and change[0].script == wallet.change_script()
    assert change[0].address is not None and change[0].is_mine
    assert sum(c.value for c in paying.inputs) == 60_000 + paying.fee + change[0].value
    # no RBF signal by default (as pktwallet); BIP125 sequence only when asked for
    assert {i.sequence for i in paying.unsigned.inputs} == {0xFFFFFFFF}
    replaceable = wallet.create_send([(DEST, 60_000)], rbf=True)
    assert {i.sequence for i in replaceable.unsigned.inputs} == {0xFFFFFFFD}
    everything_rbf = wallet.create_send([(DEST, "max")], rbf=True)
    assert {i.sequence for i in everything_rbf.unsigned.inputs} == {0xFFFFFFFD}
    # coin control: exactly the chosen coins
    small = next(c for c in wallet.coins() if c.value == 20_000)
    chosen = wallet.create_send([(DEST, 10_000)], coins=[outpoint_text(small.outpoint)])
    assert [c.outpoint for c in chosen.inputs] == [small.outpoint]
    with pytest.raises(InsufficientFundsError, match="chosen coins"):
        wallet.create_send([(DEST, 30_000)], coins=[small.outpoint])
    # frozen coins are left alone
    big = next(c for c in wallet.coins() if c.value == 100_000)
    wallet.freeze([big.outpoint])
    assert wallet.balance().frozen == 100_000 and wallet.balance().spendable == 70_000
    with pytest.raises(InsufficientFundsError):
        wallet.create_send([(DEST, 80_000)])
    with pytest.raises(WalletError, match="frozen"):
        wallet.create_send([(DEST, 1000)], coins=[big.outpoint])
    wallet.freeze([big.outpoint], frozen=False)
    wallet.create_send([(DEST, 80_000)])


def test_a_stale_preview_is_refused_and_pending_spends_are_recorded(wallet: Wallet) -> None:
    preview = wallet.create_send([(DEST, 60_000)])
    tx = wallet.sign(preview, PASSWORD)
    wallet.record_pending(tx)
    assert wallet.history()[-1].height is None and wallet.history()[-1].fee == preview.fee
    with pytest.raises(WalletError, match="prepare it again"):
        wallet.sign(preview, PASSWORD)
    # the change address is used now: the next change address is another one
    assert wallet.change_script() != next(o.script for o in preview.outputs if o.is_change)
    wallet.abandon(tx.txid_hex)
    assert wallet.balance().confirmed == 170_000
    assert p2wpkh_script(b"\x00" * 20) not in wallet.watched_scripts()


def test_consolidation_batches_stay_standard(tmp_path: Path) -> None:
    w, _ = Wallet.create(tmp_path, "c", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1})
    script = w.accounts[w.default_account].keys[0][0].script  # type: ignore[union-attr]
    many = Transaction(
        1,
        (TxIn(OutPoint(b"\x66" * 32, 0), b"", 0xFFFFFFFF),),
        tuple(TxOut(10_000 + i, script) for i in range(1500)),
        0,
    )
    w.on_block_transactions(5, b"\x05" * 32, 1_700_000_000, [many])
    w.ledger.tip_height = 6
    batches = w.create_consolidation()
    assert [len(b.inputs) for b in batches] == [1460, 40]
    for b in batches:
        assert b.vsize * 4 <= 400_000 and len(b.outputs) == 1 and b.outputs[0].is_mine
        assert b.outputs[0].value == sum(c.value for c in b.inputs) - b.fee
    # smallest coins first
    assert max(c.value for c in batches[0].inputs) < min(c.value for c in batches[1].inputs)
    w.close()


def test_history_shows_address_labels_unless_the_transaction_has_its_own(wallet: Wallet) -> None:
    (funding,) = wallet.history()
    assert funding.label == ""
    first = wallet.addresses()[0].address  # paid by the funding transaction
    wallet.set_label(first, "from Alice")
    assert wallet.history()[0].label == "from Alice"  # the receiving address's label
    wallet.set_label(DEST, "Bob's shop")
    sent = wallet.sign(wallet.create_send([(DEST, 30_000)]), PASSWORD)
    wallet.record_pending(sent)
    labels = {e.txid: e.label for e in wallet.history()}
    assert labels[sent.txid_hex] == "Bob's shop"  # the recipient's label, not our change's
    wallet.set_label(funding.txid, "salary")
    assert {e.txid: e.label for e in wallet.history()}[funding.txid] == "salary"


def test_transaction_details_inputs_and_outputs(wallet: Wallet) -> None:
    (funding,) = wallet.history()
    details = wallet.transaction_details(funding.txid)
    (foreign,) = details.inputs  # paid by someone else: its value is not known here
    assert foreign.value is None and not foreign.mine and foreign.address == ""
    assert [o.value for o in details.outputs] == [100_000, 50_000, 20_000]
    assert all(o.mine for o in details.outputs) and not details.coinbase
    sent = wallet.sign(wallet.create_send([(DEST, 30_000)]), PASSWORD)
    wallet.record_pending(sent)
    spend = wallet.transaction_details(sent.txid_hex)
    assert all(i.mine and i.value is not None for i in spend.inputs)
    assert {o.address for o in spend.outputs if not o.mine} == {DEST}
    assert spend.vsize == sent.vsize and spend.outputs[0].outpoint == f"{sent.txid_hex}:0"
    with pytest.raises(WalletError, match="unknown transaction"):
        wallet.transaction_details("00" * 32)


def test_fee_bump_replaces_an_rbf_payment(wallet: Wallet) -> None:
    from app.wallet.wallet import SEQUENCE_RBF

    plain = wallet.sign(wallet.create_send([(DEST, 30_000)]), PASSWORD)
    wallet.record_pending(plain)
    with pytest.raises(WalletError, match="without 'allow fee bump later'"):
        wallet.create_fee_bump(plain.txid_hex, "5")
    wallet.abandon(plain.txid_hex)

    original_preview = wallet.create_send([(DEST, 30_000)], fee_rate="1", rbf=True)
    original = wallet.sign(original_preview, PASSWORD)
    wallet.record_pending(original)
    with pytest.raises(TxBuildError, match="below the network.s minimum"):
        wallet.create_fee_bump(original.txid_hex, "0.1")
    bump = wallet.create_fee_bump(original.txid_hex, "5")
    assert bump.purpose == "bump" and bump.fee > original_preview.fee
    assert bump.fee >= original_preview.fee + bump.vsize  # BIP125: pays its own relay too
    assert [c.outpoint for c in bump.inputs] == [i.prevout for i in original.inputs]
    paid = [o.value for o in bump.outputs if o.address == DEST]
    assert paid == [30_000]  # the recipient gets the same
    change_before = next(o.value for o in original_preview.outputs if o.is_change)
    change_after = next(o.value for o in bump.outputs if o.is_change)
    assert change_before - change_after == bump.fee - original_preview.fee
    replacement = wallet.sign(bump, PASSWORD)  # its coins are spent only by the unconfirmed one
    assert all(i.sequence == SEQUENCE_RBF for i in replacement.inputs)
    wallet.record_pending(replacement)
    txids = {e.txid for e in wallet.history()}
    assert replacement.txid_hex in txids and original.txid_hex not in txids
    with pytest.raises(WalletError, match="too small"):
        wallet.create_fee_bump(replacement.txid_hex, "100000")
    with pytest.raises(WalletError, match="unknown transaction"):
        wallet.create_fee_bump(original.txid_hex, "5")


def test_plan_max_and_the_largest_single_payment_with_many_coins(tmp_path: Path) -> None:
    """1,600 coins: "max" cannot be one transaction (the error says how much one could carry
    and the count), the plan counts exactly what the consolidation builds, and the largest
    single payment spends the largest coins that fit."""
    from app.wallet.errors import TooManyCoinsError

    w, _ = Wallet.create(tmp_path, "c", REGTEST, PASSWORD, kdf_params={"n": 1024, "r": 8, "p": 1})
    script = w.accounts[w.default_account].keys[0][0].script  # type: ignore[union-attr]
    values = [10_000 + 7 * i for i in range(1600)]
    many = Transaction(
        1,
        (TxIn(OutPoint(b"\x66" * 32, 0), b"", 0xFFFFFFFF),),
        tuple(TxOut(v, script) for v in values),
        0,
    )
    w.on_block_transactions(5, b"\x05" * 32, 1_700_000_000, [many])
    w.ledger.tip_height = 6
    with pytest.raises(TooManyCoinsError, match="needs 1,600 coins") as err:
        w.create_send([(DEST, "max")])
    single = w.create_send([(DEST, "max")], fit_one_transaction=True)
    assert len(single.inputs) == 1460 and err.value.coins == 1600
    assert sorted(c.value for c in single.inputs) == sorted(values)[-1460:]
    assert single.outputs[0].value == err.value.single_max
    plan = w.consolidation_plan(fee_rate="2")
    batches = w.create_consolidation(fee_rate="2")
    assert plan.transactions == len(batches) == 2
    assert plan.coins == sum(len(b.inputs) for b in batches) == 1600
    assert plan.fee == sum(b.fee for b in batches)
    assert plan.value == sum(values)
    assert len(w.create_consolidation(fee_rate="2", max_transactions=1)) == 1
    # a frozen coin is left out of both
    w.freeze([f"{many.txid_hex}:0"])
    assert w.consolidation_plan(fee_rate="2").coins == 1599
    w.close()


def test_fee_bump_of_a_payment_without_change_lowers_the_payment(wallet: Wallet) -> None:
    everything = wallet.create_send([(DEST, "max")], rbf=True)
    sent = wallet.sign(everything, PASSWORD)
    wallet.record_pending(sent)
    bump = wallet.create_fee_bump(sent.txid_hex, "4")
    (out,) = bump.outputs
    assert bump.reduced_output == 0 and out.address == DEST
    assert out.value == everything.outputs[0].value - (bump.fee - everything.fee)
    wallet.record_pending(wallet.sign(bump, PASSWORD))
    assert [e.txid for e in wallet.history() if e.direction == "outgoing"] == [
        wallet.history()[-1].txid
    ]
