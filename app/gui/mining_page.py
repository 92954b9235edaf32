"""Mining: one big Start/Stop button, threads, pools, payout address (the wallet's by
default), live counters and a chart of announcements per second."""

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import AppCore, WalletView
from app.mining.earnings import earnings_summary
from app.mining.service import MiningError, MiningService, validate_payout
from app.mining.settings import MiningSettings
from app.mining.status_text import human_rate
from app.notifications import mining_state
from app.wallet.model import AddressInfo
from miner.workers import default_threads
from spv.params import NetworkParams

from .calls import GuiCalls
from .money import coins
from .payment_text import plural
from .widgets import keep_left, make_primary, page_header

SaveSettings = Callable[[MiningSettings], None]
NEW_MINING_ADDRESS = "A new address of this wallet"


class RateChart(QWidget):
    """The last hour's announcements per second: a line over a time axis (minutes ago) and
    a rate axis, the title above the plot (never over the line)."""

    MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 8, 10, 20, 20

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.samples: list[tuple[float, float]] = []  # (unix time, anns/s)
        self.setMinimumHeight(120)

    def set_values(self, samples: list[tuple[float, float]]) -> None:
        self.samples = samples[-360:]
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        metrics = painter.fontMetrics()
        text_colour = QColor("#555555")
        painter.setPen(text_colour)
        painter.drawText(self.MARGIN_LEFT, metrics.ascent() + 2, "Announcements per second")
        if len(self.samples) < 2:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no data yet")
            return
        top_value = max(v for _, v in self.samples) or 1.0
        labels = [f"{top_value * k / 2:.1f}" for k in (0, 1, 2)]
        left = self.MARGIN_LEFT + max(metrics.horizontalAdvance(t) for t in labels) + 6
        plot = QRectF(
            left,
            self.MARGIN_TOP + 4,
            self.width() - left - self.MARGIN_RIGHT,
            self.height() - self.MARGIN_TOP - 4 - self.MARGIN_BOTTOM,
        )
        if plot.width() < 10 or plot.height() < 10:
            return
        grid = QPen(QColor("#dddddd"), 1)
        for k, text in enumerate(labels):  # rate axis: 0, half, top
            y = plot.bottom() - plot.height() * k / 2
            painter.setPen(grid)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(
                    self.MARGIN_LEFT,
                    y - metrics.height() / 2,
                    left - self.MARGIN_LEFT - 4,
                    metrics.height(),
                ),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        start, end = self.samples[0][0], self.samples[-1][0]
        span = max(end - start, 1.0)
        minutes = span / 60
        for fraction, text in (
            (0.0, f"{minutes:.0f} min ago" if minutes >= 1 else f"{span:.0f} s ago"),
            (1.0, "now"),
        ):  # time axis
            x = plot.left() + plot.width() * fraction
            width = metrics.horizontalAdvance(text)
            x = min(max(x - width / 2, plot.left()), plot.right() - width)
            painter.drawText(QPointF(x, self.height() - 4), text)
        painter.setPen(QPen(QColor("#999999"), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.setPen(QPen(QColor("#2f5bea"), 2))
        points = [
            QPointF(
                plot.left() + plot.width() * (t - start) / span,
                plot.bottom() - plot.height() * v / top_value,
            )
            for t, v in self.samples
        ]
        for a, b in zip(points, points[1:], strict=False):
            painter.drawLine(a, b)


class MiningPage(QWidget):
    def __init__(
        self,
        params: NetworkParams,
        service: MiningService,
        settings: MiningSettings,
        save_settings: SaveSettings,
        calls: GuiCalls,
        parent: QWidget | None = None,
        core: AppCore | None = None,
    ) -> None:
        super().__init__(parent)
        self.params = params
        self.core = core  # the open wallet's mining address is changed through it
        self.payout_dialog: QInputDialog | None = None
        self.service = service
        self.settings = settings
        self.save_settings = save_settings
        self.calls = calls
        self.wallet_address: str | None = None
        # in a scroll area: on a small screen the page scrolls instead of squeezing the chart
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        scroll.setWidget(content)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.addWidget(page_header("Mining", "Earn PKT with this computer's spare power."))
        self.start_button = make_primary(QPushButton("Start mining"), "Start or stop mining")
        font = self.start_button.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.start_button.setFont(font)
        self.start_button.setMinimumHeight(48)
        self.start_button.setMinimumWidth(
            self.start_button.fontMetrics().horizontalAdvance("Stop mining") * 3
        )
        self.why_not = QLabel()
        self.why_not.setStyleSheet("color: #b00020")
        self.why_not.setWordWrap(True)  # a long reason must not widen the window
        layout.addWidget(self.start_button)
        keep_left(layout, self.start_button)
        layout.addWidget(self.why_not)

        setup = QGroupBox("Setup")
        form = QFormLayout(setup)
        self.payout = QLineEdit()
        self.payout.setPlaceholderText("open a wallet: mining pays to its mining address")
        self.change_payout = QPushButton("Change…")
        self.change_payout.setToolTip("Mine to another address of this wallet, or a new one")
        self.change_payout.setEnabled(False)
        self.payout_note = QLabel(
            "Pools pay one steady address of your wallet, where your earnings collect. An "
            "empty field uses it."
        )
        self.payout_note.setWordWrap(True)
        self.payout_note.setStyleSheet("color: palette(mid)")
        payout_row = QHBoxLayout()
        payout_row.addWidget(self.payout, 1)
        payout_row.addWidget(self.change_payout)
        self.threads = QSlider(Qt.Orientation.Horizontal)
        self.threads.setRange(1, MiningService.max_threads())
        self.threads.setValue(settings.threads or default_threads())
        self.threads_label = QLabel()
        threads_row = QHBoxLayout()
        threads_row.addWidget(self.threads, 1)
        threads_row.addWidget(self.threads_label)
        self.pools = QListWidget()
        self.pools.addItems(settings.pools)
        self.pools.setMaximumHeight(self.pools.fontMetrics().lineSpacing() * 3 + 12)
        self.new_pool = QLineEdit()
        self.new_pool.setPlaceholderText("pool URL, e.g. http://pool.example/")
        add_pool = QPushButton("Add")
        remove_pool = QPushButton("Remove selected")
        pool_row = QHBoxLayout()
        pool_row.addWidget(self.new_pool, 1)
        pool_row.addWidget(add_pool)
        pool_row.addWidget(remove_pool)
        form.addRow("Pay to", payout_row)
        form.addRow("", self.payout_note)
        form.addRow("Threads", threads_row)
        form.addRow("Pools", self.pools)
        form.addRow("", pool_row)
        layout.addWidget(setup)

        stats = QGroupBox("Now")
        stats_layout = QVBoxLayout(stats)
        self.summary = QLabel("not mining")
        self.summary.setWordWrap(True)
        self.pool_problem = QLabel()  # why nothing is mined while no pool answers
        self.pool_problem.setWordWrap(True)
        self.pool_problem.setStyleSheet("color: #b00020")
        self.pool_problem.setVisible(False)
        self.chart = RateChart()
        self.pool_table = QTableWidget(0, 5)
        self.pool_table.setHorizontalHeaderLabels(
            ["Pool", "State", "Accepted", "Rejected", "Goodrate"]
        )
        self.pool_table.verticalHeader().setVisible(False)
        header = self.pool_table.horizontalHeader()
        for column in (0, 2, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the state's reason
        self.pool_table.setMinimumHeight(self.pool_table.fontMetrics().lineSpacing() * 5)
        self.earnings = QLabel("Earnings: open a wallet to see them")
        self.earnings.setToolTip("Mining rewards (coinbase outputs) received by this wallet")
        stats_layout.addWidget(self.summary)
        stats_layout.addWidget(self.pool_problem)
        stats_layout.addWidget(self.earnings)
        stats_layout.addWidget(self.chart)
        stats_layout.addWidget(self.pool_table)
        layout.addWidget(stats, 1)

        self.start_button.clicked.connect(self.toggle)
        self.payout.textChanged.connect(self._check_ready)
        self.change_payout.clicked.connect(self.choose_payout)
        self.threads.valueChanged.connect(self._threads_changed)
        add_pool.clicked.connect(self._add_pool)
        remove_pool.clicked.connect(self._remove_pool)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(1000)
        self._threads_changed(self.threads.value())
        self._check_ready()

    # --- setup ---

    def show_earnings(self, view: WalletView) -> None:
        """Today's (UTC) and total mining rewards in the wallet's history."""
        earned = earnings_summary(view.earnings)
        self.earnings.setText(
            f"Today: {coins(earned.today, self.params)} · Total: {coins(earned.total, self.params)}"
        )

    def set_wallet_address(self, address: str | None) -> None:
        """The open wallet's mining address (None: no wallet): the payout when the field is
        empty or shows the previous one."""
        if not self.payout.text() or self.payout.text() == self.wallet_address:
            self.payout.setText(address or "")
        self.wallet_address = address
        self.change_payout.setEnabled(address is not None and self.core is not None)
        self.payout.setPlaceholderText(
            f"the wallet's mining address: {address}"
            if address
            else "open a wallet: mining pays to its mining address"
        )
        self._check_ready()

    def payout_address(self) -> str | None:
        """Where mining pays: what is typed, else the wallet's mining address."""
        return self.payout.text().strip() or self.wallet_address

    def choose_payout(self) -> None:
        """Mine to another address of this wallet (or a fresh one): the wallet keeps it as its
        mining address."""
        core = self.core
        if core is None:
            return
        self.change_payout.setEnabled(False)
        self.calls.watch(core.addresses(), self._ask_payout, self._payout_failed)

    def _ask_payout(self, addresses: list[AddressInfo]) -> None:
        self.change_payout.setEnabled(True)
        choices = [NEW_MINING_ADDRESS] + [
            f"{a.address}  {a.label}".strip()
            for a in addresses
            if a.primary and a.branch == 0 and a.address != self.wallet_address
        ]
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Mining address")
        dialog.setLabelText(
            "Mining pays one steady address of this wallet (pools pay to a single address).\n"
            "Mine to:"
        )
        dialog.setComboBoxItems(choices)
        dialog.setComboBoxEditable(False)
        dialog.textValueSelected.connect(self._payout_chosen)
        self.payout_dialog = dialog
        dialog.open()

    def _payout_chosen(self, choice: str) -> None:
        core = self.core
        if core is None:
            return
        address = None if choice == NEW_MINING_ADDRESS else choice.split()[0]
        self.change_payout.setEnabled(False)
        self.calls.watch(
            core.set_mining_address(address), self._payout_changed, self._payout_failed
        )

    def _payout_changed(self, address: str) -> None:
        self.payout.clear()  # the field follows the wallet's mining address
        self.set_wallet_address(address)

    def _payout_failed(self, exc: BaseException) -> None:
        self.change_payout.setEnabled(self.wallet_address is not None)
        self.why_not.setText(str(exc))

    def _pool_urls(self) -> list[str]:
        return [self.pools.item(i).text() for i in range(self.pools.count())]

    def _add_pool(self) -> None:
        url = self.new_pool.text().strip()
        if url and url not in self._pool_urls():
            self.pools.addItem(url)
            self.new_pool.clear()
        self._check_ready()

    def _remove_pool(self) -> None:
        for item in self.pools.selectedItems():
            self.pools.takeItem(self.pools.row(item))
        self._check_ready()

    def _threads_changed(self, n: int) -> None:
        self.threads_label.setText(f"{n} of {plural(MiningService.max_threads(), 'core')}")
        if self.service.running:
            try:
                self.service.set_threads(n)
            except MiningError as exc:
                self.why_not.setText(str(exc))

    def problem(self) -> str | None:
        """Why mining cannot start now (None when it can)."""
        try:
            validate_payout(self.payout_address(), self.params)
        except MiningError as exc:
            return f"{exc}"
        if not self._pool_urls():
            return "add at least one pool"
        return None

    def _check_ready(self) -> None:
        if self.service.running:
            self.start_button.setEnabled(True)
            self.why_not.clear()
            return
        problem = self.problem()
        self.start_button.setEnabled(problem is None)
        self.why_not.setText(problem or "")

    # --- start / stop ---

    def toggle(self) -> None:
        if self.service.running:
            self.start_button.setEnabled(False)
            self.calls.in_worker(self.service.stop, self._stopped, self._failed)
            return
        try:
            self.service.start(self.payout_address(), self._pool_urls(), self.threads.value())
        except MiningError as exc:
            self.why_not.setText(str(exc))
            return
        self.settings.pools = self._pool_urls()
        self.settings.threads = self.threads.value()
        settings = self.settings  # written (atomically, fsynced) off the GUI thread
        self.calls.in_worker(
            lambda: self.save_settings(settings),
            lambda _: None,
            lambda exc: self.why_not.setText(f"the pools were not saved: {exc}"),
        )
        self.start_button.setText("Stop mining")
        self.refresh()

    def _stopped(self, _: object) -> None:
        self.start_button.setText("Start mining")
        self._check_ready()
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.why_not.setText(str(exc))
        self._check_ready()

    # --- live numbers ---

    def refresh(self) -> None:
        snap = self.service.snapshot()
        if snap is None:
            return
        problem = mining_state(snap).error if snap.running else None
        self.pool_problem.setVisible(problem is not None)
        self.pool_problem.setText(
            f"Not mining: {problem}. Check the pool addresses and the internet connection."
            if problem
            else ""
        )
        if not snap.running:
            self.summary.setText(
                f"stopped · {plural(snap.accepted, 'announcement')} accepted in total"
            )
        else:
            job = (
                f"on block {snap.job.parent_height}"
                if snap.job is not None
                else "waiting for work from a pool"
            )
            self.summary.setText(
                f"{human_rate(snap.hashes_per_sec, 'hashes/s')} · "
                f"{snap.anns_per_sec:.1f} anns/s · accepted {snap.accepted}, rejected "
                f"{snap.rejected} · {job} · {plural(snap.threads, 'thread')} · "
                f"up {snap.uptime:.0f} s"
            )
        self.chart.set_values([(s.time, s.anns_per_sec) for s in self.service.history()])
        self.pool_table.setRowCount(len(snap.pools))
        for row, p in enumerate(snap.pools):
            c = p.counters
            answered = c.accepted + c.rejected + c.overload + c.lost
            if not snap.running:
                state = "stopped"  # not the state it had while mining
            elif p.state == "up":
                state = "answering"
            else:
                reason = p.last_error or c.last_error
                state = f"not answering: {reason}" if reason else f"{p.state}"
            cells = [
                p.url,
                state,
                str(c.accepted),
                str(c.rejected),
                f"{100 * c.goodrate:.1f} %" if answered else "—",  # nothing sent yet
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.pool_table.setItem(row, col, item)
