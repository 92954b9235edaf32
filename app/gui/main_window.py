"""The main window: a navigation list, the pages, and the sync indicator in the status bar."""

from collections.abc import Callable

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core import AppCore, WalletView
from app.mining import MiningService
from app.mining_settings import load_settings, save_settings
from app.vpn.service import VpnService, VpnStatus, build_service
from app.vpn.settings import VpnSettings
from app.wallet.wallet import list_wallets

from .bridge import CoreBridge
from .calls import GuiCalls
from .errors import show_error
from .history_page import HistoryPage
from .mining_page import MiningPage
from .network_page import NetworkPage
from .overview_page import OverviewPage
from .receive_page import ReceivePage
from .send_page import SendPage
from .steward_page import StewardPage
from .sync_indicator import SyncIndicator
from .vpn_page import ServiceFactory, VpnPage
from .wallet_setup import WalletSetup


class MainWindow(QMainWindow):
    def __init__(
        self,
        core: AppCore,
        bridge: CoreBridge,
        calls: GuiCalls | None = None,
        mining: MiningService | None = None,
        vpn_factory: ServiceFactory | None = None,
    ) -> None:
        super().__init__()
        self.core = core
        self.mining = mining or MiningService(core.params)
        self.calls = calls or GuiCalls()
        self.setWindowTitle(f"PKT Wallet — {core.params.name}")
        self.resize(QSize(980, 640))
        central = QWidget()
        layout = QHBoxLayout(central)
        self.nav = QListWidget()
        self.nav.setFixedWidth(170)
        self.pages = QStackedWidget()
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)

        self.overview_page = OverviewPage(core.params)
        self.receive_page = ReceivePage(core.params, core, self.calls)
        self.send_page = SendPage(core, self.calls)
        self.history_page = HistoryPage(core, self.calls)
        self.mining_page = MiningPage(
            core.params,
            self.mining,
            load_settings(core.datadir),
            lambda settings: save_settings(core.datadir, settings),
            self.calls,
        )
        self.setup_page = WalletSetup(core.params, core.datadir, self.calls)
        self.setup_page.wallet_ready.connect(self.open_wallet)
        self.steward_page = StewardPage(core.params, core.datadir, self.calls, core)

        def default_vpn(on_change: Callable[[VpnStatus], None]) -> VpnService:
            settings = VpnSettings.load(core.datadir)
            return build_service(core.datadir, settings, params=core.params, on_change=on_change)

        self.vpn_page = VpnPage(vpn_factory or default_vpn, self.calls, core)
        self.network_page = NetworkPage(core.chain_info)
        self.wallet_name: str | None = None

        self.sync_indicator = SyncIndicator()
        self.statusBar().addPermanentWidget(self.sync_indicator, 1)
        bridge.sync_progress.connect(self.sync_indicator.update_progress)
        bridge.core_event.connect(self._core_event)
        if core.last_progress is not None:
            self.sync_indicator.update_progress(core.last_progress)

        wallets = list_wallets(core.datadir)
        if wallets:
            self._show_wallet_pages()
            self.open_wallet(wallets[0])
        else:
            self._set_pages([("Get started", self.setup_page), ("Network", self.network_page)])

    def _set_pages(self, pages: list[tuple[str, QWidget]]) -> None:
        while self.pages.count():
            old = self.pages.widget(0)
            assert old is not None
            self.pages.removeWidget(old)
        self.nav.clear()
        for title, page in pages:
            self.nav.addItem(title)
            self.pages.addWidget(page)
        self.nav.setCurrentRow(0)

    def _show_wallet_pages(self) -> None:
        self._set_pages(
            [
                ("Overview", self.overview_page),
                ("Send", self.send_page),
                ("Receive", self.receive_page),
                ("History", self.history_page),
                ("Mining", self.mining_page),
                ("VPN", self.vpn_page),
                ("Steward", self.steward_page),
                ("Network", self.network_page),
            ]
        )

    def open_wallet(self, name: str) -> None:
        self.calls.watch(self.core.open_wallet(name), self._wallet_opened, self._error)

    def _wallet_opened(self, view: WalletView) -> None:
        if self.wallet_name is None:
            self._show_wallet_pages()
        self.wallet_name = view.name
        self.setWindowTitle(f"PKT Wallet — {view.name} ({self.core.params.name})")
        self._show(view)

    def _show(self, view: WalletView) -> None:
        self.overview_page.show_wallet(view)
        self.history_page.show_wallet(view)
        self.receive_page.show_address(view.receive_address)
        self.mining_page.set_wallet_address(view.receive_address)
        self.vpn_page.set_wallet(view)
        self.steward_page.set_wallet(view)

    def _core_event(self, kind: str, payload: object) -> None:
        if kind == "wallet" and isinstance(payload, WalletView):
            self._show(payload)

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        self.mining.stop()
        super().closeEvent(event)  # type: ignore[arg-type]

    def _error(self, exc: BaseException) -> None:
        show_error(self, None, exc)
