"""The main window: a navigation list, the pages, and the sync indicator in the status bar."""

from collections.abc import Callable

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app import __version__
from app import settings as app_settings
from app.core import AppCore, WalletView
from app.last_wallet import preselected_wallet, save_last_wallet
from app.mining.service import MiningService
from app.mining.settings import load_settings, save_settings
from app.notifications import Notification
from app.vpn.service import VpnService, build_service
from app.vpn.settings import VpnSettings
from app.vpn.state import VpnStatus
from app.wallet.wallet import list_wallets

from .bridge import CoreBridge
from .calls import GuiCalls
from .errors import show_error
from .glance import GlanceModel
from .history_page import HistoryPage
from .icons import icon_path, nav_icon
from .mining_page import MiningPage
from .money import unit_changes
from .network_page import NetworkPage
from .overview_page import OverviewPage
from .password_dialog import ChangePasswordDialog
from .receive_page import ReceivePage
from .seed_dialog import SeedWordsDialog
from .send_page import SendPage
from .settings_page import SettingsPage
from .setup_dialog import WalletSetupDialog
from .steward_page import StewardPage
from .sync_indicator import SyncIndicator
from .tray import TrayIcon, tray_available
from .unlock_dialog import UnlockDialog, UnlockOutcome
from .vpn_page import ServiceFactory, VpnPage
from .wallet_menu import WalletMenu
from .wallet_setup import WalletSetup
from .widgets import add_page_shortcuts, sidebar


class MainWindow(QMainWindow):
    def __init__(
        self,
        core: AppCore,
        bridge: CoreBridge,
        calls: GuiCalls | None = None,
        mining: MiningService | None = None,
        vpn_factory: ServiceFactory | None = None,
        *,
        ask_unlock: bool = False,
    ) -> None:
        """`ask_unlock`: start on the start page and ask for a wallet and its password (the
        app does); without it the first wallet opens at once (tests, screenshots)."""
        super().__init__()
        self.core = core
        self.mining = mining or MiningService(core.params)
        self.calls = calls or GuiCalls()
        self.setWindowTitle(f"PKT Wallet — {core.params.name}")
        self.resize(QSize(980, 640))
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setFixedWidth(170)
        self.nav.setObjectName("nav")
        self.nav.setAccessibleName("Pages")
        self.nav.setIconSize(QSize(20, 20))
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.setContentsMargins(14, 10, 14, 6)
        add_page_shortcuts(self, self.nav)  # Ctrl+1 … Ctrl+9
        layout.addWidget(sidebar(self.nav))  # the list under the app's logo and name
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
            load_settings(core.datadir, core.params.name),
            lambda settings: save_settings(core.datadir, settings),
            self.calls,
            core=core,
        )
        self.setup_page = WalletSetup(core.params, core.datadir, self.calls)
        self.setup_page.wallet_ready.connect(self.open_wallet)
        self.setup_page.open_requested.connect(self.show_unlock_dialog)
        self.steward_page = StewardPage(core.params, core.datadir, self.calls, core)

        self.glance = GlanceModel(core.params, self.mining, self)  # tray + Overview row

        def default_vpn(on_change: Callable[[VpnStatus], None]) -> VpnService:
            settings = VpnSettings.load(core.datadir)
            return build_service(core.datadir, settings, params=core.params, on_change=on_change)

        def vpn_service(on_change: Callable[[VpnStatus], None]) -> VpnService:
            def changed(status: VpnStatus) -> None:
                on_change(status)
                self.glance.vpn_status_from_any_thread(status)

            return (vpn_factory or default_vpn)(changed)

        self.vpn_page = VpnPage(vpn_service, self.calls, core)
        self.network_page = NetworkPage(core.chain_info)
        self.settings_page = SettingsPage(core.params, core.datadir, self.calls)
        # saved settings apply at once: the VPN page rebuilds its service from them
        self.settings_page.vpn_settings_saved.connect(self.vpn_page.settings_changed)
        self.wallet_name: str | None = None
        self._shown_view: WalletView | None = None  # shown again when the unit changes
        unit_changes().unit_changed.connect(self._unit_changed)

        self.sync_indicator = SyncIndicator()
        self.statusBar().addPermanentWidget(self.sync_indicator, 1)
        bridge.sync_progress.connect(self.sync_indicator.update_progress)
        bridge.sync_progress.connect(self.overview_page.show_sync)
        bridge.core_event.connect(self._core_event)
        if core.last_progress is not None:
            self.sync_indicator.update_progress(core.last_progress)
            self.overview_page.show_sync(core.last_progress)
        self._quitting = False
        self.tray: TrayIcon | None = None
        self._connect_glance()

        self.unlock_dialog: UnlockDialog | None = None
        self.setup_dialog: WalletSetupDialog | None = None
        self.wallet_menu = WalletMenu(lambda: list_wallets(core.datadir), lambda: self.wallet_name)
        self.menuBar().addMenu(self.wallet_menu)
        self.wallet_menu.new_requested.connect(lambda: self.show_setup_dialog(restore=False))
        self.wallet_menu.restore_requested.connect(lambda: self.show_setup_dialog(restore=True))
        self.wallet_menu.open_requested.connect(self.show_unlock_dialog)
        self.wallet_menu.close_requested.connect(self.close_wallet)
        self.wallet_menu.switch_requested.connect(self.show_unlock_dialog)
        self.wallet_menu.change_password_requested.connect(self.show_password_dialog)
        self.wallet_menu.seed_requested.connect(self.show_seed_dialog)
        self.wallet_menu.quit_requested.connect(self.quit_app)
        self.help_menu = self.menuBar().addMenu("&Help")
        self.about_action = self.help_menu.addAction("&About PKT Wallet")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.about_box: QMessageBox | None = None
        self.overview_page.backup_requested.connect(self.show_seed_dialog)
        self.seed_dialog: SeedWordsDialog | None = None
        self.password_dialog: ChangePasswordDialog | None = None

        wallets = list_wallets(core.datadir)
        if wallets and not ask_unlock:
            self._show_wallet_pages()
            self.open_wallet(wallets[0])
        else:
            self._show_start_page()
            if wallets:
                QTimer.singleShot(0, self.show_unlock_dialog)

    def _show_start_page(self) -> None:
        self.setup_page.show_start()
        self._set_pages(
            [
                ("Get started", self.setup_page),
                ("Network", self.network_page),
                ("Settings", self.settings_page),
            ]
        )

    def _set_pages(self, pages: list[tuple[str, QWidget]]) -> None:
        while self.pages.count():
            old = self.pages.widget(0)
            assert old is not None
            self.pages.removeWidget(old)
        self.nav.clear()
        for title, page in pages:
            self.nav.addItem(QListWidgetItem(nav_icon(title), title))
            self.pages.addWidget(page)
        self.pages.updateGeometry()  # else the window keeps the old pages' minimum size
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
                ("Settings", self.settings_page),
            ]
        )

    def open_wallet(self, name: str) -> None:
        """Show wallet `name` (its password was checked, or it was just created)."""
        self.calls.watch(self.core.open_wallet(name), self._wallet_opened, self._error)

    def _wallet_opened(self, view: WalletView) -> None:
        if self.wallet_name is None:
            self._show_wallet_pages()
        if view.name != self.wallet_name:
            self.send_page.use_coins([])  # coins chosen in another wallet
        self.wallet_name = view.name
        self.setWindowTitle(f"PKT Wallet — {view.name} ({self.core.params.name})")
        self.glance.wallet_opened()  # its history so far is not news
        self._show(view)
        self.wallet_menu.refresh()
        datadir = self.core.datadir
        self.calls.in_worker(lambda: save_last_wallet(datadir, view.name), _ignore, self._error)

    def show_unlock_dialog(self, selected: str | None = None) -> None:
        """Choose a wallet (`selected` first, else the last used) and unlock it."""
        wallets = list_wallets(self.core.datadir)
        if not wallets:
            self.show_setup_dialog(restore=False)
            return
        if self.unlock_dialog is not None:
            self.unlock_dialog.close()
        dialog = UnlockDialog(
            self.core.params,
            self.core.datadir,
            self.calls,
            wallets,
            selected or preselected_wallet(self.core.datadir, wallets),
            auto_unlock=True,
            parent=self,
        )
        dialog.unlocked.connect(self._unlocked)
        self.unlock_dialog = dialog
        dialog.open()

    def _unlocked(self, outcome: UnlockOutcome) -> None:
        if outcome.note:
            self.statusBar().showMessage(outcome.note, 15_000)
        self.open_wallet(outcome.name)

    def show_setup_dialog(self, restore: bool) -> None:
        """Create (or restore) another wallet; it opens once ready."""
        dialog = WalletSetupDialog(
            self.core.params, self.core.datadir, self.calls, restore=restore, parent=self
        )
        dialog.wallet_ready.connect(self.open_wallet)
        dialog.open_requested.connect(self.show_unlock_dialog)
        self.setup_dialog = dialog
        dialog.open()

    def show_password_dialog(self) -> None:
        if self.wallet_name is None:
            return
        self.password_dialog = ChangePasswordDialog(self.core, self.calls, self.wallet_name, self)
        self.password_dialog.open()

    def show_seed_dialog(self) -> None:
        if self.wallet_name is None:
            return
        backed_up = self._shown_view.backed_up if self._shown_view is not None else True
        self.seed_dialog = SeedWordsDialog(self.core, self.calls, self.wallet_name, backed_up, self)
        self.seed_dialog.open()

    def close_wallet(self) -> None:
        """Save and close the open wallet and go back to the start page."""
        self.calls.watch(self.core.close_wallet(), self._wallet_closed, self._error)

    def _wallet_closed(self, _none: None) -> None:
        self.wallet_name = None
        self._shown_view = None
        self.setWindowTitle(f"PKT Wallet — {self.core.params.name}")
        self._show_start_page()
        self.wallet_menu.refresh()
        self.mining_page.set_wallet_address(None)
        self.vpn_page.set_wallet(None)

    def _show(self, view: WalletView) -> None:
        """Fill the pages with `view`: the Overview at once, the rest in the next turns of
        the event loop (each a few ms; all at once kept the window from redrawing for
        50+ ms when a wallet opened)."""
        self._shown_view = view
        self.overview_page.show_wallet(view)
        self.glance.show_wallet(view)
        QTimer.singleShot(0, self, lambda: self._show_later(view, 1))

    def _show_later(self, view: WalletView, step: int) -> None:
        if view is not self._shown_view:
            return  # a newer view (or another wallet) came meanwhile: it is shown instead
        if step == 1:
            self.history_page.show_wallet(view)
        elif step == 2:
            self.receive_page.show_address(view.receive_address)
        else:
            self.mining_page.set_wallet_address(view.mining_address or view.receive_address)
            self.mining_page.show_earnings(view)
            self.vpn_page.set_wallet(view)
            self.steward_page.set_wallet(view)
            return
        QTimer.singleShot(0, self, lambda: self._show_later(view, step + 1))

    def _unit_changed(self, _unit: str) -> None:
        if self._shown_view is not None:
            self._show(self._shown_view)

    def _core_event(self, kind: str, payload: object) -> None:
        if (
            kind == "wallet"
            and isinstance(payload, WalletView)
            and payload.name == self.wallet_name  # not a late view of a closed wallet
            and payload != self._shown_view  # nothing new: skip refilling every page
        ):
            self._show(payload)
        elif kind == "sync-error":
            self.sync_indicator.show_problem(str(payload))
            self.overview_page.show_sync_problem(str(payload))

    # --- tray, at a glance, closing ---

    def _connect_glance(self) -> None:
        row = self.overview_page.glance
        self.glance.mining_changed.connect(row.show_mining)
        self.glance.vpn_changed.connect(row.show_vpn)
        row.mining_clicked.connect(lambda: self.go_to(self.mining_page))
        row.vpn_clicked.connect(lambda: self.go_to(self.vpn_page))
        self.glance.vote_reminder_changed.connect(row.show_vote_reminder)
        row.vote_clicked.connect(lambda: self.go_to(self.steward_page))
        if tray_available():
            self.tray = self.make_tray()
            self.tray.show()

    def make_tray(self) -> TrayIcon:
        tray = TrayIcon(self)
        self.glance.mining_changed.connect(tray.show_mining)
        self.glance.vpn_changed.connect(tray.show_vpn)
        self.glance.notification.connect(tray.notify)
        tray.show_window.connect(self.show_from_tray)
        tray.toggle_mining.connect(self._tray_toggle_mining)
        tray.open_vpn.connect(lambda: self.show_from_tray(self.vpn_page))
        tray.quit_app.connect(self.quit_app)
        return tray

    def go_to(self, page: QWidget) -> None:
        index = self.pages.indexOf(page)
        if index >= 0:
            self.nav.setCurrentRow(index)

    def show_from_tray(self, page: QWidget | None = None) -> None:
        QApplication.setQuitOnLastWindowClosed(True)
        self.showNormal()
        self.raise_()
        self.activateWindow()
        if page is not None:
            self.go_to(page)

    def _tray_toggle_mining(self) -> None:
        was_running = self.mining.running
        self.mining_page.toggle()
        if not was_running and not self.mining.running:  # refused: the page says why
            self.show_from_tray(self.mining_page)

    def quit_app(self) -> None:
        """The tray's Quit: stop mining, close the window and end the event loop (the app
        then stops the core)."""
        self._quitting = True
        self.close()
        QApplication.quit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self._quitting and self.tray is not None and self.mining.running:
            keep = self._keep_mining_on_close()
            if keep is None:  # cancelled
                event.ignore()
                return
            if keep:
                event.ignore()
                # Hidden, not closed: a message box closing meanwhile must not end the app.
                QApplication.setQuitOnLastWindowClosed(False)
                self.hide()
                self.tray.notify(
                    Notification("Still mining", "Quit from the tray icon's menu to stop.")
                )
                return
        if self.mining.running:
            self.hide()  # gone at once; the miner's threads may take a moment to end
            self.mining.stop()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)

    def _keep_mining_on_close(self) -> bool | None:
        """True: hide to the tray and keep mining; False: stop and quit; None: stay open."""
        if app_settings.load_settings(self.core.datadir).keep_mining_in_tray:
            return True
        return self.ask_keep_mining()

    def ask_keep_mining(self) -> bool | None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("PKT Wallet")
        box.setText("Keep mining in the background?")
        box.setInformativeText(
            "The window closes and mining goes on; the tray icon shows the window again or "
            "quits. “Always” is remembered (Settings: keep mining in the tray)."
        )
        keep = box.addButton("Keep mining", QMessageBox.ButtonRole.AcceptRole)
        always = box.addButton("Always keep mining", QMessageBox.ButtonRole.AcceptRole)
        stop = box.addButton("Stop mining and quit", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked is always:
            settings = app_settings.load_settings(self.core.datadir)
            settings.keep_mining_in_tray = True
            try:
                app_settings.save_settings(self.core.datadir, settings)
            except OSError as exc:  # still keep mining this time; say why it is not saved
                self._error(exc)
        if clicked in (keep, always):
            return True
        return False if clicked is stop else None

    def show_about(self) -> None:
        """Help ▸ About: what this is, its version, where its data is (not modal)."""
        box = QMessageBox(self)
        box.setWindowTitle("About PKT Wallet")
        box.setIconPixmap(QIcon(str(icon_path("pkt-wallet.svg"))).pixmap(64, 64))
        box.setText(f"<b>PKT Wallet</b> {__version__}")
        box.setInformativeText(
            "Send and receive PKT, mine PKT (PacketCrypt announcements), connect to a PKT VPN "
            "exit (cjdns) and vote on Network Steward proposals. A light client: it keeps "
            "your keys on this computer and checks the chain itself.<br><br>"
            f"Network: {self.core.params.name}<br>Data folder: {self.core.datadir}<br>"
            "License: MIT"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        self.about_box = box
        box.open()

    def _error(self, exc: BaseException) -> None:
        show_error(self, None, exc)


def _ignore(_result: object) -> None:
    """For background work whose result the window does not need."""
