"""CryptoCycle (spec section 3): pktd's vectors and the state-machine rules."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from miner.reference import cryptocycle as cc
from miner.reference.primitives import b256, expand

from .conftest import load_json

VECTORS = load_json("cryptocycle_vectors.json")["vectors"]


def _state_for(vector: dict[str, Any]) -> tuple[bytearray, int, int]:
    """Build a state as the vector file describes (no makeFuzzable)."""
    message = bytes.fromhex(vector["input_hex"])
    if vector["mode"] == "decrypt":
        message = message[:-16]
    ad = bytes.fromhex(vector["additional_data_hex"])
    blocks = -(-len(message) // 16)
    ad_blocks = -(-len(ad) // 16)
    state = bytearray(cc.STATE_SIZE)
    state[0:12] = bytes.fromhex(vector["nonce_hex"])
    state[16:48] = bytes.fromhex(vector["key_hex"])
    header = cc.HeaderWord(
        azc=16 * ad_blocks - len(ad),
        tzc=16 * blocks - len(message),
        decrypt=vector["mode"] == "decrypt",
        add_len=ad_blocks,
        truncated=False,
        length=blocks,
        failed=False,
        version=0,
    )
    cc.write_header(state, header)
    state[48 : 48 + len(ad)] = ad
    msg_start = 48 + 16 * ad_blocks
    state[msg_start : msg_start + len(message)] = message
    return state, msg_start, len(message)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_pktd_cryptocycle_vector(vector: dict[str, Any]) -> None:
    state, msg_start, msg_len = _state_for(vector)
    cc.crypt(state)
    output = bytes(state[msg_start : msg_start + msg_len])
    tag = bytes(state[16:32])
    if vector["mode"] == "encrypt":
        assert (output + tag).hex() == vector["expected_hex"]
    else:
        assert output.hex() == vector["expected_hex"]
        # decrypt authenticates the ciphertext: the tag equals the one appended to it
        assert tag == bytes.fromhex(vector["input_hex"])[-16:]


def test_header_word_round_trip() -> None:
    for word in (0, 0xFFFFFFFF, 0x12345678, 0x01FE0F3A):
        assert cc.HeaderWord.from_u32(word).to_u32() == word


def test_make_fuzzable() -> None:
    state = bytearray(range(256)) * 8
    state[16:20] = struct.pack("<I", 0xFFFFFFFF)
    cc.make_fuzzable(state)
    header = cc.read_header(state)
    assert header.version == 0 and not header.failed
    assert header.length == 0x7F  # len |= 32 keeps the other bits
    state[16:20] = struct.pack("<I", 0)
    cc.make_fuzzable(state)
    assert cc.read_header(state) == cc.HeaderWord(0, 0, False, 0, False, 32, False, 0)


def test_crypt_truncates_length_to_the_payload() -> None:
    state = bytearray(cc.STATE_SIZE)
    cc.write_header(state, cc.HeaderWord(0, 0, False, 7, False, 127, False, 0))
    cc.crypt(state)
    header = cc.read_header(state)
    assert header.truncated and header.length == 125 - 7


def test_crypt_sets_failed_for_nonzero_version() -> None:
    state = bytearray(cc.STATE_SIZE)
    cc.write_header(state, cc.HeaderWord(0, 0, False, 0, False, 32, False, 3))
    before = bytes(state)
    cc.crypt(state)
    assert cc.read_header(state).failed
    assert state[16:] == before[16:]


def test_encrypt_zeroes_trailing_bytes_and_wraps_the_ad_length() -> None:
    # tzc zeroes the last bytes of the ciphertext; azc > A makes A - azc negative (mod 2^64)
    state = bytearray(cc.STATE_SIZE)
    state[16:48] = bytes(range(32))
    cc.write_header(state, cc.HeaderWord(5, 3, False, 0, False, 32, False, 0))
    cc.crypt(state)
    assert state[48 + 512 - 3 : 48 + 512] == bytes(3)
    assert state[48 + 512 - 4] != 0 or state[48 + 512 - 5] != 0


def test_init_layout() -> None:
    seed = bytes(range(32))
    state = cc.init(seed, 0x0102030405060708)
    raw = expand(cc.STATE_SIZE, seed, 0)
    assert state[0:8] == bytes.fromhex("0807060504030201")
    assert state[8:12] == raw[8:12]
    assert state[16:] == raw[16:]
    assert state[12:16] != raw[12:16] or raw[12:16] == state[16:20]
    assert cc.read_header(state).length & 32


def test_first_item_number_does_not_depend_on_the_nonce() -> None:
    seed = bytes(range(32, 64))
    assert cc.item_no(cc.init(seed, 0)) == cc.item_no(cc.init(seed, 123456))


def test_update_copies_the_item_then_crypts() -> None:
    item = bytes(range(256)) * 4
    state = cc.init(bytes(32), 1)
    manual = bytearray(state)
    cc.update(state, item)
    manual[32:1056] = item
    # state aliasing: the copy overwrites key bytes 32..48, so the new key uses item[0:16]
    assert manual[32:48] == item[:16]
    cc.make_fuzzable(manual)
    cc.crypt(manual)
    assert state == manual


def test_item_no_and_final() -> None:
    state = bytearray(cc.STATE_SIZE)
    state[16:24] = struct.pack("<Q", 8192 * 5 + 77)
    assert cc.item_no(state) == 77
    assert cc.item_no_u64(state) == 8192 * 5 + 77
    expected = b256(bytes(state))
    assert cc.final(state) == expected
    assert state[0:32] == expected


def test_update_rejects_wrong_item_size() -> None:
    with pytest.raises(ValueError):
        cc.update(cc.init(bytes(32), 0), bytes(1023))
