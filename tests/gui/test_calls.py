"""Results of background work reach the Qt thread, except for widgets deleted meanwhile
(bound methods, and closures or lambdas that captured them)."""

import concurrent.futures
from typing import Any

import pytest

pytest.importorskip("PySide6")

import shiboken6  # noqa: E402
from PySide6.QtWidgets import QLabel  # noqa: E402

from app.gui.calls import GuiCalls  # noqa: E402


def test_results_skip_deleted_widgets(qtbot: Any) -> None:
    calls = GuiCalls()
    alive, gone = QLabel(), QLabel()
    qtbot.addWidget(alive)
    seen: list[str] = []

    def closure_on(label: QLabel, tag: str) -> Any:
        def show(value: str) -> None:
            label.setText(value)
            seen.append(tag)

        return show

    futures = [concurrent.futures.Future[str]() for _ in range(4)]
    calls.watch(futures[0], closure_on(alive, "alive closure"), seen.append)
    calls.watch(futures[1], closure_on(gone, "gone closure"), seen.append)
    calls.watch(futures[2], lambda v: (gone.setText(v), seen.append("gone lambda")), seen.append)
    calls.watch(futures[3], gone.setText, seen.append)
    shiboken6.delete(gone)
    for future in futures:
        future.set_result("done")
    qtbot.waitUntil(lambda: seen == ["alive closure"], timeout=5_000)
    qtbot.wait(100)
    assert seen == ["alive closure"] and alive.text() == "done"
