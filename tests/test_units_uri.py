"""Amount parsing/formatting and `pkt:` payment URIs."""

import json
import math
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from spv.address import Address, decode_address
from spv.errors import AddressError, ParseError, URIError, WrongNetworkError
from spv.params import MAINNET, REGTEST, TESTNET
from spv.units import (
    MAX_SUPPLY_COINS,
    AmountError,
    format_amount,
    max_units,
    parse_amount,
)
from spv.uri import PaymentURI, format_payment_uri, parse_payment_uri

DATA_DIR = Path(__file__).parent / "data" / "pkt"
PKT = 1 << 30
BTC = 10**8
MAX_PKT_UNITS = 6_442_450_944_000_000_000  # spec §1.1: 6e9 PKT


def _load(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


KEYS = _load("tx_sighash_vote_vectors.json")["keys"]
P2PKH = KEYS[0]["p2pkh"]
P2WPKH = KEYS[0]["p2wpkh"]
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"


# --- parse_amount ----------------------------------------------------------------------------------


def test_units_per_coin_and_max_supply_match_the_parameters() -> None:
    assert MAINNET.units_per_coin == TESTNET.units_per_coin == PKT
    assert REGTEST.units_per_coin == BTC
    assert max_units(PKT) == MAX_PKT_UNITS == MAX_SUPPLY_COINS * PKT


@pytest.mark.parametrize(
    ("text", "units_per_coin", "units"),
    [
        ("0", PKT, 0),
        ("0.0", PKT, 0),
        ("1", PKT, PKT),
        ("1.5", PKT, PKT + PKT // 2),
        ("0.5", PKT, PKT // 2),
        (".5", PKT, PKT // 2),
        ("5.", PKT, 5 * PKT),
        ("007", PKT, 7 * PKT),
        (" 2 ", PKT, 2 * PKT),
        ("0.000000001", PKT, 1),  # 1.07 units
        ("0.0000000005", PKT, 1),  # 0.54 units
        ("0.999999999", PKT, PKT - 1),
        ("0.000000000931322574615478515625", PKT, 1),  # exactly 2^-30 (30 decimals)
        ("4166", PKT, 4473208438784),  # genesis Network Steward payout (spec §1.3)
        ("6000000000", PKT, MAX_PKT_UNITS),
        ("6000000000.0000000001", PKT, MAX_PKT_UNITS),  # 0.107 units rounds away
        ("1.23456789", BTC, 123456789),
        # Round half to even, where exact ties exist (10^8 and 2 units per coin).
        ("0.000000015", BTC, 2),
        ("0.000000025", BTC, 2),
        ("0.000000035", BTC, 4),
        ("0.75", 2, 2),
        ("1.25", 2, 2),
    ],
)
def test_parse_amount(text: str, units_per_coin: int, units: int) -> None:
    assert parse_amount(text, units_per_coin) == units


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected a decimal number"),
        ("   ", "expected a decimal number"),
        (".", "expected a decimal number"),
        ("abc", "expected a decimal number"),
        ("1.2.3", "expected a decimal number"),
        ("1 000", "expected a decimal number"),
        ("+1", "expected a decimal number"),
        ("0x10", "expected a decimal number"),
        ("inf", "expected a decimal number"),
        ("nan", "expected a decimal number"),
        ("\u0661", "expected a decimal number"),  # Arabic-Indic digit one
        ("12,5", "use '.' as the decimal point"),
        ("1,000.5", "use '.' as the decimal point"),
        ("1e5", "exponents are not allowed"),
        ("1.5E-3", "exponents are not allowed"),
        ("-1", "cannot be negative"),
        ("-0.5", "cannot be negative"),
        ("1." + "0" * 31, "too many decimal places"),
        ("0." + "0" * 29 + "15", "too many decimal places"),
        ("6000000000.000000001", "maximum supply"),  # 1 unit over
        ("6000000001", "maximum supply"),
        ("99999999999", "maximum supply"),
        ("9" * 5000, "maximum supply"),
        # not zero, but no unit at all: refused instead of becoming 0 (issue 16)
        ("0.0000000004", "less than the smallest amount, one unit (0.000000001)"),  # 0.43 units
        ("0.0000000001", "too many decimal places"),
        ("0.000000000001", "less than the smallest amount"),
    ],
)
def test_parse_amount_errors(text: str, message: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_amount(text, PKT)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ParseError)


# --- format_amount ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "units_per_coin", "text"),
    [
        (0, PKT, "0"),
        (1, PKT, "0.000000001"),
        (2, PKT, "0.000000002"),
        (PKT - 1, PKT, "0.999999999"),
        (PKT, PKT, "1"),
        (PKT + 1, PKT, "1.000000001"),
        (PKT + PKT // 2, PKT, "1.5"),
        (PKT // 1024, PKT, "0.0009765625"),  # exactly 2^-10: needs all 10 decimals
        (4473208438784, PKT, "4166"),
        (MAX_PKT_UNITS, PKT, "6000000000"),
        (-PKT // 2, PKT, "-0.5"),
        (1, BTC, "0.00000001"),
        (123456789, BTC, "1.23456789"),
        (150000000, BTC, "1.5"),
        (5_000_000_000, BTC, "50"),
    ],
)
def test_format_amount_shortest(units: int, units_per_coin: int, text: str) -> None:
    assert format_amount(units, units_per_coin) == text
    if units >= 0:
        assert parse_amount(text, units_per_coin) == units


@pytest.mark.parametrize(
    ("units", "units_per_coin", "decimals", "text"),
    [
        (PKT + PKT // 2, PKT, 2, "1.50"),
        (1, PKT, 2, "0.00"),
        (PKT - 1, PKT, 2, "1.00"),
        (PKT, PKT, 0, "1"),
        (MAX_PKT_UNITS, PKT, 3, "6000000000.000"),
        (1, PKT, 12, "0.000000000931"),
        (5, 1000, 2, "0.00"),  # 0.005 -> half to even
        (15, 1000, 2, "0.02"),  # 0.015 -> half to even
        (25, 1000, 2, "0.02"),
        (-15, 1000, 2, "-0.02"),
    ],
)
def test_format_amount_with_fixed_decimals(
    units: int, units_per_coin: int, decimals: int, text: str
) -> None:
    assert format_amount(units, units_per_coin, decimals) == text


def test_format_amount_refuses_negative_decimals() -> None:
    with pytest.raises(ValueError):
        format_amount(1, PKT, -1)


def _fraction_digits(text: str) -> int:
    return len(text.partition(".")[2])


def _is_shortest(text: str, units: int, units_per_coin: int) -> bool:
    """No decimal with one place fewer than `text` parses back to `units`."""
    places = _fraction_digits(text)
    if places == 0:
        return True
    exact = Fraction(units * 10 ** (places - 1), units_per_coin)
    for scaled in (math.floor(exact), math.ceil(exact)):
        whole, part = divmod(scaled, 10 ** (places - 1))
        shorter = f"{whole}.{part:0{places - 1}d}" if places > 1 else str(whole)
        if parse_amount(shorter, units_per_coin) == units:
            return False
    return True


def _random_units(rng: random.Random, limit: int, count: int) -> list[int]:
    values = [0, 1, 2, PKT - 1, PKT, PKT + 1, limit - 1, limit]
    while len(values) < count:
        choice = rng.randrange(3)
        if choice == 0:
            values.append(rng.randrange(limit + 1))  # uniform over the whole range
        elif choice == 1:
            values.append(rng.randrange(1 << rng.randrange(1, limit.bit_length())))  # log-uniform
        else:
            values.append(rng.randrange(10**6) * PKT + rng.randrange(-3, 4) % PKT)  # near coins
    return values


def test_format_then_parse_round_trips_for_many_random_amounts() -> None:
    rng = random.Random(20240230)
    values = _random_units(rng, MAX_PKT_UNITS, 10_000)
    longest = 0
    for units in values:
        text = format_amount(units, PKT)
        assert parse_amount(text, PKT) == units, (units, text)
        assert text == "0" or not text.endswith("0") or "." not in text
        assert _is_shortest(text, units, PKT), (units, text)
        longest = max(longest, _fraction_digits(text))
    assert longest == 10  # 2^30 units per coin never needs more than 10 decimals


def test_format_then_parse_round_trips_on_regtest_units() -> None:
    rng = random.Random(8)
    limit = max_units(BTC)
    for units in _random_units(rng, limit, 2000):
        text = format_amount(units, BTC)
        assert parse_amount(text, BTC) == units
        assert Fraction(text) == Fraction(units, BTC)  # 10^8 units: always exact
        assert _fraction_digits(text) <= 8


# --- payment URIs ----------------------------------------------------------------------------------


def test_parse_a_full_payment_uri() -> None:
    text = f"pkt:{P2WPKH}?amount=1.5&label=Alice%20%26%20Bob&message=Thanks%21%20%E2%82%AC5"
    uri = parse_payment_uri(text, MAINNET)
    assert uri == PaymentURI(
        address=P2WPKH,
        amount_units=PKT + PKT // 2,
        label="Alice & Bob",
        message="Thanks! €5",
        extra={},
    )


@pytest.mark.parametrize(
    "text",
    [
        f"pkt:{P2PKH}",
        f"PKT:{P2PKH}",
        f"Pkt:{P2PKH}",
        f"pkt://{P2PKH}",
        P2PKH,
        f"  {P2PKH}\n",
        f"  pkt:{P2PKH}?  ",
    ],
)
def test_scheme_is_case_insensitive_and_a_bare_address_is_accepted(text: str) -> None:
    assert parse_payment_uri(text, MAINNET) == PaymentURI(address=P2PKH)


def test_upper_case_bech32_address_is_normalised() -> None:
    uri = parse_payment_uri(f"PKT:{NS_ADDRESS.upper()}?amount=2", MAINNET)
    assert uri.address == NS_ADDRESS
    assert uri.amount_units == 2 * PKT


def test_unknown_parameters_are_kept_and_empty_items_ignored() -> None:
    uri = parse_payment_uri(f"pkt:{P2PKH}?foo=bar&&flag&x%20y=a%2Bb+c", MAINNET)
    assert uri.extra == {"foo": "bar", "flag": "", "x y": "a+b+c"}
    assert uri.amount_units is None and uri.label is None and uri.message is None


def _testnet_twin(mainnet_address: str) -> str:
    address = decode_address(mainnet_address, MAINNET)
    twin = Address(address.kind, address.payload, address.witness_version, TESTNET.name)
    return twin.encode(TESTNET)


def test_address_errors_propagate_with_their_own_type() -> None:
    with pytest.raises(WrongNetworkError, match="this is a testnet address"):
        parse_payment_uri("pkt:" + _testnet_twin(NS_ADDRESS), MAINNET)
    with pytest.raises(AddressError):
        parse_payment_uri(f"pkt:{P2PKH[:-1]}x", MAINNET)
    with pytest.raises(AddressError):
        parse_payment_uri(f"pkt:{P2PKH}%20", MAINNET)


def test_testnet_uri() -> None:
    tpk = _testnet_twin(P2WPKH)
    assert tpk.startswith("tpk1")
    uri = parse_payment_uri(f"pkt:{tpk}?amount=0.25", TESTNET)
    assert uri.address == tpk and uri.amount_units == PKT // 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("amount=abc", "bad amount"),
        ("amount=1,5", "decimal point"),
        ("amount=-1", "negative"),
        ("amount=1e3", "exponent"),
        ("amount=", "bad amount"),
        ("amount=7000000000", "maximum supply"),
        ("amount=1&amount=2", "more than once"),
        ("label=a&label=b", "more than once"),
        ("foo=1&foo=1", "more than once"),
        ("req-foo=1", "requires 'req-foo'"),
        ("amount=1&req-somethingnew", "requires 'req-somethingnew'"),
        ("label=%zz", "bad percent-encoding"),
        ("label=100%", "bad percent-encoding"),
        ("message=%FF", "not valid UTF-8"),
        ("=value", "has no name"),
    ],
)
def test_uri_errors(query: str, message: str) -> None:
    with pytest.raises(URIError) as info:
        parse_payment_uri(f"pkt:{P2PKH}?{query}", MAINNET)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"bitcoin:{P2PKH}", "unsupported URI scheme"),
        (f"http://example.com/{P2PKH}", "unsupported URI scheme"),
        ("pkt:", "no address"),
        ("pkt:?amount=1", "no address"),
        (f"pkt:{P2PKH}?" + "a" * 5000, "too long"),
    ],
)
def test_uri_structure_errors(text: str, message: str) -> None:
    with pytest.raises(URIError, match=message):
        parse_payment_uri(text, MAINNET)


def test_format_payment_uri_exact_text() -> None:
    uri = PaymentURI(
        address=P2WPKH,
        amount_units=PKT + PKT // 2,
        label="Alice & Bob",
        message="Thanks! €5",
        extra={"x y": "1"},
    )
    assert format_payment_uri(uri, MAINNET) == (
        f"pkt:{P2WPKH}?amount=1.5&label=Alice%20%26%20Bob&message=Thanks%21%20%E2%82%AC5&x%20y=1"
    )
    assert format_payment_uri(PaymentURI(address=P2PKH), MAINNET) == f"pkt:{P2PKH}"
    assert (
        format_payment_uri(PaymentURI(address=P2PKH, amount_units=1), MAINNET)
        == f"pkt:{P2PKH}?amount=0.000000001"
    )
    upper = PaymentURI(address=NS_ADDRESS.upper(), amount_units=0)
    assert format_payment_uri(upper, MAINNET) == f"pkt:{NS_ADDRESS}?amount=0"


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        (PaymentURI(address="nonsense"), AddressError),
        (PaymentURI(address=P2PKH, amount_units=-1), URIError),
        (PaymentURI(address=P2PKH, amount_units=MAX_PKT_UNITS + 1), URIError),
        (PaymentURI(address=P2PKH, extra={"amount": "1"}), URIError),
        (PaymentURI(address=P2PKH, extra={"": "1"}), URIError),
        (PaymentURI(address=P2PKH, label="\ud800"), URIError),
    ],
)
def test_format_payment_uri_refuses_invalid_content(uri: PaymentURI, error: type) -> None:
    with pytest.raises(error):
        format_payment_uri(uri, MAINNET)


_TEXT_POOL = "aZ09 -_.~!*'();:@&=+$,/?#[]%\"<>\\^`{|}é€漢字😀\t\n"


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_TEXT_POOL) for _ in range(rng.randrange(0, 30)))


def test_payment_uri_round_trips() -> None:
    rng = random.Random(21)
    addresses = [P2PKH, P2WPKH, NS_ADDRESS]
    for _ in range(500):
        extra = {f"x-{_random_text(rng)}": _random_text(rng) for _ in range(rng.randrange(3))}
        uri = PaymentURI(
            address=rng.choice(addresses),
            amount_units=rng.choice([None, 0, 1, rng.randrange(MAX_PKT_UNITS + 1)]),
            label=rng.choice([None, "", _random_text(rng)]),
            message=rng.choice([None, _random_text(rng)]),
            extra=extra,
        )
        text = format_payment_uri(uri, MAINNET)
        assert parse_payment_uri(text, MAINNET) == uri, text
        assert text.isascii() and " " not in text


def test_payment_uri_is_hashable_and_comparable() -> None:
    first = PaymentURI(address=P2PKH, amount_units=1, extra={"a": "b"})
    second = PaymentURI(address=P2PKH, amount_units=1, extra={"a": "b"})
    assert first == second
    assert hash(first) == hash(second)


def test_shortest_amount_text_matches_the_exact_rational_definition() -> None:
    """The integer-only formatter gives what the definition says: the fewest decimals that
    parse back to the same units, the nearer of floor and ceiling first (ties: the floor)."""
    import math
    import random
    from fractions import Fraction

    def by_definition(units: int, upc: int) -> str:
        decimals = 0
        while True:
            exact = Fraction(units * 10**decimals, upc)
            for scaled in sorted(
                (math.floor(exact), math.ceil(exact)), key=lambda s: (abs(s - exact), s)
            ):
                if round(Fraction(scaled * upc, 10**decimals)) == units:
                    whole, frac = divmod(scaled, 10**decimals)
                    return str(whole) if decimals == 0 else f"{whole}.{frac:0{decimals}d}"
            decimals += 1

    rng = random.Random(3)
    for upc in (2**30, 10**8, 1, 3, 7):
        for _ in range(3000):
            units = rng.choice(
                [rng.randrange(10**6), rng.randrange(6 * 10**9 * upc), rng.randrange(3 * upc + 1)]
            )
            text = format_amount(units, upc)
            assert text == by_definition(units, upc) and parse_amount(text, upc) == units
