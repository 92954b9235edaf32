"""Network Steward: your vote (the Electorium election counted since 2024), the count of the
election when a full node is configured, and the proposals (cached, so they show offline),
with search, status filter, their text and a refresh from GitHub.

Everything slow runs off the Qt thread: the wallet's votes through the core, the proposals
cache and the node's RPC in workers.
"""

import re
import time
from pathlib import Path

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
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
from app.steward.electorium.service import NodeCount
from app.steward.my_vote import (
    CANDIDATE,
    EXPIRED,
    VOTING,
    AddressVote,
    MyVote,
    day_text,
    describe_vote,
    election_line,
)
from app.steward.proposal import Proposal
from app.steward.service import NodeSettings, StewardService
from spv.params import NetworkParams

from .calls import GuiCalls
from .money import coins
from .vote_dialog import VoteDialog
from .widgets import make_primary, page_header

STATUSES = ("all", "proposed", "accepted", "in progress", "complete", "rejected", "cancelled")
NO_NODE = (
    "No full node is configured: counting the election needs a PKT full node's vote RPC "
    "(Settings → Network Steward full node). Your own votes are shown beside."
)
_WARNING = "color: #8a5300"
_NOTE = "color: palette(mid)"
_HEADING = re.compile(r"\s*#{1,6}\s*(?P<text>.*?)\s*#*\s*$")


def body_without_title(body: str, title: str) -> str:
    """The proposal's text without its first heading when that heading is its title (the
    page shows the title above it already)."""
    first, _, rest = body.lstrip("\n").partition("\n")
    match = _HEADING.fullmatch(first)
    if match and " ".join(match["text"].split()).casefold() == " ".join(title.split()).casefold():
        return rest.lstrip("\n")
    return body


def _short(txid: str) -> str:
    return f"{txid[:8]}…{txid[-4:]}"


def _wrapped(style: str = "") -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


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
        self.my_vote: MyVote | None = None
        self.node: NodeSettings | None = None
        self.count: NodeCount | None = None
        self._has_wallet = False
        self._request = 0  # answers to older requests are dropped
        self._vote_request = 0
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header("Steward", "Vote for the Network Steward, and read the proposals.")
        )
        cards = QHBoxLayout()
        cards.addWidget(self._vote_card(), 3)
        cards.addWidget(self._count_card(), 2)
        layout.addLayout(cards)
        layout.addWidget(self._proposals_card(), 1)
        self.set_wallet(None)
        self.load()

    # --- building ---

    def _vote_card(self) -> QGroupBox:
        self.vote_box = QGroupBox("Your vote")
        box = QVBoxLayout(self.vote_box)
        self.election_label = _wrapped(_NOTE)
        self.votes_table = QTableWidget(0, 4)
        self.votes_table.setHorizontalHeaderLabels(["Address", "Votes with", "Vote", "Expires"])
        self.votes_table.verticalHeader().setVisible(False)
        self.votes_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.votes_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.votes_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.votes_table.setMaximumHeight(self.fontMetrics().height() * 9)
        self.my_vote_label = _wrapped()
        self.reminder_label = _wrapped(_WARNING)
        self.reminder_label.hide()
        row = QHBoxLayout()
        self.vote_note = _wrapped(_NOTE)
        self.vote_button = QPushButton("Vote…")
        make_primary(self.vote_button)
        self.vote_button.setToolTip("Vote for the Network Steward with this wallet's addresses")
        row.addWidget(self.vote_note, 1)
        row.addWidget(self.vote_button)
        box.addWidget(self.election_label)
        box.addWidget(self.votes_table)
        box.addWidget(self.my_vote_label)
        box.addWidget(self.reminder_label)
        box.addLayout(row)
        self.vote_button.clicked.connect(self.open_vote)
        return self.vote_box

    def _count_card(self) -> QGroupBox:
        self.count_box = QGroupBox("Election count")
        box = QVBoxLayout(self.count_box)
        self.count_label = _wrapped()
        self.count_label.setText("Reading the settings…")
        self.count_button = QPushButton("Count now")
        self.count_button.setEnabled(False)
        self.count_button.clicked.connect(self.count_now)
        box.addWidget(self.count_label, 1)
        box.addWidget(self.count_button)
        return self.count_box

    def _proposals_card(self) -> QGroupBox:
        self.proposals_box = QGroupBox("Proposals")
        box = QVBoxLayout(self.proposals_box)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search proposals")
        self.status_filter = QComboBox()
        self.status_filter.addItems(list(STATUSES))
        self.refresh_button = QPushButton("Refresh from GitHub")
        top.addWidget(self.search, 1)
        top.addWidget(self.status_filter)
        top.addWidget(self.refresh_button)
        box.addLayout(top)
        self.cache_label = QLabel()
        box.addWidget(self.cache_label)
        split = QSplitter()
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Date", "Title", "Status", "Requested"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the title gives way
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        split.addWidget(self.table)
        split.addWidget(self.text)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        box.addWidget(split, 1)
        self.search.textChanged.connect(self.load)
        self.status_filter.currentTextChanged.connect(self.load)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.currentCellChanged.connect(lambda row, *_: self._show(row))
        return self.proposals_box

    # --- proposals ---

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
                item = QTableWidgetItem(value)
                if col == 1:
                    item.setToolTip(p.title)
                self.table.setItem(row, col, item)

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
        self.text.setMarkdown(head + "\n\n---\n\n" + body_without_title(p.body, p.title))

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

    # --- your vote ---

    def set_wallet(self, view: WalletView | None) -> None:
        """The open wallet (None: no wallet); votes are cast with its coins."""
        self._has_wallet = self.core is not None and view is not None
        self.vote_button.setEnabled(self._has_wallet)
        if not self._has_wallet:
            self.vote_note.setText("Open a wallet to vote.")
            self._show_my_vote(None)
            return
        self.vote_note.setText("")
        self.refresh_my_vote()

    def refresh_my_vote(self) -> None:
        if self.core is None or not self._has_wallet:
            return
        self._vote_request += 1
        request = self._vote_request

        def shown(status: MyVote) -> None:
            if request == self._vote_request:
                self._show_my_vote(status)

        def failed(exc: BaseException) -> None:
            if request == self._vote_request:
                self.my_vote_label.setText(f"Cannot read your votes: {exc}")

        self.calls.watch(self.core.my_vote(), shown, failed)

    def _show_my_vote(self, status: MyVote | None) -> None:
        self.my_vote = status
        entries = [] if status is None else [e for e in status.addresses if e.vote or e.pending]
        self.votes_table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            cells = (
                entry.address,
                coins(entry.balance, self.params),
                self._vote_text(entry),
                self._expiry_text(entry),
            )
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if entry.vote is not None:
                    item.setToolTip(f"vote transaction {entry.vote.txid}")
                self.votes_table.setItem(row, col, item)
        self.votes_table.setVisible(bool(entries))
        if status is None:
            self.election_label.setText("")
            self.my_vote_label.setText("Open a wallet to see and cast your vote.")
        else:
            self.election_label.setText(f"Chain at {election_line(status)}.")
            silent = [e for e in status.addresses if not e.vote and not e.pending]
            if not entries:
                text = (
                    f"You have not voted. {len(silent)} address(es) of this wallet hold coins "
                    "and can vote: press Vote…"
                    if silent
                    else "You have not voted, and this wallet holds no coins to vote with."
                )
            else:
                total = sum(e.balance for e in silent)
                text = (
                    f"{len(silent)} other address(es) holding {coins(total, self.params)} do not "
                    "vote."
                    if silent
                    else ""
                )
            self.my_vote_label.setText(text)
        reminder = status.reminder if status is not None else None
        self.reminder_label.setText(reminder or "")
        self.reminder_label.setVisible(bool(reminder))

    @staticmethod
    def _vote_text(entry: AddressVote) -> str:
        vote, pending = entry.vote, entry.pending
        parts = []
        if vote is not None:
            text = describe_vote(vote)
            parts.append(f"expired ({text})" if entry.state == EXPIRED else text)
        if pending is not None:
            parts.append(f"pending: {describe_vote(pending)} ({_short(pending.txid)})")
        return "; ".join(parts) or "no vote"

    @staticmethod
    def _expiry_text(entry: AddressVote) -> str:
        vote = entry.vote
        if vote is None or entry.state not in (VOTING, CANDIDATE) or entry.expiry_block is None:
            return "" if vote is None else f"since block {vote.height:,}"
        text = f"block {entry.expiry_block:,}"
        if entry.expiry_time is not None:
            text += f" (~{day_text(entry.expiry_time)})"
        return text + (" — soon" if entry.expires_soon else "")

    def open_vote(self) -> None:
        if self.core is None:
            return
        self.vote_dialog = VoteDialog(self.core, self.calls, self)
        self.vote_dialog.voted.connect(lambda _: self.refresh_my_vote())
        self.vote_dialog.open()

    # --- the count ---

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Read the node settings again (Settings may have changed them) and count once."""
        super().showEvent(event)
        self.read_node_settings()

    def read_node_settings(self) -> None:
        def read() -> NodeSettings:
            with self._service() as svc:
                return svc.node_settings()

        self.calls.in_worker(read, self._node_read, self._count_failed)

    def _node_read(self, node: NodeSettings) -> None:
        changed = node != self.node
        self.node = node
        self.count_button.setEnabled(node.configured)
        if not node.configured:
            self.count = None
            self.count_label.setText(NO_NODE)
        elif changed or self.count is None:
            self.count_now()

    def count_now(self) -> None:
        node = self.node
        if node is None or node.url is None:
            return
        from app.steward.electorium.service import count_from_node

        url, user, password = node.url, node.user, node.password
        self.count_button.setEnabled(False)
        self.count_label.setText(f"Counting from the node at {url}…")
        self.calls.in_worker(
            lambda: count_from_node(url, user, password, self.params, top=3),
            self._counted,
            self._count_failed,
        )

    def _counted(self, counted: NodeCount) -> None:
        self.count = counted
        self.count_button.setEnabled(True)
        count = counted.count
        when = (
            f"Election of block {count.election_block:,}"
            if count.election_block is not None
            else "The election"
        )
        if count.winner_address is None:
            lines = [f"{when}: no winner, no address stands as a candidate."]
        else:
            lines = [
                f"{when}: {count.winner_address} wins with "
                f"{coins(count.winner_total or 0, self.params)}."
            ]
        lines += [
            f"{n}. {c.address} — {coins(c.total, self.params)}"
            for n, c in enumerate(count.ranking, 1)
        ]
        lines.append(f"{count.candidates} candidate(s), {count.voters} voter(s) counted.")
        if counted.node_result is not None:
            lines.append(
                "The node elected the same address."
                if counted.agrees
                else f"The node's own result differs: {counted.node_result.winner or 'none'}."
            )
        self.count_label.setText("\n".join(lines))

    def _count_failed(self, exc: BaseException) -> None:
        self.count_button.setEnabled(self.node is not None and self.node.configured)
        self.count_label.setText(f"Could not count: {exc}")
