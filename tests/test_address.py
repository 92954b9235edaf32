"""Base58, bech32/bech32m, addresses, output scripts and WIF keys.

PKT vectors come from tests/data/pkt (see PROVENANCE.md there); the BIP173/BIP350 and
Base58 lists are the published test data of those specifications.
"""

import json
import random
from pathlib import Path
from typing import Any

import coincurve
import pytest

from spv.address import (
    SECP256K1_ORDER,
    Address,
    address_from_script,
    decode_address,
    decode_wif,
    encode_wif,
    is_valid_address,
    p2pkh_address,
    p2sh_address,
    p2sh_p2wpkh_address,
    p2wpkh_address,
    p2wsh_address,
    script_for_address,
)
from spv.base58 import ALPHABET, b58check_decode, b58check_encode, b58decode, b58encode
from spv.bech32 import (
    CHARSET,
    Encoding,
    bech32_decode,
    bech32_encode,
    decode_segwit_address,
    encode_segwit_address,
)
from spv.errors import AddressError, ChecksumError, ParseError, WrongNetworkError
from spv.hashes import hash160, sha256
from spv.params import MAINNET, NETWORKS, REGTEST, TESTNET, NetworkParams

DATA_DIR = Path(__file__).parent / "data" / "pkt"


def _load(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


TX_VECTORS = _load("tx_sighash_vote_vectors.json")
SEED_VECTORS = _load("seedwords_hd_vectors.json")
COINBASE_VECTOR = _load("prelaunch_coinbase_tx.json")

KEYS: list[dict[str, str]] = TX_VECTORS["keys"]
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
NS_SCRIPT_HEX = "0020d5c1005c0d4012d3ae2672319e7f9eb15a57516aeefabbbc062265f67e308f2b"


def _hd_entries() -> list[dict[str, str]]:
    issue172 = SEED_VECTORS["issue172_vector"]
    entries = list(issue172["addresses_bip32"]) + list(issue172["addresses_nonstandard"])
    for vector in SEED_VECTORS["seedwords_vectors"]:
        entries.extend(vector["addresses"])
    return entries


HD_ENTRIES = _hd_entries()


def _pubkey_of(privkey: bytes) -> bytes:
    return bytes(coincurve.PrivateKey(privkey).public_key.format(compressed=True))


# --- Base58 ---------------------------------------------------------------------------------------

# Bitcoin Core src/test/data/base58_encode_decode.json
BASE58_VECTORS = [
    ("", ""),
    ("61", "2g"),
    ("626262", "a3gV"),
    ("636363", "aPEr"),
    ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    ("516b6fcd0f", "ABnLTmg"),
    ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
    ("572e4794", "3EFU7m"),
    ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
    ("10c8511e", "Rt5zm"),
    ("00000000000000000000", "1111111111"),
    (
        "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
        ALPHABET,
    ),
]


@pytest.mark.parametrize(("hex_data", "text"), BASE58_VECTORS)
def test_base58_published_vectors(hex_data: str, text: str) -> None:
    assert b58encode(bytes.fromhex(hex_data)) == text
    assert b58decode(text) == bytes.fromhex(hex_data)


def test_base58_round_trips_random_bytes_with_leading_zeros() -> None:
    rng = random.Random(58)
    for _ in range(300):
        data = bytes(rng.randrange(3)) + rng.randbytes(rng.randrange(40))
        assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize(
    "text", ["0", "O", "I", "l", "3mJr0", "O3yxU", "3sNI", "4kl8", "ab c", "é"]
)
def test_base58_rejects_characters_outside_the_alphabet(text: str) -> None:
    with pytest.raises(AddressError, match="invalid character"):
        b58decode(text)


def test_base58check_decodes_a_known_string_and_catches_a_typo() -> None:
    # Bitcoin Core base58 vector: version 0x80 + 32-byte key, with checksum.
    text = "5Hx15HFGyep2CfPxsJKe2fXJsCVn5DEiyoeGGF6JZjGbTRnqfiD"
    raw = bytes.fromhex(
        "801184cd2cdd640ca42cfc3a091c51d549b2f016d454b2774019c2b2d2e08529fd206ec97e"
    )
    assert b58check_decode(text) == raw[:-4]
    assert b58check_encode(raw[:-4]) == text
    with pytest.raises(ChecksumError):
        b58check_decode(text[:-1] + ("E" if text[-1] != "E" else "F"))
    with pytest.raises(AddressError, match="too short"):
        b58check_decode("1111")


# --- Bech32 / Bech32m (BIP173, BIP350) -------------------------------------------------------------

VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]

VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11" + "l" * 83 + "udsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]

INVALID_BECH32 = [
    "\x20" + "1nwldj5",  # HRP character out of range
    "\x7f" + "1axkwrx",
    "\x80" + "1eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt" + "\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with uppercase HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]

INVALID_BECH32M = [
    "\x20" + "1xj0phk",
    "\x7f" + "1g6xzxy",
    "\x80" + "1vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]

VALID_SEGWIT = [  # BIP350 list (includes BIP173's v0 addresses)
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]

INVALID_SEGWIT = [
    # BIP350
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # invalid HRP
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 for v1
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",  # bech32 for v2
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 for v16
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m for v0
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # bech32m for v0
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # bad checksum char
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # witness version 17
    "bc1pw5dgrnzv",  # 1-byte program
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41 bytes
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # > 4 bits padding
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data
    # BIP173
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
    "bc1gmk9yu",
]

# BIP173's v1+ examples used bech32; BIP350 makes them invalid (they need bech32m).
BIP173_V1_PLUS_NOW_INVALID = [
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
    "BC1SW50QA3JX3S",
    "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [(t, Encoding.BECH32) for t in VALID_BECH32] + [(t, Encoding.BECH32M) for t in VALID_BECH32M],
)
def test_bech32_valid_strings(text: str, encoding: Encoding) -> None:
    decoded = bech32_decode(text)
    assert decoded.encoding is encoding
    assert bech32_encode(decoded.hrp, decoded.data, encoding) == text.lower()
    other = Encoding.BECH32M if encoding is Encoding.BECH32 else Encoding.BECH32
    assert bech32_encode(decoded.hrp, decoded.data, other) != text.lower()


@pytest.mark.parametrize("text", INVALID_BECH32 + INVALID_BECH32M)
def test_bech32_invalid_strings(text: str) -> None:
    with pytest.raises(AddressError):
        bech32_decode(text)


def _witness_script(version: int, program: bytes) -> bytes:
    return bytes([0 if version == 0 else 0x50 + version, len(program)]) + program


@pytest.mark.parametrize(("text", "script_hex"), VALID_SEGWIT)
def test_segwit_valid_addresses(text: str, script_hex: str) -> None:
    hrp = text.lower()[:2]
    decoded = decode_segwit_address(text, expected_hrp=hrp)
    assert decoded.hrp == hrp
    assert _witness_script(decoded.version, decoded.program).hex() == script_hex
    assert encode_segwit_address(hrp, decoded.version, decoded.program) == text.lower()


@pytest.mark.parametrize("text", INVALID_SEGWIT + BIP173_V1_PLUS_NOW_INVALID)
def test_segwit_invalid_addresses(text: str) -> None:
    for hrp in ("bc", "tb"):
        with pytest.raises(AddressError):
            decode_segwit_address(text, expected_hrp=hrp)


@pytest.mark.parametrize("text", BIP173_V1_PLUS_NOW_INVALID)
def test_bech32_checksum_for_v1_plus_is_a_checksum_error(text: str) -> None:
    with pytest.raises(ChecksumError, match="bech32m"):
        decode_segwit_address(text)


def test_segwit_encoder_refuses_invalid_programs() -> None:
    with pytest.raises(AddressError):
        encode_segwit_address("pkt", 0, bytes(21))
    with pytest.raises(AddressError):
        encode_segwit_address("pkt", 17, bytes(32))
    with pytest.raises(AddressError):
        encode_segwit_address("pkt", 1, bytes(41))


@pytest.mark.parametrize(
    ("script_hex", "kind"),
    list(
        zip(
            [script for _, script in VALID_SEGWIT],
            ["p2wpkh", "p2wsh", "witness_unknown", "witness_unknown"]
            + ["witness_unknown", "p2wsh", "p2tr", "p2tr"],
            strict=True,
        )
    ),
)
def test_bip350_witness_programs_as_pkt_addresses(script_hex: str, kind: str) -> None:
    script = bytes.fromhex(script_hex)
    address = Address.from_script(script, MAINNET)
    assert address is not None and address.kind == kind
    text = address.encode(MAINNET)
    assert text.startswith("pkt1")
    assert decode_address(text, MAINNET) == address
    assert script_for_address(text, MAINNET) == script
    assert address_from_script(script, MAINNET) == text


# --- PKT vectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=[k["p2pkh"] for k in KEYS])
def test_tx_vector_keys(key: dict[str, str]) -> None:
    privkey = bytes.fromhex(key["privkey_hex"])
    pubkey = bytes.fromhex(key["pubkey"])
    assert _pubkey_of(privkey) == pubkey

    legacy = p2pkh_address(pubkey, MAINNET)
    assert legacy.encode(MAINNET) == key["p2pkh"]
    assert legacy.to_script().hex() == key["p2pkh_script"]
    assert decode_address(key["p2pkh"], MAINNET) == legacy
    assert script_for_address(key["p2pkh"], MAINNET).hex() == key["p2pkh_script"]
    assert address_from_script(bytes.fromhex(key["p2pkh_script"]), MAINNET) == key["p2pkh"]

    if "p2wpkh" in key:
        segwit = p2wpkh_address(pubkey, MAINNET)
        assert segwit.encode(MAINNET) == key["p2wpkh"]
        assert segwit.to_script().hex() == key["p2wpkh_script"]
        assert decode_address(key["p2wpkh"], MAINNET) == segwit
        assert script_for_address(key["p2wpkh"], MAINNET).hex() == key["p2wpkh_script"]
        assert address_from_script(bytes.fromhex(key["p2wpkh_script"]), MAINNET) == key["p2wpkh"]

    assert decode_wif(key["wif"], MAINNET) == (privkey, True)
    assert encode_wif(privkey, True, MAINNET) == key["wif"]
    assert b58check_decode(key["wif"])[0] == MAINNET.wif_version


def test_vote_vector_scripts() -> None:
    votes = TX_VECTORS["vote_scripts"]
    voter, candidate = KEYS[1], KEYS[0]
    vote_for = bytes.fromhex(votes["parsed_vote_for"])
    vote_against = bytes.fromhex(votes["parsed_vote_against"])
    assert vote_for == script_for_address(candidate["p2pkh"], MAINNET)
    assert vote_against == script_for_address(NS_ADDRESS, MAINNET) == MAINNET.network_steward_script
    with_vote = bytes.fromhex(votes["p2pkh_with_vote_script"])
    expected = (
        script_for_address(voter["p2pkh"], MAINNET)
        + bytes([len(vote_for)])
        + vote_for
        + bytes([len(vote_against)])
        + vote_against
        + b"\x66"
    )
    assert with_vote == expected
    assert address_from_script(with_vote, MAINNET) == votes["extracted_address"] == voter["p2pkh"]
    assert Address.from_script(with_vote, MAINNET, allow_vote=False) is None
    segwit_requested = bytes.fromhex(votes["p2wpkh_with_vote_requested"])
    assert address_from_script(segwit_requested, MAINNET) == candidate["p2wpkh"]


def test_signed_tx_prevout_scripts_belong_to_the_vector_keys() -> None:
    prevouts = TX_VECTORS["signed_tx"]["prevouts"]
    scripts = [bytes.fromhex(p["script"]) for p in prevouts]
    assert [address_from_script(s, MAINNET) for s in scripts] == [
        KEYS[0]["p2wpkh"],
        KEYS[1]["p2pkh"],
    ]


def _hd_address(entry: dict[str, str], params: NetworkParams) -> Address:
    purpose = entry["Path"].split("/")[1]
    pubkey = bytes.fromhex(entry["Pubkey"])
    if purpose == "44'":
        return p2pkh_address(pubkey, params)
    if purpose == "49'":
        return p2sh_p2wpkh_address(pubkey, params)
    assert purpose == "84'"
    return p2wpkh_address(pubkey, params)


@pytest.mark.parametrize(
    "entry", HD_ENTRIES, ids=[f"{i}:{e['Path']}" for i, e in enumerate(HD_ENTRIES)]
)
def test_seedwords_vector_addresses_and_wifs(entry: dict[str, str]) -> None:
    expected = _hd_address(entry, MAINNET)
    assert expected.encode(MAINNET) == entry["Address"]
    decoded = decode_address(entry["Address"], MAINNET)
    assert decoded == expected
    assert address_from_script(decoded.to_script(), MAINNET) == entry["Address"]
    first = {"44'": "p", "49'": "P", "84'": "pkt1q"}[entry["Path"].split("/")[1]]
    assert entry["Address"].startswith(first)

    privkey, compressed = decode_wif(entry["WIF"], MAINNET)
    assert compressed
    assert _pubkey_of(privkey).hex() == entry["Pubkey"]
    assert encode_wif(privkey, True, MAINNET) == entry["WIF"]


def test_seedwords_vectors_cover_all_three_scopes() -> None:
    assert len(HD_ENTRIES) == 72
    kinds = {decode_address(e["Address"], MAINNET).kind for e in HD_ENTRIES}
    assert kinds == {"p2pkh", "p2sh", "p2wpkh"}


def test_network_steward_address_and_script() -> None:
    address = decode_address(NS_ADDRESS, MAINNET)
    assert address.kind == "p2wsh" and address.witness_version == 0
    assert address.to_script().hex() == NS_SCRIPT_HEX
    assert MAINNET.network_steward_script.hex() == NS_SCRIPT_HEX
    assert address_from_script(bytes.fromhex(NS_SCRIPT_HEX), MAINNET) == NS_ADDRESS
    assert address.encode(MAINNET) == NS_ADDRESS


@pytest.mark.parametrize("index", range(len(COINBASE_VECTOR["outputs"])))
def test_prelaunch_coinbase_outputs(index: int) -> None:
    output = COINBASE_VECTOR["outputs"][index]
    script = bytes.fromhex(output["script"])
    value = output["value"].to_bytes(8, "little")
    serialized = value + bytes([len(script)]) + script
    assert serialized.hex() in COINBASE_VECTOR["tx_hex"]
    if "address" in output:
        assert address_from_script(script, MAINNET) == output["address"]
        assert script_for_address(output["address"], MAINNET) == script
    else:
        assert address_from_script(script, MAINNET) is None  # OP_RETURN commitment


# --- wrong network --------------------------------------------------------------------------------


def _sample_addresses() -> list[Address]:
    texts = [KEYS[0]["p2pkh"], KEYS[0]["p2wpkh"], NS_ADDRESS, HD_ENTRIES[4]["Address"]]
    return [decode_address(t, MAINNET) for t in texts]


def _on(address: Address, params: NetworkParams) -> Address:
    return Address(address.kind, address.payload, address.witness_version, params.name)


@pytest.mark.parametrize("address", _sample_addresses(), ids=lambda a: a.kind)
def test_addresses_of_other_networks_are_refused_with_a_clear_message(address: Address) -> None:
    segwit = address.witness_version is not None
    for params in (TESTNET, REGTEST):
        text = _on(address, params).encode(params)
        assert decode_address(text, params) == _on(address, params)
        assert text.startswith(params.bech32_hrp + "1") if segwit else not text.startswith("p")
        with pytest.raises(WrongNetworkError) as info:
            decode_address(text, MAINNET)
        message = str(info.value)
        assert "\n" not in message
        if segwit:
            assert message == f"this is a {params.name} address, but the wallet is on mainnet"
        else:  # testnet and regtest share version bytes
            assert message == "this is a testnet or regtest address, but the wallet is on mainnet"
        assert not is_valid_address(text, MAINNET)
    text = address.encode(MAINNET)
    for params in (TESTNET, REGTEST):
        with pytest.raises(
            WrongNetworkError, match=f"mainnet address, but the wallet is on {params.name}"
        ):
            decode_address(text, params)


def test_testnet_segwit_address_on_regtest_names_testnet() -> None:
    text = _on(_sample_addresses()[1], TESTNET).encode(TESTNET)
    assert text.startswith("tpk1")
    with pytest.raises(
        WrongNetworkError, match="this is a testnet address, but the wallet is on regtest"
    ):
        decode_address(text, REGTEST)


def test_base58_testnet_version_byte_0x6f() -> None:
    pubkey_hash = hash160(bytes.fromhex(KEYS[0]["pubkey"]))
    text = b58check_encode(b"\x6f" + pubkey_hash)
    assert text[0] in "mn"
    assert decode_address(text, TESTNET) == Address("p2pkh", pubkey_hash, None, "testnet")
    with pytest.raises(WrongNetworkError, match="testnet"):
        decode_address(text, MAINNET)


@pytest.mark.parametrize(
    "text",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # Bitcoin P2PKH
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # Bitcoin P2SH
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # Bitcoin segwit
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    ],
)
def test_other_coins_are_not_a_wrong_network_but_an_unknown_address(text: str) -> None:
    with pytest.raises(AddressError) as info:
        decode_address(text, MAINNET)
    assert not isinstance(info.value, WrongNetworkError)
    assert "unknown address" in str(info.value)


def test_every_known_network_decodes_its_own_addresses() -> None:
    payload = hash160(b"key")
    for params in NETWORKS.values():
        for address in (
            Address("p2pkh", payload, None, params.name),
            Address("p2sh", payload, None, params.name),
            Address("p2wpkh", payload, 0, params.name),
            Address("p2tr", bytes(range(32)), 1, params.name),
        ):
            assert decode_address(address.encode(params), params) == address


# --- malformed text -------------------------------------------------------------------------------

ALL_VECTOR_ADDRESSES = sorted(
    {k["p2pkh"] for k in KEYS}
    | {k["p2wpkh"] for k in KEYS if "p2wpkh" in k}
    | {e["Address"] for e in HD_ENTRIES}
    | {NS_ADDRESS}
)


def _substitutions(text: str) -> list[str]:
    """Every single-character substitution using the alphabet of the address's encoding."""
    is_segwit = text.lower().startswith(MAINNET.bech32_hrp + "1")
    alphabet = CHARSET if is_segwit else ALPHABET
    return [
        text[:i] + c + text[i + 1 :] for i in range(len(text)) for c in alphabet if c != text[i]
    ]


@pytest.mark.parametrize("text", ALL_VECTOR_ADDRESSES)
def test_every_one_character_substitution_is_rejected(text: str) -> None:
    is_segwit = text.startswith("pkt1")
    for mutated in _substitutions(text):
        with pytest.raises(AddressError):
            decode_address(mutated, MAINNET)
        if not is_segwit:
            # base58check: a changed character changes the checked bytes
            with pytest.raises(ChecksumError):
                decode_address(mutated, MAINNET)


@pytest.mark.parametrize("text", ALL_VECTOR_ADDRESSES)
def test_sampled_mutations_truncations_and_extensions_are_rejected(text: str) -> None:
    rng = random.Random(text)
    mutations = rng.sample(_substitutions(text), 40)
    mutations += [text[:n] for n in range(1, len(text))]
    mutations += [text[n:] for n in range(1, len(text))]
    mutations += [text + c for c in "1qpa"]
    mutations += [text[:i] + text[i + 1 :] for i in range(len(text))]
    mutations += [text[:i] + text[i + 1] + text[i] + text[i + 2 :] for i in range(len(text) - 1)]
    for mutated in mutations:
        if mutated == text:
            continue
        with pytest.raises(AddressError):
            decode_address(mutated, MAINNET)
        assert not is_valid_address(mutated, MAINNET)


def test_segwit_data_substitution_is_a_checksum_error() -> None:
    prefix_length = len("pkt1")
    for mutated in _substitutions(NS_ADDRESS):
        changed = next(
            i for i, (a, b) in enumerate(zip(mutated, NS_ADDRESS, strict=True)) if a != b
        )
        if changed >= prefix_length:
            with pytest.raises(ChecksumError):
                decode_address(mutated, MAINNET)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty address"),
        ("   ", "empty address"),
        ("p" * 91, "too long"),
        ("pJoPaQDXTtyfS41G5m1rkF5sEkWr3ynnE0", "invalid character '0' at position 34"),
        ("pJoPaQDXTtyfS41G5m1rkF5sEkWr3ynnEz", "bad checksum"),
        ("pJoPaQDXTtyfS41G5m1rkF5sEkWr3ynn", "bad checksum"),
        ("pkt1qrnv4wre3cwyvavxzyg0l6n3zn3kw7qtt34klmD", "mixes upper and lower case"),
        ("pkt1qrnv4wre3cwyvavxzyg0l6n3zn3kw7qtt34klmb", "invalid character 'b'"),
        ("pkt1qrnv4wre3cwyvavxzyg0l6n3zn3kw7qtt34klme", "bad checksum"),
        ("pJoPa QDXTtyfS41G5m1rkF5sEkWr3ynnEy", "invalid character ' '"),
        (b58check_encode(b"\x75" + bytes(19)), "bad length"),
        (b58check_encode(b"\x75" + bytes(21)), "bad length"),
        (b58check_encode(b"\x99" + bytes(20)), "unknown address version byte 0x99"),
        (KEYS[0]["wif"], "private key"),
    ],
)
def test_error_messages_are_clear_single_lines(text: str, message: str) -> None:
    with pytest.raises(AddressError) as info:
        decode_address(text, MAINNET)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ParseError)


def test_whitespace_around_an_address_and_upper_case_bech32_are_accepted() -> None:
    for text in (KEYS[0]["p2pkh"], KEYS[0]["p2wpkh"], NS_ADDRESS):
        expected = decode_address(text, MAINNET)
        assert decode_address(f"  {text}\n\t", MAINNET) == expected
        assert is_valid_address(f" {text} ", MAINNET)
    upper = NS_ADDRESS.upper()
    assert decode_address(upper, MAINNET).encode(MAINNET) == NS_ADDRESS


# --- Address objects and scripts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "version"),
    [
        ("p2pkh", bytes(19), None),
        ("p2pkh", bytes(20), 0),
        ("p2sh", bytes(32), None),
        ("p2wpkh", bytes(32), 0),
        ("p2wpkh", bytes(20), None),
        ("p2wsh", bytes(20), 0),
        ("p2tr", bytes(32), 2),
        ("p2tr", bytes(31), 1),
        ("witness_unknown", bytes(32), 1),
        ("witness_unknown", bytes(20), 0),
        ("witness_unknown", bytes(1), 2),
        ("witness_unknown", bytes(41), 2),
        ("witness_unknown", bytes(20), 17),
    ],
)
def test_inconsistent_address_objects_are_refused(
    kind: Any, payload: bytes, version: int | None
) -> None:
    with pytest.raises(AddressError):
        Address(kind, payload, version, "mainnet")


def test_encoding_an_address_for_another_network_is_refused() -> None:
    address = decode_address(NS_ADDRESS, MAINNET)
    with pytest.raises(AddressError):
        address.encode(TESTNET)


def test_script_helpers() -> None:
    pubkey = bytes.fromhex(KEYS[0]["pubkey"])
    witness_script = bytes.fromhex("51")
    assert p2wsh_address(witness_script, MAINNET).payload == sha256(witness_script)
    assert p2sh_address(witness_script, MAINNET).payload == hash160(witness_script)
    nested = p2sh_p2wpkh_address(pubkey, MAINNET)
    assert nested.payload == hash160(bytes.fromhex(KEYS[0]["p2wpkh_script"]))
    with pytest.raises(AddressError):
        p2wpkh_address(b"\x04" + bytes(64), MAINNET)  # segwit needs a compressed key
    assert p2pkh_address(b"\x04" + bytes(64), MAINNET).kind == "p2pkh"
    with pytest.raises(AddressError):
        p2pkh_address(bytes(33), MAINNET)


P2PKH_SCRIPT = bytes.fromhex(KEYS[1]["p2pkh_script"])
P2SH_SCRIPT = decode_address(HD_ENTRIES[4]["Address"], MAINNET).to_script()
P2WPKH_SCRIPT = bytes.fromhex(KEYS[0]["p2wpkh_script"])


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (b"", None),
        (bytes.fromhex("6a0401020304"), None),  # OP_RETURN
        (b"\x21" + bytes.fromhex(KEYS[0]["pubkey"]) + b"\xac", None),  # P2PK has no address
        (P2PKH_SCRIPT[:-1], None),
        (P2PKH_SCRIPT + b"\x00", None),
        (P2PKH_SCRIPT + b"\x00\x00\x66", KEYS[1]["p2pkh"]),  # vote with both candidates empty
        (P2PKH_SCRIPT + b"\x00\x00\x66\x66", None),
        (P2PKH_SCRIPT + b"\x01\x05\x00\x66", None),  # non-canonical push of a small number
        (P2PKH_SCRIPT + b"\x4c\x02\xaa\xbb\x00\x66", None),  # non-canonical PUSHDATA1
        (P2PKH_SCRIPT + b"\x50" + bytes(80) + b"\x00\x66", None),  # candidate over 79 bytes
        (P2PKH_SCRIPT + b"\x19" + P2PKH_SCRIPT + b"\x66", None),  # only one candidate
        (P2PKH_SCRIPT + b"\x19" + P2PKH_SCRIPT[:-1], None),  # truncated push
        (P2SH_SCRIPT + b"\x00" + b"\x19" + P2PKH_SCRIPT + b"\x66", HD_ENTRIES[4]["Address"]),
        (P2WPKH_SCRIPT + b"\x00\x00\x66", None),  # witness programs cannot carry a vote
        (b"\x00\x15" + bytes(21), None),  # v0 program of 21 bytes
        (b"\x51\x01\x00", None),  # 1-byte program
        (b"\x61\x02\x00\x00", None),  # OP_NOP is not a witness version
        (b"\x00\x14" + bytes(19), None),  # push longer than the script
    ],
)
def test_address_from_script(script: bytes, expected: str | None) -> None:
    assert address_from_script(script, MAINNET) == expected


# --- WIF --------------------------------------------------------------------------------------------


def test_wif_uncompressed_round_trip_and_other_networks() -> None:
    privkey = bytes.fromhex(KEYS[0]["privkey_hex"])
    for params in NETWORKS.values():
        for compressed in (True, False):
            text = encode_wif(privkey, compressed, params)
            assert decode_wif(f" {text} ", params) == (privkey, compressed)
    with pytest.raises(WrongNetworkError, match="testnet or regtest private key"):
        decode_wif(encode_wif(privkey, True, TESTNET), MAINNET)
    with pytest.raises(
        WrongNetworkError, match="mainnet private key, but the wallet is on testnet"
    ):
        decode_wif(KEYS[0]["wif"], TESTNET)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xe0" + bytes(32) + b"\x01", "range"),  # zero key
        (b"\xe0" + bytes.fromhex("ff" * 32) + b"\x01", "range"),  # key >= n
        (b"\xe0" + bytes(31) + b"\x07\x02", "bad length"),  # wrong compression flag
        (b"\xe0" + bytes(30) + b"\x07", "bad length"),
        (b"\x80" + bytes(31) + b"\x07\x01", "unknown private key version byte 0x80"),
        (b"\x75" + bytes(20), "address, not a private key"),
    ],
    ids=["zero", "too-large", "flag", "short", "bitcoin", "address"],
)
def test_wif_errors(payload: bytes, message: str) -> None:
    text = b58check_encode(payload)
    with pytest.raises(AddressError) as info:
        decode_wif(text, MAINNET)
    assert message in str(info.value)
    assert text not in str(info.value)


def test_wif_typo_is_a_checksum_error_that_does_not_echo_the_key() -> None:
    text = KEYS[0]["wif"]
    mutated = text[:10] + ("X" if text[10] != "X" else "Y") + text[11:]
    with pytest.raises(ChecksumError) as info:
        decode_wif(mutated, MAINNET)
    assert mutated not in str(info.value)
    with pytest.raises(AddressError):
        decode_wif("", MAINNET)
    with pytest.raises(AddressError):
        decode_wif("a" * 61, MAINNET)


def test_encode_wif_refuses_invalid_keys() -> None:
    with pytest.raises(AddressError):
        encode_wif(bytes(32), True, MAINNET)
    with pytest.raises(AddressError):
        encode_wif(SECP256K1_ORDER.to_bytes(32, "big"), True, MAINNET)
    with pytest.raises(AddressError):
        encode_wif(bytes(31), True, MAINNET)
