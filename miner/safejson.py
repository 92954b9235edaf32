"""JSON from the network, read with limits: the one entry point for every HTTP body we parse.

Pools, the VPN coordinator and exits, GitHub, the block explorer and a full node's RPC all
answer with JSON we do not control. :func:`loads` reads such a body and raises only
:class:`JsonError` (a ``ValueError``) with a one-line reason:

* a byte limit (``max_bytes``) before anything is decoded; UTF-8 (a BOM is allowed);
* a nesting limit (``max_depth``) checked on the text first, so Python's recursion limit is
  never reached (``"[" * 100000`` is refused in linear time);
* numbers bounded: an integer has at most :data:`MAX_INT_DIGITS` digits; a number with a
  fraction or an exponent becomes an exact :class:`~decimal.Decimal` (never a float, so no
  ``1e400`` turning into infinity) whose size is bounded the same way; ``NaN``,
  ``Infinity`` and ``-Infinity`` are refused;
* strings holding a lone UTF-16 surrogate (``"\\ud800"``) are refused: they cannot be written
  back as UTF-8.

The ``expect_*`` / ``get_*`` helpers check a decoded document's shape and raise
:class:`JsonShapeError` (a :class:`JsonError`) naming the field. :func:`parse_int_text` and
:func:`header_int` read numbers written as text (a field sent as a string, an HTTP header such
as ``Retry-After``) with ASCII digits only: Python's ``int()`` accepts ``"٣"`` and
``str.isdigit()`` accepts ``"²"``.

Stdlib only; it lives in ``miner`` (the bottom layer) so that the pool client, ``spv`` and
``app`` may all import it (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_MAX_DEPTH = 32
MAX_INT_DIGITS = 40
"""Digits an integer may have (10**40 is far beyond any amount, height or time we read)."""
MAX_EXPONENT = 40
"""A non-integer number must lie within 10**-40 .. 10**40 in magnitude (or be zero)."""
MAX_NUMBER_CHARS = 80


class JsonError(ValueError):
    """A body that is not JSON we accept (too large, too deep, a bad number, not UTF-8...)."""


class JsonShapeError(JsonError):
    """Valid JSON, but not the shape the caller expects (a missing or mistyped field)."""


# --- decoding ------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a number JSON allows")


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1 or len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonError(f"a number with {len(text.lstrip('-'))} digits")
    return int(text)


def _parse_decimal(text: str) -> Decimal:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonError(f"a number written with {len(text)} characters")
    value = Decimal(text)  # the scanner only hands over ASCII JSON numbers
    if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise JsonError(f"the number {text} is out of range")
    return value if value else Decimal(0)


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_decimal
)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SCAN_FIRST = 16 << 10
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITE = " \t\r\n"


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than `max_depth`. Brackets inside strings do not count; an
    unterminated string only makes the count larger, never smaller.

    The first :data:`_SCAN_FIRST` characters are walked token by token, so a hostile
    ``{"a":{"a":...`` stops at once; the rest (large honest documents) with strings removed
    in C first."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    rest = len(text)
    for m in _TOKEN.finditer(text):
        if m.start() > _SCAN_FIRST:
            rest = m.start()  # outside any string: a token starts here
            break
        c = text[m.start()]
        if c == '"':
            continue
        if c in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonError(f"nested deeper than {max_depth} levels")
        elif depth:
            depth -= 1
    for c in _BRACKETS.findall(_STRING.sub("", text[rest:])):
        if c in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonError(f"nested deeper than {max_depth} levels")
        elif depth:
            depth -= 1


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates anywhere in the document (keys included), without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonError("a string holds an unpaired UTF-16 surrogate")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _text(data: bytes | bytearray | str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise JsonError(f"larger than {_size(max_bytes)}")
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonError(f"not UTF-8 text (byte {exc.start})") from None


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} bytes"


def _decode_at(text: str, start: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, start)
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError, ArithmeticError) as exc:  # defence in depth
        raise JsonError(f"cannot be decoded ({type(exc).__name__})") from None


def iter_documents(
    data: bytes | bytearray | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[Any]:
    """The JSON documents written one after another (white space between them allowed)."""
    text = _text(data, max_bytes)
    _check_depth(text, max_depth)
    check_strings = _SURROGATE_ESCAPE.search(text) is not None or _SURROGATE.search(text)
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITE:
            pos += 1
        if pos >= end:
            return
        value, pos = _decode_at(text, pos)
        if check_strings:
            _check_strings(value)
        yield value


def loads(
    data: bytes | bytearray | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """One JSON document (white space around it allowed), within the limits above."""
    docs = iter_documents(data, max_bytes=max_bytes, max_depth=max_depth)
    first = next(docs, _NOTHING)
    if first is _NOTHING:
        raise JsonError("empty")
    if next(docs, _NOTHING) is not _NOTHING:
        raise JsonError("more than one JSON document")
    return first


_NOTHING = object()


# --- shape checks --------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def expect_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise JsonShapeError(f"{what} is {_kind(value)}, not an object")
    return value


def expect_list(value: Any, what: str, *, max_items: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise JsonShapeError(f"{what} is {_kind(value)}, not a list")
    if max_items is not None and len(value) > max_items:
        raise JsonShapeError(f"{what} has {len(value)} entries (at most {max_items})")
    return value


def expect_int(value: Any, what: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (not a boolean, not 1.0) within ``lo..hi``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise JsonShapeError(f"{what} is {_kind(value)}, not an integer")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise JsonShapeError(f"{what} {value} is out of range")
    return value


def expect_str(value: Any, what: str, *, max_len: int | None = None) -> str:
    if not isinstance(value, str):
        raise JsonShapeError(f"{what} is {_kind(value)}, not text")
    if max_len is not None and len(value) > max_len:
        raise JsonShapeError(f"{what} is longer than {max_len} characters")
    return value


def expect_number(value: Any, what: str) -> Decimal:
    """A JSON number (integer or not) as an exact Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise JsonShapeError(f"{what} is {_kind(value)}, not a number")
    return Decimal(value)


def _field(obj: Mapping[str, Any], key: str, what: str, required: bool) -> Any:
    value = obj.get(key)
    if value is None and required:
        raise JsonShapeError(f"{what} has no {key!r}")
    return value


def get_int(
    obj: Mapping[str, Any],
    key: str,
    what: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    default: int | None = None,
) -> int:
    """``obj[key]`` as an integer; ``default`` when missing or null (an error when None)."""
    value = _field(obj, key, what, default is None)
    if value is None:
        assert default is not None
        return default
    return expect_int(value, f"{what} {key!r}", lo=lo, hi=hi)


def get_str(
    obj: Mapping[str, Any],
    key: str,
    what: str,
    *,
    max_len: int | None = None,
    default: str | None = None,
) -> str:
    """``obj[key]`` as text; ``default`` when missing or null (an error when None)."""
    value = _field(obj, key, what, default is None)
    if value is None:
        assert default is not None
        return default
    return expect_str(value, f"{what} {key!r}", max_len=max_len)


def opt_str(
    obj: Mapping[str, Any], key: str, what: str, *, max_len: int | None = None
) -> str | None:
    """``obj[key]`` as text, or None when missing or null."""
    value = obj.get(key)
    return None if value is None else expect_str(value, f"{what} {key!r}", max_len=max_len)


# --- numbers written as text ---------------------------------------------------------------------

_ASCII_INT = re.compile(r"[+-]?[0-9]{1,40}")
_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{0,40})?|\.[0-9]{1,40})")


def parse_int_text(text: str, what: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """An integer written in ASCII digits (an optional sign, white space around allowed)."""
    stripped = text.strip(_WHITE)
    if not _ASCII_INT.fullmatch(stripped):
        raise JsonShapeError(f"{what} {text[:40]!r} is not a whole number")
    value = int(stripped)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise JsonShapeError(f"{what} {value} is out of range")
    return value


def parse_decimal_text(text: str, what: str) -> Decimal:
    """A number written as ``12``, ``-0.5`` or ``.25`` in ASCII digits (no exponent, no NaN)."""
    stripped = text.strip(_WHITE)
    if not _ASCII_DECIMAL.fullmatch(stripped):
        raise JsonShapeError(f"{what} {text[:40]!r} is not a number")
    return Decimal(stripped)


def header_int(value: str | None, *, lo: int = 0, hi: int = 1 << 62) -> int | None:
    """An HTTP header holding a whole number (``Retry-After``, ``Age``, rate limits): None when
    absent or not ASCII digits within ``lo..hi``, so a hostile header is simply ignored."""
    if value is None:
        return None
    try:
        return parse_int_text(value, "header", lo=lo, hi=hi)
    except JsonError:
        return None
