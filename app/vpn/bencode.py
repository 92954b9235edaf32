"""Bencode as the cjdns admin API speaks it.

Encoding is canonical (dictionary keys sorted as raw bytes, no zero padding). Decoding is
lenient in the two ways real cjdns traffic needs: string lengths may carry leading zeros
(cjdroute pads the length of the first dictionary key, e.g. ``d000001:q4:ponge``) and dictionary
keys may come in any order. Byte strings that are valid UTF-8 decode to ``str``, others stay
``bytes``; dictionary keys are always ``str`` (undecodable bytes kept via surrogateescape).
"""

from collections.abc import Mapping, Sequence
from typing import Any

MAX_DEPTH = 64


class BencodeError(ValueError):
    """Malformed bencoded data, or a value bencode cannot represent."""


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def encode(value: Any) -> bytes:
    out: list[bytes] = []
    _encode(value, out, 0)
    return b"".join(out)


def _encode(value: Any, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BencodeError("nesting too deep")
    if isinstance(value, bool):
        out.append(b"i%de" % int(value))
    elif isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, str | bytes | bytearray):
        raw = bytes(value) if not isinstance(value, str) else _as_bytes(value)
        out.append(b"%d:" % len(raw))
        out.append(raw)
    elif isinstance(value, Mapping):
        items: list[tuple[bytes, Any]] = []
        for k, v in value.items():
            if not isinstance(k, str | bytes):
                raise BencodeError(f"dictionary key must be a string, not {type(k).__name__}")
            items.append((_as_bytes(k), v))
        items.sort(key=lambda kv: kv[0])
        for i in range(1, len(items)):
            if items[i][0] == items[i - 1][0]:
                raise BencodeError(f"duplicate dictionary key {items[i][0]!r}")
        out.append(b"d")
        for k, v in items:
            out.append(b"%d:" % len(k))
            out.append(k)
            _encode(v, out, depth + 1)
        out.append(b"e")
    elif isinstance(value, Sequence):
        out.append(b"l")
        for item in value:
            _encode(item, out, depth + 1)
        out.append(b"e")
    else:
        raise BencodeError(f"cannot bencode a {type(value).__name__}")


def decode(data: bytes) -> Any:
    """Decode exactly one value; trailing bytes are an error."""
    value, end = _decode(bytes(data), 0, 0)
    if end != len(data):
        raise BencodeError(f"trailing data after byte {end}")
    return value


def _read_int(data: bytes, pos: int, terminator: int) -> tuple[int, int]:
    end = data.find(bytes([terminator]), pos)
    if end < 0:
        raise BencodeError(f"unterminated number at byte {pos}")
    text = data[pos:end]
    digits = text[1:] if text[:1] == b"-" else text
    if not digits or not digits.isdigit() or len(digits) > 40:
        raise BencodeError(f"bad number {text[:20]!r} at byte {pos}")
    return int(text), end + 1


def _decode_string(data: bytes, pos: int) -> tuple[bytes, int]:
    length, start = _read_int(data, pos, ord(":"))
    if length < 0:
        raise BencodeError(f"negative string length at byte {pos}")
    end = start + length
    if end > len(data):
        raise BencodeError(f"string at byte {pos} runs past the end")
    return data[start:end], end


def _text(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _decode(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise BencodeError("nesting too deep")
    if pos >= len(data):
        raise BencodeError("unexpected end of data")
    c = data[pos]
    if c == ord("i"):
        return _read_int(data, pos + 1, ord("e"))
    if ord("0") <= c <= ord("9"):
        raw, end = _decode_string(data, pos)
        return _text(raw), end
    if c == ord("l"):
        items: list[Any] = []
        pos += 1
        while True:
            if pos >= len(data):
                raise BencodeError("unterminated list")
            if data[pos] == ord("e"):
                return items, pos + 1
            item, pos = _decode(data, pos, depth + 1)
            items.append(item)
    if c == ord("d"):
        result: dict[str, Any] = {}
        pos += 1
        while True:
            if pos >= len(data):
                raise BencodeError("unterminated dictionary")
            if data[pos] == ord("e"):
                return result, pos + 1
            if not ord("0") <= data[pos] <= ord("9"):
                raise BencodeError(f"dictionary key at byte {pos} is not a string")
            raw_key, pos = _decode_string(data, pos)
            key = raw_key.decode("utf-8", "surrogateescape")
            if key in result:
                raise BencodeError(f"duplicate dictionary key {key!r}")
            result[key], pos = _decode(data, pos, depth + 1)
    raise BencodeError(f"unexpected byte {bytes([c])!r} at {pos}")
