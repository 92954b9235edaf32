"""Bencode (with cjdroute's quirks) and cjdns keys, addresses and signatures."""

import contextlib

import pytest

from app.vpn import bencode, keys

from .conftest import vpn_vector
from .ref import benc

EX = vpn_vector("cjdns_admin_examples.json")


def test_encode_is_canonical() -> None:
    assert bencode.encode({"q": "ping"}) == b"d1:q4:pinge"
    assert bencode.encode({"q": "cookie"}) == b"d1:q6:cookiee"
    assert bencode.encode({"b": 1, "a": [b"x", -3], "A": {}}) == b"d1:Ade1:al1:xi-3ee1:bi1ee"
    derived = EX["authorization_digest_derived_example"]
    assert (
        bencode.encode({"q": "Sign_sign", "args": {"msgHash": derived["msgHash"]}}).decode()
        == derived["sign_sign_request_unauthenticated_bencode"]
    )


def test_decode_accepts_padding_and_any_key_order() -> None:
    cap = EX["captured_traffic_verbatim"]
    req = bencode.decode(cap["authenticated_request_accepted"].encode())
    assert req["aq"] == "UDPInterface_beginConnection"
    assert req["args"]["interfaceNumber"] == 0 and req["txid"] == "07000000"
    assert bencode.decode(cap["response_to_request_accepted"].encode()) == {
        "error": "none",
        "txid": "07000000",
    }
    assert bencode.decode(cap["response_to_request_too_big"].encode()) == {
        "error": "Request too big."
    }
    assert bencode.decode(b"d000001:q4:ponge") == {"q": "pong"}
    assert bencode.decode(b"d00000011:connectionsli0ee5:error4:nonee")["connections"] == [0]
    value = {"z": 1, "a": {"y": [1, "two"], "b": "c"}}
    assert bencode.decode(benc(value, pad_first_key=3, reverse_keys=True)) == value


def test_binary_strings_stay_bytes() -> None:
    assert bencode.decode(b"d1:k2:\xff\xfee") == {"k": b"\xff\xfe"}
    assert bencode.decode(bencode.encode({"k": b"\x00\x01"})) == {"k": "\x00\x01"}


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"d",
        b"i12",
        b"5:abc",
        b"d1:a",
        b"l1:ae1:b",
        b"di1ei2ee",
        b"x",
        b"d1:a1:b1:a1:ce",
        b"-1:",
    ],
)
def test_decode_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(bencode.BencodeError):
        bencode.decode(bad)


def test_encode_rejects_unrepresentable() -> None:
    with pytest.raises(bencode.BencodeError):
        bencode.encode({"a": 1.5})
    with pytest.raises(bencode.BencodeError):
        bencode.encode({1: 2})


def test_key_to_ipv6_vectors() -> None:
    for row in EX["key_to_ipv6_derived_checks"]["vectors"]:
        assert keys.key_to_ipv6(row["publicKey"]) == row["ipv6"]
    for peer in vpn_vector("cjdns-peers-finder_peers.json"):
        assert keys.key_to_ipv6(peer["publicKey"]) == peer["ip6"]


def test_base32_roundtrip_and_errors() -> None:
    key = "929cwrjn11muk4cs5pwkdc5f56hu475wrlhq90pb9g38pp447640.k"
    raw = keys.parse_public_key(key)
    assert keys.format_public_key(raw) == key
    assert keys.b32_decode(keys.b32_encode(bytes(range(64)))) == bytes(range(64))
    with pytest.raises(keys.CjdnsKeyError, match="52 characters"):
        keys.parse_public_key("k")
    with pytest.raises(keys.CjdnsKeyError, match="end in .k"):
        keys.parse_public_key(key[:-2] + ".x")
    with pytest.raises(keys.CjdnsKeyError, match="base-32"):
        keys.parse_public_key("-" * 52 + ".k")
    with pytest.raises(keys.CjdnsKeyError, match="not a valid cjdns public key"):
        keys.parse_public_key("z" * 51 + "0.k")
    assert not keys.is_public_key("zzz")


def test_sign_md_signature() -> None:
    sv = EX["sign_examples_verbatim"]
    sig = sv["Sign_sign"]["reply"]["signature"]
    assert (
        keys.verify_signature(sig, "test message") == sv["Sign_checkSig_valid"]["reply"]["pubkey"]
    )
    assert (
        keys.key_to_ipv6(keys.verify_signature(sig, "test message"))
        == (sv["Sign_checkSig_valid"]["reply"]["ipv6"])
    )
    cases = {
        "Sign_checkSig_last_char_changed": "test message",
        "Sign_checkSig_separator_replaced": "test message",
        "Sign_checkSig_first_char_replaced": "test message",
    }
    for name, msg in cases.items():
        with pytest.raises(keys.CjdnsKeyError) as exc:
            keys.verify_signature(sv[name]["signature"], msg)
        assert str(exc.value) == sv[name]["reply"]["error"]
    with pytest.raises(keys.CjdnsKeyError) as exc:
        keys.verify_signature(sig, "not the right message")
    assert str(exc.value) == sv["Sign_checkSig_wrong_message"]["reply"]["error"]
    with pytest.raises(keys.CjdnsKeyError, match="max 64 bytes"):
        keys.verify_signature(sig, "x" * 65)


def test_decoder_fuzz_raises_only_bencode_errors() -> None:
    import random

    rng = random.Random(9)
    seeds = [v.encode() for v in EX["captured_traffic_verbatim"].values() if isinstance(v, str)]
    seeds += [b"i" + b"9" * 5000 + b"e", b"9" * 5000 + b":x", b"l" * 100 + b"e" * 100]
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(0, 4)):
            if data:
                i = rng.randrange(len(data))
                op = rng.randrange(3)
                if op == 0:
                    data[i] = rng.randrange(256)
                elif op == 1:
                    del data[i]
                else:
                    data.insert(i, rng.choice(b"deil:0123456789-"))
        with contextlib.suppress(bencode.BencodeError):
            bencode.decode(bytes(data))
