"""Accounts: scopes, receive/change keys and scripts, BIP84/BIP49 published vectors (bitcoin/bips
bip-0084 and bip-0049 mediawiki @ 7fe0b034, typed in as data), and gap-limit discovery."""

from __future__ import annotations

from typing import Any

import pytest

from app.wallet.accounts import (
    DEFAULT_GAP_LIMIT,
    EXTERNAL,
    INTERNAL,
    Account,
    AddressKind,
    bip39_scope,
    bip39_scopes,
    output_script,
    pktwallet_accounts,
    pktwallet_scopes,
    scan_account,
    scan_branch,
)
from app.wallet.bip32 import BITCOIN_MAINNET, ExtendedKey, master_key_from_seed
from app.wallet.bip39 import mnemonic_to_seed
from spv.base58 import b58check_decode
from spv.bech32 import encode_segwit_address
from spv.hashes import hash160
from spv.params import MAINNET, REGTEST, TESTNET
from spv.script import p2pkh_script, p2sh_script, p2wpkh_script

from .mutation import assert_every_change_detected

MNEMONIC = (
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
)

BIP84_VECTOR: dict[str, Any] = {
    "mnemonic": MNEMONIC,
    "rootpriv": "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5",
    "rootpub": "zpub6jftahH18ngZxLmXaKw3GSZzZsszmt9WqedkyZdezFtWRFBZqsQH5hyUmb4pCEeZGmVfQuP5bedXTB8is6fTv19U1GQRyQUKQGUTzyHACMF",
    "account_xpriv": "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE",
    "account_xpub": "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
    "keys": [
        [
            0,
            0,
            "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d",
            "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c",
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
        ],
        [
            0,
            1,
            "Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy",
            "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77",
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",
        ],
        [
            1,
            0,
            "KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF",
            "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6",
            "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el",
        ],
    ],
}

BIP49_VECTOR: dict[str, Any] = {
    "mnemonic": MNEMONIC,
    "masterseed": "uprv8tXDerPXZ1QsVNjUJWTurs9kA1KGfKUAts74GCkcXtU8GwnH33GDRbNJpEqTvipfCyycARtQJhmdfWf8oKt41X9LL1zeD2pLsWmxEk3VAwd",
    "account0Xpriv": "uprv91G7gZkzehuMVxDJTYE6tLivdF8e4rvzSu1LFfKw3b2Qx1Aj8vpoFnHdfUZ3hmi9jsvPifmZ24RTN2KhwB8BfMLTVqaBReibyaFFcTP1s9n",
    "account0Xpub": "upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY",
    "account0recvPrivateKeyHex": "c9bdb49cfbaedca21c4b1f3a7803c34636b1d7dc55a717132443fc3f4c5867e8",
    "account0recvPublicKeyHex": "03a1af804ac108a8a51782198c2d034b28bf90c8803f5a53f76276fa69a4eae77f",
    "keyhash": "38971f73930f6c141d977ac4fd4a727c854935b3",
    "scriptSig": "001438971f73930f6c141d977ac4fd4a727c854935b3",
    "addressBytes": "336caa13e08b96080a32b5d818d59b4ab3b36742",
}


def _same_key(ours: ExtendedKey, slip132_text: str) -> bool:
    """Equal up to the 4 version bytes (the published keys use SLIP-132 zprv/uprv prefixes)."""
    return b58check_decode(slip132_text)[4:] == ours.to_bytes()[4:]


def check_bip84_vector(vector: dict[str, Any]) -> None:
    master = ExtendedKey.from_seed(mnemonic_to_seed(vector["mnemonic"]), BITCOIN_MAINNET)
    assert _same_key(master, vector["rootpriv"])
    assert _same_key(master.neutered(), vector["rootpub"])
    scope = bip39_scope(MAINNET, 84)  # PKT mainnet's wallet coin type is 0, as Bitcoin's
    account = Account.from_master(master, scope)
    assert _same_key(account.key, vector["account_xpriv"])
    assert _same_key(account.key.neutered(), vector["account_xpub"])
    for branch, index, wif, pubkey, address in vector["keys"]:
        key = account.derive(branch, index)
        assert b58check_decode(wif)[1:33] == account.private_key(branch, index)
        assert key.public_key.hex() == pubkey
        assert key.kind is AddressKind.P2WPKH
        assert key.script == p2wpkh_script(hash160(key.public_key))
        assert encode_segwit_address("bc", 0, key.script[2:]) == address
        assert key.address(MAINNET).startswith("pkt1q")


def check_bip49_vector(vector: dict[str, Any]) -> None:
    master = ExtendedKey.from_seed(mnemonic_to_seed(vector["mnemonic"]), BITCOIN_MAINNET)
    assert _same_key(master, vector["masterseed"])
    scope = bip39_scope(REGTEST, 49)  # coin type 1, as in the BIP's testnet vector
    assert scope.path_str == "m/49'/1'/0'"
    account = Account.from_master(master, scope)
    assert _same_key(account.key, vector["account0Xpriv"])
    assert _same_key(account.key.neutered(), vector["account0Xpub"])
    key = account.receive(0)
    assert account.private_key(EXTERNAL, 0).hex() == vector["account0recvPrivateKeyHex"]
    assert key.public_key.hex() == vector["account0recvPublicKeyHex"]
    assert key.pubkey_hash.hex() == vector["keyhash"]
    assert key.redeem_script is not None and key.redeem_script.hex() == vector["scriptSig"]
    assert key.script == p2sh_script(bytes.fromhex(vector["addressBytes"]))


def test_bip84_vector() -> None:
    check_bip84_vector(BIP84_VECTOR)


def test_bip49_vector() -> None:
    check_bip49_vector(BIP49_VECTOR)


def test_bip84_bip49_vectors_reject_any_single_change() -> None:
    assert_every_change_detected(BIP84_VECTOR, check_bip84_vector, skip=frozenset({"mnemonic"}))
    assert_every_change_detected(BIP49_VECTOR, check_bip49_vector, skip=frozenset({"mnemonic"}))


def test_pktwallet_scopes() -> None:
    scopes = pktwallet_scopes(MAINNET)
    assert [s.path_str for s in scopes] == ["m/44'/0'/0'", "m/49'/0'/0'", "m/84'/0'/0'"]
    assert all(s.nonstandard for s in scopes)
    p44, p49, p84 = scopes
    assert (p44.receive_kind, p44.change_kind) == (AddressKind.P2PKH, AddressKind.P2PKH)
    assert (p49.receive_kind, p49.change_kind) == (AddressKind.P2SH_P2WPKH, AddressKind.P2WPKH)
    assert p49.watch_kinds(INTERNAL) == (AddressKind.P2WPKH, AddressKind.P2SH_P2WPKH)
    assert p49.watch_kinds(EXTERNAL) == (AddressKind.P2SH_P2WPKH,)
    assert (p84.receive_kind, p84.change_kind) == (AddressKind.P2WPKH, AddressKind.P2WPKH)
    assert pktwallet_scopes(REGTEST)[0].path_str == "m/44'/1'/0'"


def test_bip39_scopes() -> None:
    assert [s.path_str for s in bip39_scopes(MAINNET)] == [
        "m/84'/0'/0'",
        "m/49'/0'/0'",
        "m/44'/0'/0'",
    ]
    assert [s.path_str for s in bip39_scopes(TESTNET, account=3)][0] == "m/84'/0'/3'"
    assert not any(s.nonstandard for s in bip39_scopes(MAINNET))
    assert bip39_scope(MAINNET).receive_kind is AddressKind.P2WPKH
    assert bip39_scope(MAINNET, 49).change_kind is AddressKind.P2SH_P2WPKH
    with pytest.raises(ValueError):
        bip39_scope(MAINNET, 86)
    with pytest.raises(ValueError):
        bip39_scope(MAINNET, 84, account=-1)


def test_output_scripts() -> None:
    pubkey = bytes.fromhex(BIP84_VECTOR["keys"][0][3])
    h = hash160(pubkey)
    assert output_script(AddressKind.P2PKH, pubkey) == p2pkh_script(h)
    assert output_script(AddressKind.P2WPKH, pubkey) == p2wpkh_script(h)
    assert output_script(AddressKind.P2SH_P2WPKH, pubkey) == p2sh_script(hash160(p2wpkh_script(h)))


def _pkt_master() -> ExtendedKey:
    return master_key_from_seed(bytes.fromhex("4844000102030405060708090a0b0c0d0e0f10"), MAINNET)


def test_derived_key_record() -> None:
    accounts = pktwallet_accounts(_pkt_master(), MAINNET)
    assert [a.scope.purpose for a in accounts] == [44, 49, 84]
    change = accounts[1].change(1)
    assert change.path_str == "m/49'/0'/0'/1/1"
    assert change.kind is AddressKind.P2WPKH and change.redeem_script is None
    assert len(change.watch_scripts) == 2 and change.watch_scripts[0] == change.script
    assert accounts[1].receive(0).redeem_script is not None
    assert accounts[2].receive(0).address(MAINNET).startswith("pkt1q")
    assert accounts[0].receive(0).address(MAINNET).startswith("p")
    with pytest.raises(ValueError):
        accounts[0].derive(2, 0)
    with pytest.raises(ValueError):
        accounts[0].derive(0, -1)
    with pytest.raises(ValueError, match="master"):
        Account.from_master(accounts[0].key, accounts[0].scope)


def test_watch_only_account_matches() -> None:
    full = pktwallet_accounts(_pkt_master(), MAINNET)[2]
    watch = Account(full.scope, ExtendedKey.from_string(full.xpub(), full.key.versions))
    for branch in (EXTERNAL, INTERNAL):
        for index in range(3):
            assert watch.derive(branch, index) == full.derive(branch, index)
    with pytest.raises(ValueError, match="only public"):
        watch.private_key(0, 0)
    assert "xprv" not in repr(full) and full.key.to_string() not in repr(full)


def test_gap_limit_scan() -> None:
    account = pktwallet_accounts(_pkt_master(), MAINNET)[2]
    used_indices = {0, 3, 23}  # 19 unused keys between 3 and 23: within the gap
    used_scripts = {account.receive(i).script for i in used_indices}
    seen: list[bytes] = []

    def is_used(script: bytes) -> bool:
        seen.append(script)
        return script in used_scripts

    scan = scan_branch(account, EXTERNAL, is_used)
    assert scan.last_used_index == 23
    assert len(scan.keys) == 24 + DEFAULT_GAP_LIMIT
    assert [k.index for k in scan.keys] == list(range(24 + DEFAULT_GAP_LIMIT))
    assert [k.index for k in scan.used if k.script in used_scripts] == [0, 3, 23]
    assert scan.next_unused_index == 24
    assert len(seen) == len(scan.keys)
    # 20 unused keys after a used one end the scan: a key used at 24 would not be found.
    late = {account.receive(i).script for i in (3, 24)}
    assert scan_branch(account, EXTERNAL, lambda s: s in late).last_used_index == 3
    # With gap 5 the scan stops before index 23.
    short = scan_branch(account, EXTERNAL, is_used, gap=5)
    assert short.last_used_index == 3 and len(short.keys) == 9
    empty = scan_branch(account, INTERNAL, lambda _s: False, gap=3)
    assert empty.last_used_index is None and len(empty.keys) == 3 and empty.used == ()
    assert empty.next_unused_index == 0
    with pytest.raises(ValueError):
        scan_branch(account, EXTERNAL, is_used, gap=0)


def test_gap_scan_watches_both_forms_of_49_change() -> None:
    account = pktwallet_accounts(_pkt_master(), MAINNET)[1]
    wrapped = output_script(AddressKind.P2SH_P2WPKH, account.change(2).public_key)
    result = scan_account(account, lambda s: s == wrapped, gap=4)
    assert result[INTERNAL].last_used_index == 2
    assert result[EXTERNAL].last_used_index is None
