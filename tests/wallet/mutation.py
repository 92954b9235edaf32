"""Check that a vector checker rejects every one-character change of the vector it checks."""

from __future__ import annotations

import copy
import string
from collections.abc import Callable, Iterator
from typing import Any

_HEX = "0123456789abcdef"


def _replacement(char: str) -> str | None:
    if char in _HEX:
        return _HEX[(_HEX.index(char) + 1) % 16]
    if char in string.ascii_lowercase:
        return chr((ord(char) - 97 + 1) % 26 + 97)
    if char in string.ascii_uppercase:
        return chr((ord(char) - 65 + 1) % 26 + 65)
    return None


def _mutable_positions(text: str) -> list[int]:
    """The alphanumeric position nearest the middle, and the last alphanumeric one."""
    candidates = [i for i, c in enumerate(text) if _replacement(c) is not None]
    if not candidates:
        return []
    middle = min(candidates, key=lambda i: abs(i - len(text) // 2))
    return sorted({middle, candidates[-1]})


def mutate_at(text: str, position: int) -> str:
    replacement = _replacement(text[position])
    assert replacement is not None
    return text[:position] + replacement + text[position + 1 :]


def _leaf_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _leaf_paths(value, (*prefix, index))
    else:
        yield prefix


def single_changes(vector: Any, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, Any]]:
    """(description, copy of `vector` with one leaf changed by one character or one unit)."""
    for path in _leaf_paths(vector):
        if any(part in skip for part in path if isinstance(part, str)):
            continue
        parent = vector
        for part in path[:-1]:
            parent = parent[part]
        value = parent[path[-1]]
        variants: list[Any]
        if isinstance(value, bool):
            variants = [not value]
        elif isinstance(value, int):
            variants = [value + 1]
        elif isinstance(value, str):
            variants = [mutate_at(value, p) for p in _mutable_positions(value)]
            assert variants or not value, f"cannot mutate {path}"
        else:
            raise AssertionError(f"unexpected leaf type at {path}")
        for variant in variants:
            changed = copy.deepcopy(vector)
            target = changed
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = variant
            yield "/".join(str(p) for p in path), changed


def assert_every_change_detected(
    vector: Any, check: Callable[[Any], None], skip: frozenset[str] = frozenset()
) -> int:
    """Run `check` on the vector (must pass) and on every single change (must raise)."""
    check(vector)
    count = 0
    for where, changed in single_changes(vector, skip):
        try:
            check(changed)
        except Exception:  # noqa: BLE001 - any rejection counts
            count += 1
            continue
        raise AssertionError(f"a change at {where} went unnoticed")
    assert count > 0
    return count
