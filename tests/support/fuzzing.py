"""Fuzzing of every parser that reads bytes or text we do not control: input generators, the
loopback-free fake HTTP session the service clients are driven through, and the runner.

Shared by ``bench/fuzz.py`` (at least 1,000,000 inputs per parser) and
``tests/test_fuzz_parsers.py`` (a seeded 20,000 per parser in ``make test``). The targets
themselves are in :mod:`tests.support.fuzz_targets`.

Inputs come three ways, in about equal shares:

* random bytes or text;
* mutations of real vectors (bit flips, cuts, insertions, repeated spans, interesting bytes
  such as the compact-size prefixes 0xfd/0xfe/0xff);
* structure-aware: for JSON, a real document with a field replaced by a hostile value (deep
  nesting, 4,301-digit or 1e400 numbers, NaN, Unicode digits such as "²" or "٣", lone
  surrogates, the wrong type); for P2P, a valid frame (magic, checksum) around a mutated
  payload; for text, long digit runs and odd digits inside real text.

"Untyped" is any exception that is not one of the target's typed errors: the figure the
bench prints per parser and the test requires to be 0.
"""

from __future__ import annotations

import json
import random
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# --- the targets' description --------------------------------------------------------------------


@dataclass
class Target:
    name: str
    parse: Callable[[bytes], object]
    typed: tuple[type[BaseException], ...]
    seeds: list[bytes]
    kind: str  # "binary", "json" or "text"
    test_inputs: int = 20_000
    """Inputs in `make test` (fewer only for slow parsers, with the reason in `note`)."""
    note: str = ""
    fixed_size: int | None = None
    """Inputs cut or padded to this size (announcements are 1024 bytes)."""
    structured: Callable[[random.Random], bytes] | None = None
    """A structure-aware generator of its own (P2P frames, announcements)."""


@dataclass
class Untyped:
    count: int
    example: bytes
    where: str


@dataclass
class FuzzResult:
    name: str
    inputs: int = 0
    seconds: float = 0.0
    typed_errors: int = 0
    untyped: dict[str, Untyped] = field(default_factory=dict)

    @property
    def untyped_count(self) -> int:
        return sum(u.count for u in self.untyped.values())

    @property
    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0

    def merge(self, other: FuzzResult) -> None:
        self.inputs += other.inputs
        self.seconds = max(self.seconds, other.seconds)
        self.typed_errors += other.typed_errors
        for key, u in other.untyped.items():
            mine = self.untyped.get(key)
            if mine is None:
                self.untyped[key] = u
            else:
                mine.count += u.count


# --- the runner ------------------------------------------------------------------------------------


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    return f"{last.filename}:{last.lineno}" if last else "?"


def run_target(target: Target, count: int, seed: int) -> FuzzResult:
    """Feed `count` inputs (seeded) to the target; count what escapes untyped."""
    rng = random.Random(seed)
    result = FuzzResult(target.name)
    gen = generator(target, rng)
    started = time.perf_counter()
    for _ in range(count):
        data = next(gen)
        try:
            target.parse(data)
        except target.typed:
            result.typed_errors += 1
        except Exception as exc:  # the thing being counted
            key = f"{type(exc).__name__} at {_where(exc)}"
            u = result.untyped.get(key)
            if u is None:
                result.untyped[key] = Untyped(1, data, f"{type(exc).__name__}: {exc}"[:300])
            else:
                u.count += 1
    result.inputs = count
    result.seconds = time.perf_counter() - started
    return result


def generator(target: Target, rng: random.Random) -> Iterator[bytes]:
    make = {"binary": _binary_input, "json": _json_input, "text": _text_input}[target.kind]
    while True:
        data = make(rng, target)
        if target.fixed_size is not None:
            data = data[: target.fixed_size].ljust(target.fixed_size, b"\0")
        yield data


# --- bytes ---------------------------------------------------------------------------------------

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFD, 0xFE, 0xFF, 0x4C, 0x4D, 0x4E, 0x66, 0x20)
HUGE_SIZES = (
    b"\xfd\xff\xff",
    b"\xfe\xff\xff\xff\xff",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\xfd\x00\x00",  # non-canonical
    b"\xfe\x01\x00\x00\x00",
    b"\xff\x00\x00\x00\x00\x01\x00\x00\x00",
)


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(8)
        pos = rng.randrange(len(buf) + 1)
        if choice == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # truncate
            del buf[pos:]
        elif choice == 2:  # insert random bytes
            buf[pos:pos] = rng.randbytes(rng.randint(1, 9))
        elif choice == 3:  # delete a span
            del buf[pos : pos + rng.randint(1, 16)]
        elif choice == 4 and buf:  # an interesting byte (size prefixes, opcodes)
            buf[rng.randrange(len(buf))] = rng.choice(INTERESTING_BYTES)
        elif choice == 5:  # a huge or non-canonical compact size
            buf[pos : pos + rng.randint(0, 9)] = rng.choice(HUGE_SIZES)
        elif choice == 6 and len(buf) >= 4:  # a 32-bit field set to an extreme
            i = rng.randrange(len(buf) - 3)
            buf[i : i + 4] = rng.choice((b"\xff\xff\xff\xff", b"\0\0\0\0", b"\xff\xff\xff\x7f"))
        else:  # repeat a span
            span = bytes(buf[pos : pos + rng.randint(1, 64)])
            buf[pos:pos] = span * rng.randint(1, 3)
    return bytes(buf)


def _binary_input(rng: random.Random, target: Target) -> bytes:
    roll = rng.randrange(10)
    if roll < 2 or not target.seeds:
        return rng.randbytes(rng.choice((0, 1, 4, 5, 24, 40, 80, 81, 200, 1024, 1500)))
    if roll < 6 or target.structured is None:
        return mutate_bytes(rng, rng.choice(target.seeds))
    return target.structured(rng)


# --- JSON ----------------------------------------------------------------------------------------


class Raw:
    """A JSON token written as is (so that hostile numbers reach the parser as text)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _deep(rng: random.Random) -> Raw:
    n = rng.choice((31, 32, 33, 64, 1000, 5000, 100_000))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    inner = opener * n + "1" + closer * n if rng.random() < 0.7 else opener * n
    return Raw(inner)


HOSTILE_NUMBERS = (
    "1e400",
    "-1e400",
    "1E-400",
    "1e308",
    "2e-324",
    "0.1",
    "1.5",
    "-0",
    "-0.0",
    "0.0000000001",
    "1" + "0" * 40,
    "9" * 41,
    "9" * 4301,
    "-" + "9" * 4301,
    "4294967296",
    "18446744073709551616",
    "-1",
    "-2147483649",
    "NaN",
    "Infinity",
    "-Infinity",
    "1" + "0" * 80 + ".5",
    "123456789012345678901234567890.123456789",
)
HOSTILE_STRINGS = (
    "\u00b2",
    "\u00b9\u00b2\u00b3",
    "\u0663",
    "\u0661\u0662\u0663.\u0664",
    "\uff11\uff12",
    "1e400",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    "1_000",
    " 12 ",
    "",
    "9" * 4301,
    "0.0000000001",
    "-5",
    "12abc",
    "x" * 10_000,
    "\u202e\u0000\ufeff",
)
HOSTILE_ESCAPES = ('"\\ud800"', '"\\udfff"', '"\\ud800\\u0041"', '"a\\u0000b"', '"\\uDBFF"')


def hostile_value(rng: random.Random) -> Any:
    roll = rng.randrange(9)
    if roll == 0:
        return _deep(rng)
    if roll <= 2:
        return Raw(rng.choice(HOSTILE_NUMBERS))
    if roll <= 4:
        return rng.choice(HOSTILE_STRINGS)
    if roll == 5:
        return Raw(rng.choice(HOSTILE_ESCAPES))
    if roll == 6:
        return rng.choice((None, True, False, [], {}, 0, 1, -1, [None], {"": None}))
    if roll == 7:
        return [hostile_value(rng) for _ in range(rng.randint(0, 3))]
    return {rng.choice(("", "a", "result", "error", "0")): hostile_value(rng)}


def _random_path(rng: random.Random, doc: Any) -> tuple[Any, ...]:
    """A random place in the document: a walk from the root that stops at each level with
    probability 1/3 (or at a leaf)."""
    path: tuple[Any, ...] = ()
    while isinstance(doc, dict | list) and doc and rng.random() < 0.67:
        key = rng.choice(list(doc)) if isinstance(doc, dict) else rng.randrange(len(doc))
        path = (*path, key)
        doc = doc[key]
    return path


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        out = dict(doc)
        out[head] = _replace(doc[head], rest, value)
        return out
    out_list = list(doc)
    out_list[head] = _replace(doc[head], rest, value)
    return out_list


def mutate_document(rng: random.Random, doc: Any) -> Any:
    """The document with one to three places removed, repeated, retyped or replaced by a hostile
    value (structural changes first, so a repeated item never carries a huge hostile value)."""
    ops = sorted(rng.randrange(6) for _ in range(rng.randint(1, 3)))
    for roll in reversed(ops):  # 5, 4, 3: structural; 0-2: hostile values
        path = _random_path(rng, doc)
        if roll <= 2 or not path:
            doc = _replace(doc, path, hostile_value(rng))
            continue
        parent_path, key = path[:-1], path[-1]
        parent = doc
        for p in parent_path:
            parent = parent[p]
        if roll == 3:  # remove the field or item
            if isinstance(parent, dict):
                new: Any = {k: v for k, v in parent.items() if k != key}
            else:
                new = [v for i, v in enumerate(parent) if i != key]
        elif roll == 4:  # repeat an item
            item = parent[key]
            if isinstance(parent, dict):
                new = dict(parent) | {f"{key}{i}": item for i in range(rng.randint(1, 5))}
            else:
                new = list(parent) + [item] * rng.randint(1, 50)
        else:  # change the type of the value
            new_value = rng.choice(
                (str(parent[key])[:200], [parent[key]], {"v": parent[key]}, None, True, 0)
            )
            new = _replace(parent, (key,), new_value)
        doc = _replace(doc, parent_path, new)
    return doc


def dump(value: Any) -> str:
    """JSON text; Raw tokens written as they are (placeholders through json.dumps' C encoder,
    then replaced)."""
    raws: list[str] = []

    def swap(v: Any) -> Any:
        if isinstance(v, Raw):
            raws.append(v.text)
            return f"\x01{len(raws) - 1}\x01"
        if isinstance(v, dict):
            return {str(k): swap(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [swap(x) for x in v]
        return v

    text = json.dumps(swap(value))
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0001{i}\\u0001"', raw, 1)
    return text


def _json_input(rng: random.Random, target: Target) -> bytes:
    roll = rng.randrange(10)
    if roll == 0:
        return rng.randbytes(rng.choice((0, 1, 2, 16, 100)))
    if roll == 1:
        alphabet = '[]{}":,0123456789.eE-+ truefalsnul\\u\u00b2\u0663'
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200))).encode()
    seed = rng.choice(target.seeds)
    if roll <= 4:
        return mutate_bytes(rng, seed)
    try:
        doc = json.loads(seed)
    except ValueError:  # a seed of several documents (a listaddresses file)
        return mutate_bytes(rng, seed)
    text = dump(mutate_document(rng, doc))
    if rng.random() < 0.05:
        text = "\ufeff" + text
    return text.encode("utf-8", "surrogatepass")


# --- text ----------------------------------------------------------------------------------------

TEXT_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    " \t\n\r#*-_:.,;/?&=%()[]`|>$\u00e9\u00b2\u0663\uff11\u200b\ufeff\x00"
)
TEXT_INSERTS = (
    "9" * 4301,
    "1" * 50 + " million PKT",
    "9" * 30 + "e999999",
    "\u00b2\u00b3",
    "\u0661\u0662\u0663",
    "1,000,000,000,000,000,000,000,000 PKT",
    "1.5e400 PKT",
    "0.0000000001",
    "\n* Requested PKT: ",
    "\n# ",
    "\n---\n",
    "2020_13_45_",
    "9999_99_99",
    "?amount=",
    "&amount=1e400",
    "%ff%fe",
    "%",
    "\ud800",
)


def after_a_colon(rng: random.Random, text: str) -> str:
    """A hostile insert right after the colon of a random `Field: value` line (where field
    parsers look), or at a random place when there is no such line."""
    colons = [i for i, c in enumerate(text) if c == ":"]
    pos = rng.choice(colons) + 1 if colons else rng.randrange(len(text) + 1)
    return text[:pos] + " " + rng.choice(TEXT_INSERTS) + text[pos:]


def _text_input(rng: random.Random, target: Target) -> bytes:
    roll = rng.randrange(10)
    if target.structured is not None and roll >= 7:
        return target.structured(rng)
    if roll < 2:
        text = "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(0, 300)))
    else:
        s = list(rng.choice(target.seeds).decode("utf-8", "surrogatepass"))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(s) + 1)
            op = rng.randrange(5)
            if op == 0 and s:
                s[min(pos, len(s) - 1)] = rng.choice(TEXT_ALPHABET)
            elif op == 1:
                s[pos:pos] = rng.choice(TEXT_ALPHABET)
            elif op == 2:
                del s[pos : pos + rng.randint(1, 20)]
            elif op == 3 or roll < 6:
                s[pos:pos] = rng.choice(TEXT_INSERTS)
            else:
                s[pos:pos] = s[pos : pos + rng.randint(1, 200)] * rng.randint(1, 5)
        text = "".join(s)
    return text.encode("utf-8", "surrogatepass")


def as_text(data: bytes) -> str:
    """Text targets take str: decoded as the app would, with lone surrogates kept."""
    return data.decode("utf-8", "surrogatepass") if _utf8ish(data) else data.decode("latin-1")


def _utf8ish(data: bytes) -> bool:
    try:
        data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


# --- a fake HTTP session: the service clients' own code, without a network --------------------------


class FakeResponse:
    """What requests returns, for the attributes our clients use."""

    def __init__(self, status: int, body: bytes, url: str, headers: dict[str, str]) -> None:
        self.status_code = status
        self._body = body
        self.url = url
        self.headers = headers

    @property
    def content(self) -> bytes:
        return self._body

    @property
    def text(self) -> str:
        return self._body.decode("utf-8", "replace")

    def iter_content(self, chunk_size: int = 1) -> Iterator[bytes]:
        for i in range(0, len(self._body), max(1, chunk_size)):
            yield self._body[i : i + chunk_size]

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class FakeSession:
    """Answers every request with `reply(method, url)` -> (status, body, headers)."""

    def __init__(self, reply: Callable[[str, str], tuple[int, bytes, dict[str, str]]]) -> None:
        self.reply = reply
        self.headers: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        status, body, headers = self.reply(method, url)
        return FakeResponse(status, body, url, headers)

    def get(self, url: str, **kwargs: Any) -> FakeResponse:
        return self.request("GET", url)

    def post(self, url: str, **kwargs: Any) -> FakeResponse:
        return self.request("POST", url)

    def close(self) -> None:
        pass
