import random

import pytest

from spv.bip158 import (
    CompactFilter,
    FilterError,
    basic_filter_elements,
    build_basic_filter,
    build_filter,
    decode_gcs,
    encode_gcs,
    filter_header,
    filter_header_from_hash,
    siphash24,
)
from spv.block import Block
from spv.hashes import hash_from_display, hash_to_display
from spv.params import MAINNET


def test_siphash24_reference_vectors() -> None:
    # From the SipHash paper (Aumasson & Bernstein), key 00..0f, messages 00, 00 01, ...
    k0 = int.from_bytes(bytes(range(8)), "little")
    k1 = int.from_bytes(bytes(range(8, 16)), "little")
    assert siphash24(k0, k1, b"") == 0x726FDB47DD0E0E31
    assert siphash24(k0, k1, bytes(range(1))) == 0x74F839C593DC67FD
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5


def _rows(pkt_vectors):  # type: ignore[no-untyped-def]
    rows = pkt_vectors("bip158_testnet-19.json")
    assert rows[0][0].startswith("Block Height")
    return rows[1:]


def test_bip158_testnet19_vectors(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(pkt_vectors)
    assert len(rows) == 10
    for height, block_hash, block_hex, prev_scripts, prev_header, filt, header, note in rows:
        block = Block.parse(bytes.fromhex(block_hex), has_packetcrypt=False)
        assert block.header.hash_hex == block_hash, height
        block.check_merkle_root()
        scripts = [bytes.fromhex(s) for s in prev_scripts]
        built = build_basic_filter(block, scripts)
        assert built.hex() == filt, (height, note)
        assert filter_header(built, hash_from_display(prev_header)) == hash_from_display(header)
        parsed = CompactFilter.parse(built)
        assert filter_header_from_hash(parsed.hash(), hash_from_display(prev_header)) == (
            hash_from_display(header)
        )
        assert encode_gcs(parsed.values()) == parsed.data
        elements = basic_filter_elements(block, scripts)
        assert parsed.n == len(elements)
        if elements:
            # every element matches, alone and among strangers
            for e in elements:
                assert parsed.match_any(block.hash, [e])
            assert parsed.match_any(block.hash, [b"\x00stranger", next(iter(elements))])
        assert not parsed.match_any(block.hash, [])


def test_filters_reject_non_members_mostly(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(pkt_vectors)
    height, block_hash, block_hex, prev_scripts, *_ = rows[8]  # 1263442, the largest
    block = Block.parse(bytes.fromhex(block_hex), has_packetcrypt=False)
    f = CompactFilter.parse(build_basic_filter(block, [bytes.fromhex(s) for s in prev_scripts]))
    rng = random.Random(158)
    false_positives = sum(f.match_any(block.hash, [rng.randbytes(25)]) for _ in range(2000))
    assert false_positives <= 2  # expected rate 1/784931 per query


def test_pkt_genesis_filter_and_header(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    g = pkt_vectors("genesis.json")["bip158_basic"]
    block = Block.parse(MAINNET.genesis_block, has_packetcrypt=True)
    assert block.hash[:16].hex() == g["siphash_key_hex"]
    elements = basic_filter_elements(block, [])
    assert sorted(e.hex() for e in elements) == g["elements_hex"]
    built = build_basic_filter(block, [])
    assert built.hex() == g["filter_hex"]
    parsed = CompactFilter.parse(built)
    assert hash_to_display(parsed.hash()) == g["filter_hash_display"]
    prev = bytes.fromhex(g["prev_filter_header_internal"])
    header = filter_header(built, prev)
    assert header.hex() == g["filter_header_internal"]
    assert hash_to_display(header) == g["filter_header_display"]
    assert parsed.match_any(block.hash, [MAINNET.network_steward_script])
    assert not parsed.match_any(block.hash, [b"\x6a" + b"\x00" * 10])


def test_gcs_round_trip_random_sets() -> None:
    rng = random.Random(19)
    for n in (1, 2, 5, 100, 1000):
        values = sorted(rng.randrange(n * 784931) for _ in range(n))
        assert decode_gcs(encode_gcs(values), n) == values


def test_filter_errors() -> None:
    with pytest.raises(FilterError):
        CompactFilter.parse(b"")
    with pytest.raises(FilterError):
        CompactFilter.parse(b"\x05\x00")  # 5 elements cannot fit in one byte
    f = CompactFilter.parse(b"\x02\xff\xff\xff\xff\xff\xff")  # unary run never ends
    with pytest.raises(FilterError):
        f.values()
    empty = CompactFilter.parse(build_filter(b"\x00" * 32, []))
    assert empty.n == 0 and not empty.match_any(b"\x00" * 32, [b"abc"])
