"""Dialogs fit what they show at 100 % and 200 % scale (issue 15: the seed words' fourth column
was cut off), on a real display: Xvfb with Qt's xcb platform and QT_SCALE_FACTOR, in a child
process (tests/gui/dialog_fit_driver.py), since the scale is fixed when Qt starts."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.support.xvfb import xvfb  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

needs_xvfb = pytest.mark.skipif(
    shutil.which("Xvfb") is None and os.environ.get("CI") != "true",
    reason="Xvfb is not installed (make test installs it); in CI this fails instead",
)


@needs_xvfb
@pytest.mark.parametrize("scale", ["1", "2"])
def test_dialogs_fit_their_content(tmp_path: Path, scale: str) -> None:
    with xvfb((2560, 1600)) as env:
        done = subprocess.run(
            [sys.executable, "-m", "tests.gui.dialog_fit_driver", str(tmp_path)],
            cwd=ROOT,
            env={**env, "QT_SCALE_FACTOR": scale, "PKT_WALLET_STRICT_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "fit.json").read_text())
    assert len(report) == 10
    cut = {name: found for name, found in report.items() if found}
    assert not cut, json.dumps(cut, indent=1)
