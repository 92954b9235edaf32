import coincurve
import pytest

from spv.errors import NonCanonicalError, ParseError
from spv.hashes import hash160
from spv.params import MAINNET
from spv.script import (
    ScriptClass,
    add_vote,
    classify,
    iter_ops,
    op_return_script,
    p2pkh_script,
    p2sh_script,
    p2wpkh_script,
    p2wsh_script,
    split_vote,
    witness_script,
)
from spv.sighash import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    bip143_sighash,
    legacy_sighash,
    p2wpkh_script_code,
)
from spv.tx import Transaction


@pytest.fixture()
def vote_vectors(pkt_vectors):  # type: ignore[no-untyped-def]
    return pkt_vectors("tx_sighash_vote_vectors.json")


def test_signed_transaction_ids_sizes_and_round_trip(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    st = vote_vectors["signed_tx"]
    full = bytes.fromhex(st["tx_hex_with_witness"])
    tx = Transaction.parse(full)
    assert tx.serialize() == full
    assert tx.serialize_no_witness().hex() == st["tx_hex_no_witness"]
    assert Transaction.parse(bytes.fromhex(st["tx_hex_no_witness"])).txid == tx.txid
    assert tx.txid_hex == st["txid"]
    assert tx.wtxid_hex == st["wtxid"]
    assert tx.has_witness and not tx.is_coinbase()
    base, total = len(tx.serialize_no_witness()), len(full)
    assert tx.weight == 3 * base + total
    assert tx.vsize == -(-tx.weight // 4)
    for txin, prev in zip(tx.inputs, st["prevouts"], strict=True):
        assert txin.prevout.txid[::-1].hex() == prev["txid"]
        assert txin.prevout.index == prev["vout"]
        assert txin.sequence == 0xFFFFFFFF
    total_in = sum(p["value"] for p in st["prevouts"])
    assert total_in - sum(o.value for o in tx.outputs) == 1000  # the fee in the description


def test_sighashes_match_and_signatures_verify(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    st = vote_vectors["signed_tx"]
    tx = Transaction.parse(bytes.fromhex(st["tx_hex_with_witness"]))
    p0, p1 = st["prevouts"]
    code0 = p2wpkh_script_code(bytes.fromhex(p0["script"])[2:])
    h0 = bip143_sighash(tx, 0, code0, p0["value"], SIGHASH_ALL)
    h1 = legacy_sighash(tx, 1, bytes.fromhex(p1["script"]), SIGHASH_ALL)
    assert h0.hex() == st["bip143_sighash_input0"]
    assert h1.hex() == st["legacy_sighash_input1"]
    sig0, pub0 = tx.inputs[0].witness
    sig1, pub1 = (op.data for op in iter_ops(tx.inputs[1].script_sig))
    assert sig0 is not None and sig1 is not None and pub1 is not None
    assert sig0[-1] == sig1[-1] == SIGHASH_ALL
    assert coincurve.PublicKey(pub0).verify(sig0[:-1], h0, hasher=None)
    assert coincurve.PublicKey(pub1).verify(sig1[:-1], h1, hasher=None)
    keys = vote_vectors["keys"]
    assert pub0.hex() == keys[0]["pubkey"] and pub1.hex() == keys[1]["pubkey"]
    # A different amount or hash type changes the digest.
    assert bip143_sighash(tx, 0, code0, p0["value"] + 1, SIGHASH_ALL) != h0
    assert legacy_sighash(tx, 1, bytes.fromhex(p1["script"]), SIGHASH_NONE) != h1


def test_all_hash_types_are_distinct_and_single_bug(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    st = vote_vectors["signed_tx"]
    tx = Transaction.parse(bytes.fromhex(st["tx_hex_with_witness"]))
    script = bytes.fromhex(st["prevouts"][1]["script"])
    code0 = p2wpkh_script_code(bytes.fromhex(st["prevouts"][0]["script"])[2:])
    types = [
        b | a
        for b in (SIGHASH_ALL, SIGHASH_NONE, SIGHASH_SINGLE)
        for a in (0, SIGHASH_ANYONECANPAY)
    ]
    legacy = {legacy_sighash(tx, 1, script, t) for t in types}
    witness = {bip143_sighash(tx, 0, code0, 5, t) for t in types}
    assert len(legacy) == len(witness) == 6
    one_output = Transaction(tx.version, tx.inputs, tx.outputs[:1], tx.locktime)
    assert legacy_sighash(one_output, 1, script, SIGHASH_SINGLE) == (1).to_bytes(32, "little")
    with pytest.raises(IndexError):
        legacy_sighash(tx, 2, script, SIGHASH_ALL)


def test_vote_output_script(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    v = vote_vectors["vote_scripts"]
    script = bytes.fromhex(v["p2pkh_with_vote_script"])
    vote = split_vote(script)
    assert vote is not None
    assert vote.vote_for is not None and vote.vote_for.hex() == v["parsed_vote_for"]
    assert vote.vote_against is not None and vote.vote_against.hex() == v["parsed_vote_against"]
    assert classify(script).value == v["script_class"] == ScriptClass.P2PKH.value
    assert add_vote(vote.base_script, vote.vote_for, vote.vote_against) == script
    assert vote.base_script == bytes.fromhex(vote_vectors["keys"][1]["p2pkh_script"])
    tx = Transaction.parse(bytes.fromhex(vote_vectors["signed_tx"]["tx_hex_with_witness"]))
    assert tx.outputs[0].script == script  # the signed tx pays to the vote script
    with pytest.raises(ValueError, match="segwit"):
        add_vote(bytes.fromhex(v["p2wpkh_with_vote_requested"]), vote.vote_for, None)
    only_against = add_vote(vote.base_script, None, vote.vote_against)
    parsed = split_vote(only_against)
    assert parsed is not None and parsed.vote_for is None
    assert split_vote(vote.base_script) is None
    assert split_vote(b"\x66") is None
    assert split_vote(script[:-2] + b"\x66") is None  # truncated candidate push


def test_script_templates_and_classes(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    k = vote_vectors["keys"][0]
    h = hash160(bytes.fromhex(k["pubkey"]))
    assert p2pkh_script(h).hex() == k["p2pkh_script"]
    assert p2wpkh_script(h).hex() == k["p2wpkh_script"]
    assert classify(p2pkh_script(h)) is ScriptClass.P2PKH
    assert classify(p2sh_script(h)) is ScriptClass.P2SH
    assert classify(p2wpkh_script(h)) is ScriptClass.P2WPKH
    assert classify(p2wsh_script(b"\x01" * 32)) is ScriptClass.P2WSH
    assert classify(witness_script(1, b"\x02" * 32)) is ScriptClass.P2TR
    assert classify(witness_script(2, b"\x02" * 10)) is ScriptClass.WITNESS_UNKNOWN
    assert classify(op_return_script(b"hello")) is ScriptClass.NULL_DATA
    assert classify(MAINNET.network_steward_script) is ScriptClass.P2WSH
    assert classify(b"\x21" + bytes.fromhex(k["pubkey"]) + b"\xac") is ScriptClass.P2PK
    multisig = b"\x51\x21" + bytes.fromhex(k["pubkey"]) + b"\x51\xae"
    assert classify(multisig) is ScriptClass.MULTISIG
    assert classify(b"\x4c") is ScriptClass.NONSTANDARD
    with pytest.raises(ParseError):
        list(iter_ops(b"\x4d\x01"))


def test_segwit_marker_without_witness_is_rejected(vote_vectors) -> None:  # type: ignore[no-untyped-def]
    st = vote_vectors["signed_tx"]
    base = bytes.fromhex(st["tx_hex_no_witness"])
    n_inputs = 2
    fake = base[:4] + b"\x00\x01" + base[4:-4] + b"\x00" * n_inputs + base[-4:]
    with pytest.raises(NonCanonicalError):
        Transaction.parse(fake)
    with pytest.raises(ParseError, match="flag"):
        Transaction.parse(base[:4] + b"\x00\x02" + base[4:])
