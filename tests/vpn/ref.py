"""Independent reference helpers for the loopback test servers (not shared with app/vpn):
a small bencode with cjdroute's output quirks, cjdns base32, and the Ed25519 -> Curve25519 map.
"""

import hashlib
from typing import Any

_ALPHABET = "0123456789bcdfghjklmnpqrstuvwxyz"
_P = 2**255 - 19


def benc(value: Any, *, pad_first_key: int = 0, reverse_keys: bool = False) -> bytes:
    """Bencode; optionally zero-pad the first dictionary key's length (as cjdroute does) and
    emit keys in reverse order (cjdns accepts unsorted keys; clients must too)."""

    def enc(v: Any, first: bool) -> bytes:
        if isinstance(v, int):
            return b"i%de" % v
        if isinstance(v, str):
            v = v.encode()
        if isinstance(v, bytes):
            return b"%d:%s" % (len(v), v)
        if isinstance(v, list):
            return b"l" + b"".join(enc(x, False) for x in v) + b"e"
        if isinstance(v, dict):
            keys = sorted(v, key=lambda k: k.encode(), reverse=reverse_keys)
            out = b"d"
            for i, k in enumerate(keys):
                kb = k.encode()
                length = b"%d" % len(kb)
                if first and i == 0 and pad_first_key:
                    length = b"0" * pad_first_key + length
                out += length + b":" + kb + enc(v[k], False)
            return out + b"e"
        raise TypeError(type(v))

    return enc(value, True)


def bdec(data: bytes) -> Any:
    def dec(i: int) -> tuple[Any, int]:
        c = data[i : i + 1]
        if c == b"i":
            j = data.index(b"e", i)
            return int(data[i + 1 : j]), j + 1
        if c == b"l":
            out: list[Any] = []
            i += 1
            while data[i : i + 1] != b"e":
                v, i = dec(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            d: dict[str, Any] = {}
            i += 1
            while data[i : i + 1] != b"e":
                k, i = dec(i)
                v, i = dec(i)
                d[k] = v
            return d, i + 1
        j = data.index(b":", i)
        n = int(data[i:j])
        raw = data[j + 1 : j + 1 + n]
        if len(raw) != n:
            raise ValueError("short string")
        try:
            return raw.decode(), j + 1 + n
        except UnicodeDecodeError:
            return raw, j + 1 + n

    value, end = dec(0)
    if end != len(data):
        raise ValueError("trailing garbage")
    return value


def b32enc(data: bytes) -> str:
    out, work, bits = "", 0, 0
    for b in data:
        work |= b << bits
        bits += 8
        while bits >= 5:
            out += _ALPHABET[work & 31]
            work >>= 5
            bits -= 5
    return out + (_ALPHABET[work & 31] if bits else "")


def b32dec(text: str) -> bytes:
    out, work, bits = bytearray(), 0, 0
    for ch in text:
        work |= _ALPHABET.index(ch) << bits
        bits += 5
        if bits >= 8:
            out.append(work & 255)
            work >>= 8
            bits -= 8
    if bits >= 5 or work:
        raise ValueError("bad base32")
    return bytes(out)


def curve_key_of(ed_public: bytes) -> str:
    y = int.from_bytes(ed_public, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return b32enc(u.to_bytes(32, "little")) + ".k"


def ipv6_of(key: str) -> str:
    raw = b32dec(key[:52])
    h = hashlib.sha512(hashlib.sha512(raw).digest()).digest()[:16]
    return ":".join(h[i : i + 2].hex() for i in range(0, 16, 2))
