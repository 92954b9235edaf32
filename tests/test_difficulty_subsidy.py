import pytest

from spv.difficulty import (
    bits_from_target,
    check_bits_range,
    required_bits,
    target_from_bits,
    work_from_bits,
)
from spv.errors import ValidationError
from spv.header import BlockHeader
from spv.params import MAINNET, REGTEST, TESTNET
from spv.subsidy import block_subsidy, miner_share, network_steward_share, total_money


@pytest.mark.parametrize(
    "bits,target_hex",
    [
        (0x1F0FFFFF, "0fffff" + "00" * 28),
        (0x1D00FFFF, "ffff" + "00" * 26),
        (0x1D2991AD, "2991ad" + "00" * 26),
        (0x207FFFFF, "7fffff" + "00" * 29),
        (0x03123456, "123456"),
        (0x02123400, "1234"),
    ],
)
def test_compact_bits_round_trip(bits: int, target_hex: str) -> None:
    assert target_from_bits(bits) == int(target_hex, 16)
    assert bits_from_target(int(target_hex, 16)) == bits


def test_compact_bits_edge_cases() -> None:
    assert target_from_bits(0x04923456) < 0  # sign bit set
    assert bits_from_target(0x80) == 0x02008000  # mantissa sign bit pushes the size up
    assert bits_from_target(0) == 0
    assert target_from_bits(0x02123456) == 0x1234  # bits below the size are dropped
    assert work_from_bits(0x04923456) == 0
    assert work_from_bits(0x1D00FFFF) == 0x100010001  # Bitcoin's difficulty-1 work
    assert work_from_bits(0x1F0FFFFF) == (1 << 256) // (MAINNET.pow_limit + 1)


def test_bits_range_check() -> None:
    check_bits_range(0x1F0FFFFF, MAINNET)
    check_bits_range(0x1D2991AD, MAINNET)
    with pytest.raises(ValidationError, match="easier"):
        check_bits_range(0x1F100000, MAINNET)
    with pytest.raises(ValidationError, match="non-positive"):
        check_bits_range(0x1F800001, MAINNET)
    with pytest.raises(ValidationError):
        check_bits_range(0, MAINNET)
    check_bits_range(0x207FFFFF, REGTEST)


def _chain(entries: dict[int, tuple[int, int]]):  # type: ignore[no-untyped-def]
    def header_at(h: int) -> tuple[int, int]:
        return entries[h]

    return header_at


def test_real_headers_49998_to_49999_follow_the_min_difficulty_walk_back(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    by_height = {
        v["height"]: BlockHeader.parse(bytes.fromhex(v["header_hex"]))
        for v in pkt_vectors("mainnet_headers_explorer.json")["headers"]
    }
    prev, new = by_height[49998], by_height[49999]
    lookup = _chain({49998: (prev.timestamp, prev.bits)})
    assert required_bits(MAINNET, 49999, new.timestamp, lookup) == new.bits
    # The same parent with a child more than 120 s later allows a min-difficulty block.
    assert required_bits(MAINNET, 49999, prev.timestamp + 121, lookup) == 0x1F0FFFFF
    assert required_bits(MAINNET, 49999, prev.timestamp + 120, lookup) == prev.bits


def test_min_difficulty_walk_back_skips_min_difficulty_blocks() -> None:
    chain = {4030: (1000, 0x1F02C84F), 4031: (1200, 0x1F0FFFFF), 4032: (1400, 0x1F0FFFFF)}
    # 4032 is a retarget boundary (2 * 2016): the walk stops there and returns its bits.
    assert required_bits(MAINNET, 4033, 1410, _chain(chain)) == 0x1F0FFFFF
    chain2 = {10: (1000, 0x1F02C84F), 11: (1200, 0x1F0FFFFF), 12: (1400, 0x1F0FFFFF)}
    assert required_bits(MAINNET, 13, 1410, _chain(chain2)) == 0x1F02C84F


def test_after_height_50000_mainnet_keeps_the_previous_bits() -> None:
    chain = {60000: (1000, 0x1D2991AD)}
    assert required_bits(MAINNET, 60001, 1000 + 100000, _chain(chain)) == 0x1D2991AD
    # testnet keeps the min-difficulty rule forever
    assert required_bits(TESTNET, 60001, 1000 + 121, _chain(chain)) == 0x1F0FFFFF


@pytest.mark.parametrize(
    "timespan,expected_factor",
    [(120960, (1, 1)), (60480, (1, 2)), (1, (1, 4)), (10**7, (4, 1)), (241920, (2, 1))],
)
def test_retarget_every_2016_blocks(timespan: int, expected_factor: tuple[int, int]) -> None:
    old_bits = 0x1D2991AD
    start = 1_600_000_000
    height = 2016 * 200
    chain = {height - 2016: (start, old_bits), height - 1: (start + timespan, old_bits)}
    new_bits = required_bits(MAINNET, height, start + timespan + 60, _chain(chain))
    num, den = expected_factor
    assert new_bits == bits_from_target(target_from_bits(old_bits) * num // den)


def test_retarget_is_capped_at_the_pow_limit() -> None:
    height = 2016 * 300
    chain = {height - 2016: (0, 0x1F0FFFFF), height - 1: (10**8, 0x1F0FFFFF)}
    assert required_bits(MAINNET, height, 10**8 + 60, _chain(chain)) == 0x1F0FFFFF
    assert required_bits(MAINNET, 0, 0, _chain({})) == MAINNET.pow_limit_bits


def test_subsidy_vectors(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    vectors = pkt_vectors("subsidy_vectors.json")["vectors"]
    assert len(vectors) == 12
    for v in vectors:
        h = v["height"]
        assert h // 144000 == v["period"]
        assert block_subsidy(h, MAINNET) == v["subsidy_units"]
        assert network_steward_share(h, MAINNET) == v["network_steward_units"]
        assert miner_share(h, MAINNET) == v["miner_share_units"]
        assert total_money(h, MAINNET) == v["total_money_units_at_height"]
    # explorer /ns votesNeeded is half the money issued at 368013
    assert total_money(368013, MAINNET) // 2 == 756890419284638197


def test_genesis_coinbase_pays_the_network_steward_its_share(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    g = pkt_vectors("genesis.json")
    ns_output = g["coinbase_outputs"][0]
    assert ns_output["value_units"] == block_subsidy(0, MAINNET)
    assert network_steward_share(0, MAINNET) == 891146993664


def test_regtest_subsidy_halves_every_150_blocks() -> None:
    assert block_subsidy(0, REGTEST) == 50 * 10**8
    assert block_subsidy(149, REGTEST) == 50 * 10**8
    assert block_subsidy(150, REGTEST) == 25 * 10**8
    assert block_subsidy(150 * 64, REGTEST) == 0
    assert network_steward_share(10, REGTEST) == 0
    assert total_money(3, REGTEST) == 150 * 10**8
    with pytest.raises(ValueError):
        block_subsidy(-1, MAINNET)
