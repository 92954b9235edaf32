"""The Steward page: empty cache, refresh from a loopback GitHub, search and filter, proposal
text; cached data stays when a refresh fails; the issue-15 layout faults (title twice, the
Requested column cut, the Vote button among the proposals, the Vote dialog cutting its texts at
100 % and 200 %); the election count with and without a full node."""

import concurrent.futures
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QCheckBox,
    QDialog,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from app.gui.calls import GuiCalls  # noqa: E402
from app.gui.steward_page import NO_NODE, StewardPage  # noqa: E402
from app.gui.vote_dialog import VoteDialog  # noqa: E402
from app.steward.service import StewardService  # noqa: E402
from app.steward.store import SETTING_GITHUB_API  # noqa: E402
from app.wallet.voting import VotingAddress  # noqa: E402
from spv.params import MAINNET  # noqa: E402
from tests.steward.electorium_data import SAMPLE_AS_OF_BLOCK, named_address  # noqa: E402
from tests.steward.fake_pktd_rpc import tennessee_node  # noqa: E402
from tests.steward.fake_servers import FakeServers  # noqa: E402

NASHVILLE = named_address("Nashville").encode(MAINNET)


def test_steward_page_refresh_search_and_read(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeServers() as servers:
        with StewardService(tmp_path, MAINNET) as svc:
            svc.set_setting(SETTING_GITHUB_API, servers.base_url)
        page = StewardPage(MAINNET, tmp_path, GuiCalls())
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda: "never refreshed" in page.cache_label.text(), timeout=10_000)
        assert page.table.rowCount() == 0
        page.refresh()
        qtbot.waitUntil(lambda: page.table.rowCount() == 10, timeout=30_000)
        assert "last refreshed" in page.cache_label.text()
        page.search.setText("tokenstrike")
        qtbot.waitUntil(lambda: 0 < page.table.rowCount() < 10, timeout=10_000)
        titles = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
        assert "TokenStrike" in titles
        page.table.setCurrentCell(titles.index("TokenStrike"), 1)
        assert page.text.toPlainText().startswith("TokenStrike")
        page.search.clear()
        page.status_filter.setCurrentText("complete")
        qtbot.waitUntil(
            lambda: (
                0 < page.table.rowCount() < 10
                and all(
                    page.table.item(r, 2).text() == "complete" for r in range(page.table.rowCount())
                )
            ),
            timeout=10_000,
        )
    with StewardService(tmp_path, MAINNET) as svc:
        svc.set_setting(SETTING_GITHUB_API, "http://127.0.0.1:9")
    page.refresh()  # the server is gone: a clear message, the cache still shows
    qtbot.waitUntil(lambda: page.cache_label.text().startswith("Not refreshed"), timeout=30_000)
    assert page.table.rowCount() > 0


def _refreshed_page(qtbot, tmp_path: Path, servers: FakeServers) -> StewardPage:  # type: ignore[no-untyped-def]
    with StewardService(tmp_path, MAINNET) as svc:
        svc.set_setting(SETTING_GITHUB_API, servers.base_url)
    page = StewardPage(MAINNET, tmp_path, GuiCalls())
    qtbot.addWidget(page)
    page.resize(1100, 720)
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 10, timeout=30_000)
    return page


def test_title_once_requested_visible_vote_apart_from_the_proposals(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: the title was shown twice, the Requested column cut, the Vote button sat by
    the proposals as if it voted on the selected one, and the page spoke of OP_0 OP_VOTE."""
    with FakeServers() as servers:
        page = _refreshed_page(qtbot, tmp_path, servers)
        titles = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
        for title in ("New Network Steward Vote", "TokenStrike"):
            page.table.setCurrentCell(titles.index(title), 1)
            assert page.text.toPlainText().startswith(title)
            assert _headings(page.text.document()).count(title) == 1
        # every column of the proposals is inside the table's view, Requested in full
        qtbot.waitUntil(lambda: page.table.viewport().width() > 0, timeout=5_000)
        view = page.table.viewport().width()
        requested = 3
        right = page.table.columnViewportPosition(requested) + page.table.columnWidth(requested)
        assert right <= view
        needed = max(
            page.table.fontMetrics().horizontalAdvance(page.table.item(r, requested).text())
            for r in range(page.table.rowCount())
        )
        assert page.table.columnWidth(requested) >= needed
        # the Vote button is in "Your vote", not among the proposals
        assert page.vote_box.isAncestorOf(page.vote_button)
        assert not page.proposals_box.isAncestorOf(page.vote_button)
        assert "OP_VOTE" not in "".join(w.text() for w in page.findChildren(QLabel))


def _headings(document: QTextDocument) -> list[str]:
    block, found = document.begin(), []
    while block.isValid():
        if block.blockFormat().headingLevel() > 0:
            found.append(block.text())
        block = block.next()
    return found


def _fits(dialog: QDialog) -> list[str]:
    """What is cut in `dialog`: wrapped texts lower than they need, fields or boxes narrower
    than their text, widgets outside the window."""
    problems = []
    for label in dialog.findChildren(QLabel):
        shown = label.isVisible() and label.wordWrap() and label.text()
        if shown and label.height() < label.heightForWidth(label.width()):
            problems.append(f"text cut: {label.text()[:40]!r}")
    for box in dialog.findChildren(QCheckBox) + dialog.findChildren(QRadioButton):
        if box.isVisible() and box.width() < box.sizeHint().width():
            problems.append(f"option cut: {box.text()!r}")
    for edit in dialog.findChildren(QLineEdit):
        if edit.isVisible() and edit.width() < edit.minimumSizeHint().width():
            problems.append("field too narrow")
    rect = dialog.rect()
    for widget in dialog.findChildren(QWidget):
        if widget.isVisible() and widget.parentWidget() is dialog:
            geometry = widget.geometry()
            if not rect.contains(geometry):
                problems.append(f"outside the window: {type(widget).__name__}")
    return problems


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_the_vote_dialog_fits_its_contents(qtbot, scale: float) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: the Vote dialog cut its explanation and its field (200 % scale: fonts twice
    as large)."""
    voters = concurrent.futures.Future()  # type: ignore[var-annotated]
    voters.set_result([VotingAddress(f"pkt1q{'x' * 38}{n}", b"", n, 10**12, 3) for n in range(3)])
    core = SimpleNamespace(params=MAINNET, voting_addresses=lambda: voters)
    dialog = VoteDialog(core, GuiCalls())  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    font = dialog.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    dialog.setFont(font)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.from_combo.count() == 4, timeout=5_000)
    qtbot.wait(50)
    assert _fits(dialog) == []
    dialog.candidate.setText("pkt1qthisisnotavalidaddressatall")  # a long error under the field
    qtbot.wait(50)
    assert "invalid address" in dialog.candidate_state.text()
    assert _fits(dialog) == []
    dialog._previewed_text("• a long line " * 40)  # a preview with many transactions
    qtbot.wait(50)
    assert _fits(dialog) == []


def test_count_needs_a_node_and_shows_the_winner(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = StewardPage(MAINNET, tmp_path, GuiCalls())
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.count_label.text() == NO_NODE, timeout=10_000)
    assert not page.count_button.isEnabled()
    node = tennessee_node()
    try:
        with StewardService(tmp_path, MAINNET) as svc:
            svc.save_node(node.url, node.user)
            svc.save_node_password(node.password)
        page.read_node_settings()  # as when the page is shown again after Settings
        qtbot.waitUntil(lambda: "wins with" in page.count_label.text(), timeout=20_000)
        text = page.count_label.text()
        assert text.startswith(f"Election of block {SAMPLE_AS_OF_BLOCK + 1:,}: {NASHVILLE} wins")
        assert "The node elected the same address." in text
        assert page.count_button.isEnabled()
        node.password = "changed"
        page.count_now()
        qtbot.waitUntil(
            lambda: page.count_label.text().startswith("Could not count"), timeout=20_000
        )
        assert "changed" not in page.count_label.text()
    finally:
        node.stop()
