"""Primitives (spec section 2): hash_vectors.json, RFC 8439 ChaCha20/Poly1305, Expand."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from miner.reference import primitives

from .conftest import load_json

HASH_VECTORS = load_json("hash_vectors.json")["vectors"]


@pytest.mark.parametrize("vector", HASH_VECTORS[:2], ids=lambda v: v["name"])
def test_blake2b_vectors(vector: dict[str, Any]) -> None:
    data = vector["input_ascii"].encode()
    fn = primitives.b256 if vector["digest_size"] == 32 else primitives.b512
    assert fn(data).hex() == vector["expected_hex"]


def test_b256_is_not_a_truncated_b512() -> None:
    assert primitives.b256(b"hello world") != primitives.b512(b"hello world")[:32]


def test_sha256d_header_vector() -> None:
    vector = HASH_VECTORS[2]
    header = bytes.fromhex(vector["input_hex"])
    digest = hashlib.sha256(hashlib.sha256(header).digest()).digest()
    assert digest.hex() == vector["expected_internal_order_hex"]
    assert digest[::-1].hex() == vector["expected_display_hex_byte_reversed"]


def test_chacha20_block_rfc8439_2_3_2() -> None:
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a00000000")
    expected = (
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
    )
    assert primitives.chacha20_keystream(key, nonce, 1, 64).hex() == expected


def test_chacha20_encryption_rfc8439_2_4_2() -> None:
    key = bytes(range(32))
    nonce = bytes.fromhex("000000000000004a00000000")
    plaintext = (
        b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        b"the future, sunscreen would be it."
    )
    expected = (
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
        "5af90bbf74a35be6b40b8eedf2785e42874d"
    )
    assert primitives.chacha20_xor(key, nonce, 1, plaintext).hex() == expected


def test_poly1305_rfc8439_2_5_2() -> None:
    key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    tag = primitives.poly1305(key, b"Cryptographic Forum Research Group")
    assert tag.hex() == "a8061dc1305136c6c22b8baf0c0127a9"


def test_chacha20_counter_continues_across_blocks() -> None:
    key = bytes(range(32))
    nonce = bytes(12)
    stream = primitives.chacha20_keystream(key, nonce, 0, 192)
    assert stream[64:] == primitives.chacha20_keystream(key, nonce, 1, 128)


def test_expand_vector(generated: Any) -> None:
    vector = generated["hash_expand"]
    out = primitives.expand(vector["len"], bytes.fromhex(vector["key"]), vector["num"])
    assert out.hex() == vector["out"]


def test_expand_nonce_layout() -> None:
    seed = bytes(range(32))
    expected = primitives.chacha20_keystream(seed, (7).to_bytes(4, "little") + b"PC_EXPND", 0, 64)
    assert primitives.expand(64, seed, 7) == expected
    assert primitives.expand(64, seed, 8) != expected
