"""JSON from outside (node answers, address list files) read with limits.

A small local guard until the project's hardened JSON helper lands: a byte limit, no NaN or
Infinity, no integer longer than 40 digits, no float that overflows, and at most `max_depth`
nested arrays/objects (Python's own recursion limit is never reached: the depth is checked on
the text before decoding). Every failure is a `JsonGuardError` with a one-line reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 40


class JsonGuardError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise JsonGuardError(f"{name} is not a JSON number")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonGuardError(f"a number with {len(text)} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonGuardError(f"the number {text[:40]} is too large")
    return value


_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float
)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _check_depth(text: str, max_depth: int) -> None:
    """Reject nesting deeper than `max_depth` (brackets inside strings do not count)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonGuardError(f"nested deeper than {max_depth} levels")
        else:
            depth -= 1


def _text(data: bytes | str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise JsonGuardError(f"larger than {max_bytes} bytes")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonGuardError(f"not UTF-8 text (byte {exc.start})") from None


def _decode(text: str, start: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, start)
    except JsonGuardError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonGuardError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise JsonGuardError(str(exc)) from None


def loads(data: bytes | str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """One JSON document (surrounding white space allowed)."""
    docs = list(iter_documents(data, max_bytes, max_depth))
    if len(docs) != 1:
        raise JsonGuardError("empty" if not docs else "more than one JSON document")
    return docs[0]


def iter_documents(data: bytes | str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Iterator[Any]:
    """The JSON documents written one after another (white space between them allowed)."""
    text = _text(data, max_bytes)
    _check_depth(text, max_depth)
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            return
        value, pos = _decode(text, pos)
        yield value
