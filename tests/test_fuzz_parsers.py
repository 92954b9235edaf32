"""Seeded fuzzing of every parser that reads bytes or text from outside (`make test` share).

The same targets and generators as `bench/fuzz.py` (tests/support/fuzz_targets.py and
fuzzing.py): 20,000 random, mutated and structure-aware inputs per parser, fewer only for the
two slow ones (a target's `note` says why). Only the target's typed errors may come out; an
untyped exception fails the test with its place and the input that caused it.
"""

from __future__ import annotations

import pytest

from tests.support.fuzz_targets import all_targets
from tests.support.fuzzing import Target, run_target

SEED = 20261123
TARGETS = all_targets()


def test_every_parser_of_the_issue_is_fuzzed() -> None:
    names = {t.name for t in TARGETS}
    assert names >= {
        "p2p-frame", "p2p-payload", "tx", "block", "header", "filter", "address",
        "payment-uri", "announcement", "block-proof", "pool-config", "pool-blkinfo",
        "pool-submit", "vpn-directory", "vpn-peering", "vpn-premium", "vpn-authorize",
        "github", "explorer", "proposal-markdown", "electorium-listaddresses",
        "electorium-getwinners",
    }  # fmt: skip
    slow = [t for t in TARGETS if t.test_inputs < 20_000]
    assert all(t.note for t in slow), "a parser fuzzed less than 20,000 times must say why"
    assert sum(t.test_inputs for t in TARGETS) >= 400_000


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz(target: Target) -> None:
    result = run_target(target, target.test_inputs, SEED)
    assert result.inputs == target.test_inputs
    detail = "\n".join(
        f"{u.count} x {key}: {u.where}\n  input: {u.example[:200]!r}"
        for key, u in result.untyped.items()
    )
    assert result.untyped_count == 0, f"untyped exceptions from {target.name}:\n{detail}"
    if target.typed and target.name != "block-proof":
        # the inputs reach past the first check: not everything is refused
        assert result.typed_errors < result.inputs
