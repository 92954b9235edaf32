"""Electorium count speed: a full vote list (the node's cap of 100,000 entries) with realistic
delegation, then ten times as many addresses squeezed through the cap, then the first list read
back from a listaddresses file by `count_from_file`. Printed, not asserted.

Realistic means: most entries are non-candidate voters delegating to one of a few hundred
candidates, many through chains of other voters (pools, exchanges, friends), a few per cent
vote in rings, balances spread over six orders of magnitude.

Run: .venv/bin/python bench/electorium_count.py [N_ENTRIES]
"""

import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.steward.electorium.count import count_votes  # noqa: E402
from app.steward.electorium.service import address_text, count_from_file  # noqa: E402
from app.steward.electorium.vote_list import LIST_LIMIT, AddressRecord, build_vote_list  # noqa: E402
from spv.params import MAINNET  # noqa: E402

T = TypeVar("T")


def realistic_records(n: int, rng: random.Random) -> list[AddressRecord]:
    scripts = [b"\x00\x14" + rng.randbytes(20) for _ in range(n)]
    candidates = set(rng.sample(range(n), max(1, n // 300)))
    records = []
    for i, script in enumerate(scripts):
        balance = int(10 ** rng.uniform(6, 12))  # units: about 0.001 PKT to 1,000 PKT
        r = rng.random()
        if i in candidates:
            target = rng.randrange(n) if r < 0.5 else None  # half delegate onward
        elif r < 0.6:
            target = rng.choice(tuple(candidates))
        elif r < 0.95:
            target = rng.randrange(max(1, i)) if i else None  # chains through earlier voters
        else:
            target = (i + 1) % n  # rings of neighbours
        vote_for = scripts[target] if target is not None and target != i else b""
        records.append(AddressRecord(script, balance, i in candidates, vote_for))
    return records


def node_pages(records: list[AddressRecord], size: int = 200) -> list[dict[str, Any]]:
    """The records as listaddresses pages (addresses as the node writes them)."""
    items = [
        {
            "address": address_text(r.script, MAINNET),
            "balance": r.balance / MAINNET.units_per_coin,
            "sbalance": str(r.balance),
            "is_candidate": r.is_candidate,
            "vote_for": address_text(r.vote_for, MAINNET),
        }
        for r in records
    ]
    return [
        {
            "addresses": items[i : i + size],
            "as_of_block": 2338559,
            "has_more": i + size < len(items),
        }
        for i in range(0, len(items), size)
    ]


def timed(label: str, n: int, fn: Callable[[], T]) -> T:
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<44} {n:>9,} in {dt:6.2f} s  = {n / dt:>10,.0f} /s")
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else LIST_LIMIT
    rng = random.Random(2024)
    records = realistic_records(n, rng)
    vote_list = timed("build the vote list (entries)", n, lambda: build_vote_list(records))
    entries = vote_list.entries
    outcome = timed("Electorium count (entries)", len(entries), lambda: count_votes(entries))
    print(
        f"  winner total {outcome.winner_total}, decided by {outcome.decided_by.value}, "
        f"{len(outcome.ranking)} candidates, best ring {len(outcome.best_ring)}"
    )
    big = realistic_records(10 * n, rng)
    capped = timed(
        f"10x addresses through the {LIST_LIMIT:,} cap", len(big), lambda: build_vote_list(big)
    )
    print(
        f"  evicted {capped.evicted:,}, folded in {capped.folded_in:,} "
        f"(second pass), {len(capped.entries):,} entries"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "listaddresses.json"
        path.write_text("".join(json.dumps(p) for p in node_pages(records)))
        timed(
            f"count_from_file ({path.stat().st_size / 1e6:.0f} MB of pages)",
            n,
            lambda: count_from_file(path, MAINNET),
        )
    timed(
        "Electorium count of the capped list",
        len(capped.entries),
        lambda: count_votes(capped.entries),
    )


if __name__ == "__main__":
    main()
