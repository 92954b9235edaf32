"""A quick version of bench/stress_kill.py in `make test`: 25 SIGKILLs in the middle of wallet
writes (labels, payments recorded as pending, a sync committing its scan position as it goes,
driven by the wallet calls and by the light client against a loopback peer) and password
changes; nothing may be corrupt or lost (tests/support/kill_stress.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.kill_stress import SCENARIOS, stress

KILLS = 5  # per scenario: 25 in all


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_kills_lose_and_corrupt_nothing(scenario: str, tmp_path: Path) -> None:
    out = stress(scenario, KILLS, tmp_path, seed=20261208)
    assert out.kills == KILLS
    assert out.committed > 0, "the kills must land after some writes were committed"
    assert (out.corrupt, out.lost) == (0, 0), out.problems
