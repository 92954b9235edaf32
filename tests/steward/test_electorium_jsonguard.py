"""The local JSON guard used for node answers and address list files."""

from __future__ import annotations

import pytest

from app.steward.electorium.jsonguard import JsonGuardError, iter_documents, loads


def test_plain_documents() -> None:
    assert loads(b'\xef\xbb\xbf {"a": [1, 2.5, "x]]]"]} \n', 100) == {"a": [1, 2.5, "x]]]"]}
    assert list(iter_documents('{"a":1}\n{"a":2} [3]', 100)) == [{"a": 1}, {"a": 2}, [3]]
    assert loads('"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', 100, max_depth=2).startswith("[")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", "not a JSON number"),
        ('{"x": -Infinity}', "not a JSON number"),
        ("1e999", "too large"),
        ("1" * 41, "digits"),
        ("[" * 33 + "]" * 33, "nested deeper than 32"),
        ('{"a": 1', "Expecting"),
        ("", "empty"),
        ("1 2", "more than one"),
        (b"\xff", "not UTF-8"),
        ("x" * 101, "larger than 100 bytes"),
    ],
)
def test_refused(text: str | bytes, reason: str) -> None:
    with pytest.raises(JsonGuardError, match=reason):
        loads(text, 100)
