"""Network Steward: the proposals (cached, so they show offline), search and status filter,
the proposal text, a refresh from GitHub, and voting with the open wallet."""

import time
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, WalletView
from app.steward.proposal import Proposal
from app.steward.service import StewardService
from spv.params import NetworkParams

from .calls import GuiCalls
from .vote_dialog import VoteDialog
from .widgets import page_header

STATUSES = ("all", "proposed", "accepted", "in progress", "complete", "rejected", "cancelled")


class StewardPage(QWidget):
    def __init__(
        self,
        params: NetworkParams,
        datadir: Path,
        calls: GuiCalls,
        core: AppCore | None = None,
    ) -> None:
        super().__init__()
        self.core = core  # votes are cast with its open wallet
        self.vote_dialog: VoteDialog | None = None
        self.params = params
        self.datadir = datadir
        self.calls = calls
        self.proposals: list[Proposal] = []
        self._request = 0  # answers to older requests are dropped
        layout = QVBoxLayout(self)
        layout.addWidget(page_header("Steward", "Network Steward proposals, and your vote."))
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search proposals")
        self.status_filter = QComboBox()
        self.status_filter.addItems(list(STATUSES))
        self.refresh_button = QPushButton("Refresh from GitHub")
        top.addWidget(self.search, 1)
        top.addWidget(self.status_filter)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        vote_row = QHBoxLayout()  # when the cache was refreshed · why not vote · Vote…
        self.cache_label = QLabel()
        self.vote_note = QLabel()
        self.vote_button = QPushButton("Vote…")
        self.vote_button.setToolTip("Vote for the Network Steward with this wallet's coins")
        vote_row.addWidget(self.cache_label, 1)
        vote_row.addWidget(self.vote_note)
        vote_row.addWidget(self.vote_button)
        layout.addLayout(vote_row)
        self.vote_button.clicked.connect(self.open_vote)
        self.set_wallet(None)
        split = QSplitter()
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Date", "Title", "Status", "Requested"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        split.addWidget(self.table)
        split.addWidget(self.text)
        layout.addWidget(split, 1)
        self.search.textChanged.connect(self.load)
        self.status_filter.currentTextChanged.connect(self.load)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.currentCellChanged.connect(lambda row, *_: self._show(row))
        self.load()

    def _service(self) -> StewardService:
        return StewardService(self.datadir, self.params, timeout=15.0)

    def load(self) -> None:
        """Read the cache (in a worker: SQLite and the disk stay off the Qt thread)."""
        status = self.status_filter.currentText()
        text = self.search.text().strip() or None
        self._request += 1
        request = self._request

        def read() -> tuple[int, list[Proposal], str]:
            with self._service() as svc:
                items = svc.proposals(status=None if status == "all" else status, text=text)
                return request, items, svc.cache_status().describe(time.time())

        self.calls.in_worker(read, self._loaded, self._failed)

    def _loaded(self, result: tuple[int, list[Proposal], str]) -> None:
        request, proposals, described = result
        if request != self._request:
            return  # a newer search is on its way
        self.proposals = proposals
        self.cache_label.setText(
            described.replace("run `pkt-wallet steward refresh`", "press Refresh")
        )
        self.table.setRowCount(len(self.proposals))
        for row, p in enumerate(self.proposals):
            amount = f"{p.requested_pkt:,} PKT" if p.requested_pkt is not None else ""
            for col, value in enumerate((p.date or "", p.title, p.status, amount)):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.proposals):
            self.text.clear()
            return
        p = self.proposals[row]
        head = f"# {p.title}\n\n**Status:** {p.status}"
        if p.author:
            head += f" · **Author:** {p.author}"
        if p.requested_pkt is not None:
            head += f" · **Requested:** {p.requested_pkt:,} PKT"
        if p.html_url:
            head += f"\n\n[Open on GitHub]({p.html_url})"
        self.text.setMarkdown(head + "\n\n---\n\n" + p.body)

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.cache_label.setText("Refreshing…")

        def run() -> None:
            with self._service() as svc:
                svc.refresh()

        self.calls.in_worker(run, self._refreshed, self._refresh_failed)

    def _refreshed(self, _: object) -> None:
        self.refresh_button.setEnabled(True)
        self.load()

    def _refresh_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.cache_label.setText(f"Not refreshed: {exc} (showing what was cached)")

    def _failed(self, exc: BaseException) -> None:
        self.cache_label.setText(f"Cannot read the proposals: {exc}")

    # --- voting ---

    def set_wallet(self, view: WalletView | None) -> None:
        """The open wallet (None: no wallet); votes are cast with its coins."""
        can_vote = self.core is not None and view is not None
        self.vote_button.setEnabled(can_vote)
        self.vote_note.setText("" if can_vote else "Open a wallet to vote.")

    def open_vote(self) -> None:
        if self.core is None:
            return
        self.vote_dialog = VoteDialog(self.core, self.calls, self)
        self.vote_dialog.open()
