"""miner.safejson: the one reader for JSON from the network (size, depth, numbers, shape)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from miner import safejson
from miner.safejson import JsonError, JsonShapeError, header_int, iter_documents, loads


def test_plain_documents() -> None:
    assert loads(b'\xef\xbb\xbf {"a": [1, 2.5, "x]]]"]} \n') == {"a": [1, Decimal("2.5"), "x]]]"]}
    assert list(iter_documents('{"a":1}\n{"a":2} [3]')) == [{"a": 1}, {"a": 2}, [3]]
    assert loads('"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', max_depth=2).startswith("[")
    deep = loads("[" * 32 + "]" * 32)
    for _ in range(31):
        (deep,) = deep
    assert deep == []
    assert loads('"\\ud83d\\ude00"') == "\U0001f600"  # a surrogate pair is one character
    assert loads("1e-3") == Decimal("0.001") and loads("-0.0") == 0 and loads("1E+2") == 100
    assert loads("1" * 40) == int("1" * 40)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", "NaN is not a number JSON allows"),
        ('{"x": -Infinity}', "-Infinity is not a number"),
        ('{"x": Infinity}', "Infinity is not a number"),
        ("1e400", "out of range"),
        ("-1e-400", "out of range"),
        ("1" * 41, "41 digits"),
        ("1" * 4301, "4301 digits"),
        ("0." + "1" * 100, "characters"),
        ("[" * 33 + "]" * 33, "nested deeper than 32"),
        ("[" * 100_000, "nested deeper than 32"),
        ('{"a":' * 40 + "1" + "}" * 40, "nested deeper than 32"),
        ('{"a": 1', "Expecting"),
        ("\u00b2", "Expecting value"),
        ("[\u0663]", "Expecting value"),
        ("", "empty"),
        ("  \n", "empty"),
        ("1 2", "more than one"),
        (b"\xff", "not UTF-8"),
        ('"\\ud800"', "surrogate"),
        ('{"\\udc00": 1}', "surrogate"),
        ("x" * (1 << 20) + "x", "larger than 1 MiB"),
    ],
)
def test_refused(text: str | bytes, reason: str) -> None:
    with pytest.raises(JsonError, match=reason):
        loads(text)


def test_limits_are_parameters() -> None:
    with pytest.raises(JsonError, match="larger than 10 bytes"):
        loads("[1, 2, 3, 4]", max_bytes=10)
    with pytest.raises(JsonError, match="nested deeper than 2"):
        loads("[[[1]]]", max_depth=2)
    assert loads("[[1]]", max_depth=2) == [[1]]


def test_shape_helpers() -> None:
    doc = loads('{"n": 5, "s": "x", "b": true, "l": [1], "d": 1.5, "z": null}')
    obj = safejson.expect_object(doc, "the reply")
    assert safejson.get_int(obj, "n", "the reply", lo=0, hi=9) == 5
    assert safejson.get_int(obj, "missing", "the reply", default=7) == 7
    assert safejson.get_str(obj, "s", "the reply") == "x"
    assert safejson.opt_str(obj, "z", "the reply") is None
    assert safejson.expect_list(obj["l"], "l") == [1]
    assert safejson.expect_number(obj["d"], "d") == Decimal("1.5")
    cases = [
        (lambda: safejson.get_int(obj, "b", "the reply"), "'b' is a boolean, not an integer"),
        (lambda: safejson.get_int(obj, "d", "the reply"), "not an integer"),
        (lambda: safejson.get_int(obj, "n", "the reply", hi=4), "'n' 5 is out of range"),
        (lambda: safejson.get_int(obj, "missing", "the reply"), "the reply has no 'missing'"),
        (lambda: safejson.get_str(obj, "n", "the reply"), "is a number, not text"),
        (lambda: safejson.expect_object([], "config.json"), "config.json is a list, not an obj"),
        (lambda: safejson.expect_list(obj["l"], "l", max_items=0), "at most 0"),
        (lambda: safejson.expect_number("1", "price"), "price is a string, not a number"),
        (lambda: safejson.expect_str("abc", "name", max_len=2), "longer than 2"),
    ]
    for call, reason in cases:
        with pytest.raises(JsonShapeError, match=reason):
            call()


def test_numbers_written_as_text() -> None:
    assert safejson.parse_int_text(" 42 ", "count") == 42
    assert safejson.parse_decimal_text("0.25", "price") == Decimal("0.25")
    assert safejson.parse_decimal_text(".5", "price") == Decimal("0.5")
    for bad in ("\u00b2", "\u0663", "1e3", "nan", "inf", "", "1_000", "0x10", "1" * 41):
        with pytest.raises(JsonShapeError):
            safejson.parse_int_text(bad, "count")
    for bad in ("\u00b2", "\u0663.5", "1e3", "NaN", "Infinity", "", ".", "1.2.3"):
        with pytest.raises(JsonShapeError):
            safejson.parse_decimal_text(bad, "price")
    assert header_int("120") == 120 and header_int(None) is None
    assert (
        header_int("\u00b2") is None and header_int("-1") is None and header_int("9" * 30) is None
    )


def test_depth_is_checked_beyond_the_token_walk() -> None:
    """The first 16 KiB are walked token by token, the rest with strings removed first: both
    parts count only real nesting, and depth carries over between them."""
    pad = '"' + "]" * 20_000 + '"'  # brackets inside a string past the walk do not count
    assert loads("[" + pad + ", " + "[" * 30 + "]" * 30 + "]") is not None
    with pytest.raises(JsonError, match="nested deeper than 32"):
        loads("[" + pad + ", " + "[" * 32 + "]" * 32 + "]")
    with pytest.raises(JsonError, match="nested deeper than 32"):
        loads("[" * 20 + '"' + "x" * 20_000 + '"' + ", " + "[" * 13 + "]" * 33)
    with pytest.raises(JsonError, match="nested deeper than 32"):
        loads(" " * 20_000 + '{"a":' * 100_000 + "1" + "}" * 100_000)
