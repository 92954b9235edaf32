"""Mining: one big Start/Stop button, threads, pools, payout address (the wallet's by
default), live counters and a chart of announcements per second."""

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import WalletView
from app.mining.earnings import earnings_summary
from app.mining.service import MiningError, MiningService, validate_payout
from app.mining.settings import MiningSettings
from app.mining.status_text import human_rate
from miner.workers import default_threads
from spv.params import NetworkParams

from .calls import GuiCalls
from .money import coins
from .widgets import keep_left, make_primary, page_header

SaveSettings = Callable[[MiningSettings], None]


class RateChart(QWidget):
    """A small line chart of the last hour's announcements per second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.setMinimumHeight(90)

    def set_values(self, values: list[float]) -> None:
        self.values = values[-360:]
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        if len(self.values) < 2:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no data yet")
            return
        top = max(self.values) or 1.0
        w, h = self.width(), self.height()
        step = w / (len(self.values) - 1)
        painter.setPen(QPen(QColor("#2f5bea"), 2))
        points = [QPointF(i * step, h - 4 - (h - 8) * v / top) for i, v in enumerate(self.values)]
        for a, b in zip(points, points[1:], strict=False):
            painter.drawLine(a, b)
        painter.setPen(QColor("#555555"))
        painter.drawText(4, 14, f"{top:.1f} anns/s")


class MiningPage(QWidget):
    def __init__(
        self,
        params: NetworkParams,
        service: MiningService,
        settings: MiningSettings,
        save_settings: SaveSettings,
        calls: GuiCalls,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.params = params
        self.service = service
        self.settings = settings
        self.save_settings = save_settings
        self.calls = calls
        self.wallet_address: str | None = None
        layout = QVBoxLayout(self)
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
        layout.addWidget(self.start_button)
        keep_left(layout, self.start_button)
        layout.addWidget(self.why_not)

        setup = QGroupBox("Setup")
        form = QFormLayout(setup)
        self.payout = QLineEdit()
        self.payout.setPlaceholderText("your wallet's address")
        self.threads = QSlider(Qt.Orientation.Horizontal)
        self.threads.setRange(1, MiningService.max_threads())
        self.threads.setValue(settings.threads or default_threads())
        self.threads_label = QLabel()
        threads_row = QHBoxLayout()
        threads_row.addWidget(self.threads, 1)
        threads_row.addWidget(self.threads_label)
        self.pools = QListWidget()
        self.pools.addItems(settings.pools)
        self.pools.setMaximumHeight(90)
        self.new_pool = QLineEdit()
        self.new_pool.setPlaceholderText("pool URL, e.g. http://pool.example/")
        add_pool = QPushButton("Add")
        remove_pool = QPushButton("Remove selected")
        pool_row = QHBoxLayout()
        pool_row.addWidget(self.new_pool, 1)
        pool_row.addWidget(add_pool)
        pool_row.addWidget(remove_pool)
        form.addRow("Pay to", self.payout)
        form.addRow("Threads", threads_row)
        form.addRow("Pools", self.pools)
        form.addRow("", pool_row)
        layout.addWidget(setup)

        stats = QGroupBox("Now")
        stats_layout = QVBoxLayout(stats)
        self.summary = QLabel("not mining")
        self.summary.setWordWrap(True)
        self.chart = RateChart()
        self.pool_table = QTableWidget(0, 5)
        self.pool_table.setHorizontalHeaderLabels(
            ["Pool", "State", "Accepted", "Rejected", "Goodrate"]
        )
        self.pool_table.verticalHeader().setVisible(False)
        self.pool_table.horizontalHeader().setStretchLastSection(True)
        self.earnings = QLabel("Earnings: open a wallet to see them")
        self.earnings.setToolTip("Mining rewards (coinbase outputs) received by this wallet")
        stats_layout.addWidget(self.summary)
        stats_layout.addWidget(self.earnings)
        stats_layout.addWidget(self.chart)
        stats_layout.addWidget(self.pool_table)
        layout.addWidget(stats, 1)

        self.start_button.clicked.connect(self.toggle)
        self.payout.textChanged.connect(self._check_ready)
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

    def set_wallet_address(self, address: str) -> None:
        """The wallet's receive address: the default payout until the user types another."""
        if not self.payout.text() or self.payout.text() == self.wallet_address:
            self.payout.setText(address)
        self.wallet_address = address

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
        self.threads_label.setText(f"{n} of {MiningService.max_threads()} cores")
        if self.service.running:
            try:
                self.service.set_threads(n)
            except MiningError as exc:
                self.why_not.setText(str(exc))

    def problem(self) -> str | None:
        """Why mining cannot start now (None when it can)."""
        try:
            validate_payout(self.payout.text().strip() or None, self.params)
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
            self.service.start(self.payout.text().strip(), self._pool_urls(), self.threads.value())
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
        if not snap.running:
            self.summary.setText(f"stopped · {snap.accepted} announcements accepted in total")
        else:
            job = (
                f"on block {snap.job.parent_height}"
                if snap.job is not None
                else "waiting for a job"
            )
            self.summary.setText(
                f"{human_rate(snap.hashes_per_sec, 'hashes/s')} · "
                f"{snap.anns_per_sec:.1f} anns/s · accepted {snap.accepted}, rejected "
                f"{snap.rejected} · {job} · {snap.threads} threads · up {snap.uptime:.0f} s"
            )
        self.chart.set_values([s.anns_per_sec for s in self.service.history()])
        self.pool_table.setRowCount(len(snap.pools))
        for row, p in enumerate(snap.pools):
            c = p.counters
            cells = [p.url, p.state, str(c.accepted), str(c.rejected), f"{100 * c.goodrate:.1f} %"]
            for col, text in enumerate(cells):
                self.pool_table.setItem(row, col, QTableWidgetItem(text))
