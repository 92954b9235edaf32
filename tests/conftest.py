"""Shared test helpers: where the committed test vectors live."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

# GUI tests draw offscreen unless a display was chosen explicitly (e.g. Xvfb for screenshots).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Sync, wallet I/O or mining started on the marked GUI thread raises GuiThreadViolation
# (app/threadguard.py) instead of only being logged.
os.environ["PKT_WALLET_STRICT_THREADS"] = "1"

DATA_DIR = Path(__file__).parent / "data"


def load_vector(*parts: str) -> Any:
    with open(DATA_DIR.joinpath(*parts), encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def pkt_vectors() -> Any:
    """Loader for files under tests/data/pkt."""
    return lambda name: load_vector("pkt", name)
