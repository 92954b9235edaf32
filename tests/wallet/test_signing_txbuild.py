"""Signing (against a pktd-signed vector), the test peer's script verifier, sizes, dust and coin
selection."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from app.wallet.signing import SigningInput, sign_transaction
from app.wallet.txbuild import (
    INPUT_WEIGHT,
    Candidate,
    InsufficientFundsError,
    TooManyInputsError,
    branch_and_bound,
    dust_threshold,
    is_dust,
    parse_fee_rate,
    select_coins,
    tx_weight,
    vsize_of_weight,
)
from spv.hashes import hash160
from spv.script import add_vote, p2pkh_script, p2sh_script, p2wpkh_script
from spv.tx import OutPoint, Transaction, TxIn, TxOut
from tests.support.script_verify import VerifyError, verify_transaction


@pytest.fixture(scope="module")
def vector(pkt_vectors: Any) -> Any:
    return pkt_vectors("tx_sighash_vote_vectors.json")


def _unsigned(tx: Transaction) -> Transaction:
    return Transaction(
        tx.version,
        tuple(TxIn(i.prevout, b"", i.sequence) for i in tx.inputs),
        tx.outputs,
        tx.locktime,
    )


def test_signatures_match_pktd_byte_for_byte(vector: Any) -> None:
    signed = vector["signed_tx"]
    reference = Transaction.parse(bytes.fromhex(signed["tx_hex_with_witness"]))
    keys = [bytes.fromhex(k["privkey_hex"]) for k in vector["keys"]]
    prevs = signed["prevouts"]
    inputs = [
        SigningInput(bytes.fromhex(prevs[0]["script"]), prevs[0]["value"], "p2wpkh", keys[0]),
        SigningInput(bytes.fromhex(prevs[1]["script"]), prevs[1]["value"], "p2pkh", keys[1]),
    ]
    ours = sign_transaction(_unsigned(reference), inputs)
    assert ours.serialize().hex() == signed["tx_hex_with_witness"]


def _lookup(prevs: list[dict[str, Any]]) -> Any:
    table = {
        OutPoint(bytes.fromhex(p["txid"])[::-1], p["vout"]): (
            bytes.fromhex(p["script"]),
            p["value"],
        )
        for p in prevs
    }
    return table.__getitem__


def test_verifier_accepts_pktd_tx_and_rejects_tampering(vector: Any) -> None:
    signed = vector["signed_tx"]
    tx = Transaction.parse(bytes.fromhex(signed["tx_hex_with_witness"]))
    lookup = _lookup(signed["prevouts"])
    verify_transaction(tx, lookup)
    # change an output value: both signatures break
    bad_out = Transaction(
        tx.version,
        tx.inputs,
        (TxOut(tx.outputs[0].value - 1, tx.outputs[0].script), tx.outputs[1]),
        0,
    )
    with pytest.raises(VerifyError, match="bad signature"):
        verify_transaction(bad_out, lookup)
    # swap the witness public key for another one
    other_pub = bytes.fromhex(vector["keys"][1]["pubkey"])
    w = tx.inputs[0].witness
    bad_key = Transaction(
        1,
        (TxIn(tx.inputs[0].prevout, b"", 0xFFFFFFFF, (w[0], other_pub)), tx.inputs[1]),
        tx.outputs,
        0,
    )
    with pytest.raises(VerifyError, match="bad script"):
        verify_transaction(bad_key, lookup)
    # spending more than the inputs
    rich = Transaction(1, tx.inputs, (TxOut(10**12, tx.outputs[0].script),), 0)
    with pytest.raises(VerifyError):
        verify_transaction(rich, lookup)


def test_sign_every_kind_including_a_vote_output_and_verify() -> None:
    keys = [bytes([i + 1]) * 32 for i in range(4)]
    from app.wallet.signing import public_key_of

    pubs = [public_key_of(k) for k in keys]
    vote = add_vote(p2pkh_script(hash160(pubs[3])), p2pkh_script(b"\x01" * 20), None)
    prevs = [
        (p2wpkh_script(hash160(pubs[0])), 1000, "p2wpkh"),
        (p2sh_script(hash160(p2wpkh_script(hash160(pubs[1])))), 2000, "p2sh-p2wpkh"),
        (p2pkh_script(hash160(pubs[2])), 3000, "p2pkh"),
        (vote, 4000, "p2pkh"),
    ]
    outpoints = [OutPoint(bytes([9]) * 32, i) for i in range(4)]
    tx = Transaction(
        1,
        tuple(TxIn(o, b"", 0xFFFFFFFF) for o in outpoints),
        (TxOut(9000, p2wpkh_script(b"\x02" * 20)),),
        0,
    )
    signed = sign_transaction(
        tx, [SigningInput(s, v, kind, k) for (s, v, kind), k in zip(prevs, keys, strict=True)]
    )
    table = {o: (s, v) for o, (s, v, _) in zip(outpoints, prevs, strict=True)}
    verify_transaction(signed, table.__getitem__)
    # the size estimate is an upper bound of the real weight
    estimate = tx_weight([k for _, _, k in prevs], [o.script for o in tx.outputs])
    assert signed.weight <= estimate <= signed.weight + 4 * 4
    # a signature made for another amount fails BIP143
    wrong = dict(table)
    wrong[outpoints[0]] = (prevs[0][0], 1001)
    with pytest.raises(VerifyError, match="bad signature"):
        verify_transaction(signed, wrong.__getitem__)


def test_dust_thresholds_match_pktd() -> None:
    wpkh, pkh = p2wpkh_script(b"\x00" * 20), p2pkh_script(b"\x00" * 20)
    assert dust_threshold(wpkh) == 294 and dust_threshold(pkh) == 546
    assert is_dust(293, wpkh) and not is_dust(294, wpkh)
    assert is_dust(545, pkh) and not is_dust(546, pkh)
    voted = add_vote(pkh, pkh, None)
    assert dust_threshold(voted) > 546


def test_fee_rate_parsing() -> None:
    assert parse_fee_rate("1") == 1 and parse_fee_rate("2.5") == Fraction(5, 2)
    for bad in ("x", "-1", "1e9"):
        with pytest.raises(ValueError):
            parse_fee_rate(bad)


def _cands(values: list[int], confirmed: bool = True, kind: str = "p2wpkh") -> list[Candidate]:
    return [
        Candidate(OutPoint(bytes([n % 256, n // 256]) + b"\x00" * 30, 0), v, kind, confirmed)
        for n, v in enumerate(values)
    ]


DEST = [p2wpkh_script(b"\x03" * 20)]
CHANGE = p2wpkh_script(b"\x04" * 20)


def test_branch_and_bound_finds_exact_matches() -> None:
    values = [Fraction(v) for v in (50, 40, 30, 20, 10)]
    found = branch_and_bound(values, Fraction(60), Fraction(0))
    assert found is not None and sum(values[i] for i in found) == 60
    assert branch_and_bound(values, Fraction(151), Fraction(5)) is None


def test_selection_pays_amount_and_fee_at_the_rate() -> None:
    coins = _cands([100_000, 50_000, 20_000, 5_000])
    sel = select_coins(coins, DEST, 60_000, Fraction(1), CHANGE)
    total = sum(c.value for c in sel.coins)
    assert total == 60_000 + sel.fee + sel.change
    assert sel.fee >= vsize_of_weight(sel.weight)
    assert sel.change == 0 or sel.change >= 294


def test_selection_exact_match_needs_no_change() -> None:
    rate = Fraction(1)
    per_input = INPUT_WEIGHT["p2wpkh"] / 4
    base = vsize_of_weight(tx_weight(["p2wpkh"], DEST))
    coins = _cands([70_000, 30_000 + base, 900_000])
    sel = select_coins(coins, DEST, 30_000, rate, CHANGE)
    assert sel.change == 0 and [c.value for c in sel.coins] == [30_000 + base]
    assert per_input > 0


def test_selection_prefers_confirmed_and_drops_dust_change() -> None:
    coins = _cands([10_000], confirmed=True) + _cands([1_000_000], confirmed=False)
    sel = select_coins(coins, DEST, 9_600, Fraction(1), CHANGE)
    assert all(c.confirmed for c in sel.coins)
    # 400 units left, 141 of them for the fee with change: 259 would be dust, all goes to fee
    assert sel.change == 0 and sel.fee == 400
    sel = select_coins(coins, DEST, 100_000, Fraction(1), CHANGE)
    assert any(not c.confirmed for c in sel.coins)


def test_selection_errors() -> None:
    with pytest.raises(InsufficientFundsError, match="insufficient funds"):
        select_coins(_cands([1000, 2000]), DEST, 5000, Fraction(1), CHANGE)
    many = _cands([1000] * 600, kind="p2pkh")
    with pytest.raises(TooManyInputsError, match="consolidate"):
        select_coins(many, DEST, 450_000, Fraction(1), CHANGE)


def test_uncompressed_p2pkh_key_signs_and_fits_its_size_estimate() -> None:
    from app.wallet.signing import public_key_of

    key = b"\x05" * 32
    pub = public_key_of(key, compressed=False)
    script = p2pkh_script(hash160(pub))
    outpoint = OutPoint(b"\x08" * 32, 0)
    tx = Transaction(1, (TxIn(outpoint, b"", 0xFFFFFFFF),), (TxOut(900, DEST[0]),), 0)
    signed = sign_transaction(tx, [SigningInput(script, 1000, "p2pkh-uncompressed", key)])
    verify_transaction(signed, {outpoint: (script, 1000)}.__getitem__)
    assert len(pub) == 65 and signed.weight <= tx_weight(["p2pkh-uncompressed"], [DEST[0]])


def test_batch_builder_counts_exactly_as_tx_weight() -> None:
    """The incremental batch counter agrees with tx_weight and the input limits for random
    mixes of input kinds (legacy inputs lower the limit to 499 and add empty witnesses)."""
    import random

    from app.wallet.txbuild import INPUT_WEIGHT, MAX_STANDARD_WEIGHT, BatchBuilder, max_inputs_for

    rng = random.Random(5)
    for _ in range(200):
        dest = [bytes(rng.randrange(22, 35))]
        builder, kinds = BatchBuilder(dest), []
        for _ in range(rng.randrange(1, 1600)):
            kind = rng.choice(list(INPUT_WEIGHT))
            trial = [*kinds, kind]
            fits = (
                len(trial) <= max_inputs_for(trial)
                and tx_weight(trial, dest) <= MAX_STANDARD_WEIGHT
            )
            assert builder.fits(kind) == fits
            if not fits:
                break
            builder.add(kind)
            kinds.append(kind)
            assert builder.weight() == tx_weight(kinds, dest)
