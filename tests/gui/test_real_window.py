"""The app in a real window: Xvfb with Qt's xcb platform (not offscreen), so a missing system
library, a window that does not map, or a dialog that cancels on Enter fails here. The first
minutes of a new user are driven in a child process (tests/gui/real_window_driver.py); the
screenshots it takes of the screen are checked here."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QImage  # noqa: E402

from app import qt_libraries  # noqa: E402
from tests.support.xvfb import xvfb  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DRIVER_TIMEOUT = 300  # seconds; the whole flow usually takes about ten

needs_xvfb = pytest.mark.skipif(
    shutil.which("Xvfb") is None and os.environ.get("CI") != "true",
    reason="Xvfb is not installed (make test installs it); in CI this fails instead",
)


def distinct_colours(image: QImage, samples: int = 60) -> int:
    step_x, step_y = max(1, image.width() // samples), max(1, image.height() // samples)
    return len(
        {
            image.pixel(x, y)
            for y in range(0, image.height(), step_y)
            for x in range(0, image.width(), step_x)
        }
    )


@needs_xvfb
def test_first_run_in_a_real_window(tmp_path: Path) -> None:
    missing = qt_libraries.missing_libraries()
    assert not missing, qt_libraries.describe_missing(missing)
    out = tmp_path / "shots"
    with xvfb((1280, 1024)) as env:
        env = {**env, "PKT_WALLET_STRICT_THREADS": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "tests.gui.real_window_driver", str(out)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT,
        )
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    assert done.returncode == 0, (
        f"{report.get('error', 'the driver failed')}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    assert report["platform"] == "xcb"
    assert report["steps"] == [
        "start page shown",
        "wallet created with Enter; seed words shown",
        "words typed back with Enter; Overview shown",
        "unlocked with Enter",
        "seed words shown again with Enter",
    ]
    names = [shot["name"] for shot in report["screenshots"]]
    assert names == [
        "start",
        "create",
        "seed-words",
        "check-words",
        "overview",
        "unlock",
        "seed-dialog",
    ]
    for shot in report["screenshots"]:
        image = QImage(str(out / shot["file"]))
        assert not image.isNull(), shot
        ratio = shot["device_pixel_ratio"]
        width, height = shot["frame"]
        assert (image.width(), image.height()) == (round(width * ratio), round(height * ratio))
        assert width >= shot["window"][0] and height >= shot["window"][1]
        assert distinct_colours(image) > 8, f"{shot['name']}: the screen shows nothing drawn"
