"""Settings: display unit, peers and DNS seeds, proxy, service addresses, the full node that
counts the Network Steward election, remembered
passwords (keyring availability, forget them), tray behaviour, and where this network's data
lives.

Everything is read and written in a worker (files, SQLite, the OS keyring); each field is
checked as it is typed and Save stays off while any is wrong. Service addresses are kept by
their own services (VPN settings, the Steward cache), so this page edits those in place.
"""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.settings import (
    UNITS,
    AppSettings,
    SettingsError,
    apply_http_proxy,
    check_http_url,
    parse_peer_lines,
    proxy_url,
    socks_available,
)
from app.steward.errors import StewardError
from app.steward.service import check_node_url
from app.vpn.cjdroute import parse_bind
from app.vpn.errors import ConfigError
from app.vpn.settings import DEFAULT_DIRECTORY_URL
from spv.params import NETWORKS, NetworkParams

from .calls import GuiCalls
from .money import set_unit
from .settings_store import (
    CjdnsAdmin,
    StoredSettings,
    forget_passwords,
    read_stored_settings,
    write_settings,
)
from .widgets import make_primary, page_header

__all__ = ["SettingsPage", "StoredSettings", "read_stored_settings", "write_settings"]

ERROR_STYLE = "color: #b00020"
NOTE_STYLE = "color: palette(mid)"


def _node_url(text: str) -> str:
    """The node RPC address as it will be saved ('' for none); SettingsError when wrong."""
    if not text.strip():
        return ""
    try:
        return check_node_url(text)
    except StewardError as exc:
        raise SettingsError(f"Full node: {exc}") from None


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(NOTE_STYLE)
    return label


class SettingsPage(QWidget):
    settings_saved = Signal(object)
    """The AppSettings just saved (for the tray, which reads keep_mining_in_tray)."""
    vpn_settings_saved = Signal()
    """The VPN directory or how to reach cjdns changed: the VPN page rebuilds its service."""

    def __init__(self, params: NetworkParams, datadir: Path, calls: GuiCalls) -> None:
        super().__init__()
        self.params = params
        self.datadir = Path(datadir)
        self.calls = calls
        self.stored: StoredSettings | None = None
        self.errors: dict[str, str] = {}
        self._request = 0  # answers to reads started before a newer read or a save are dropped

        inner = QWidget()
        form_column = QVBoxLayout(inner)
        form_column.addWidget(self._display_group())
        form_column.addWidget(self._network_group())
        form_column.addWidget(self._proxy_group())
        form_column.addWidget(self._services_group())
        form_column.addWidget(self._cjdns_group())
        form_column.addWidget(self._node_group())
        form_column.addWidget(self._wallet_group())
        form_column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)

        self.problems_label = _error_label()
        self.status_label = QLabel("Loading settings…")
        self.status_label.setWordWrap(True)
        self.save_button = QPushButton("Save")
        make_primary(self.save_button)
        self.revert_button = QPushButton("Revert")
        self.save_button.setEnabled(False)
        self.revert_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            page_header("Settings", "How amounts show, how the wallet connects, and more.")
        )
        layout.addWidget(self.problems_label)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        for edit in (
            self.proxy_edit,
            self.explorer_edit,
            self.vpn_edit,
            self.steward_edit,
            *self.cjdns_edits.values(),
            self.node_url_edit,
            self.node_user_edit,
            self.node_password_edit,
        ):
            edit.textChanged.connect(self._changed)
        self.peers_edit.textChanged.connect(self._changed)
        self.units_combo.currentTextChanged.connect(self._changed)
        for box in (self.dns_check, self.tray_check):
            box.toggled.connect(self._changed)
        self.revert()

    # --- the form -------------------------------------------------------------------------

    def _display_group(self) -> QGroupBox:
        group = QGroupBox("Display")
        form = QFormLayout(group)
        self.units_combo = QComboBox()
        self.units_combo.addItems(list(UNITS))
        form.addRow("Amounts in", self.units_combo)
        form.addRow(_note("1 PKT = 1,000 mPKT = 1,000,000 μPKT."))
        return group

    def _network_group(self) -> QGroupBox:
        group = QGroupBox("Network")
        form = QFormLayout(group)
        network = QLabel(self.params.name)
        others = " or ".join(
            f"pkt-wallet --network {name}" for name in sorted(NETWORKS) if name != self.params.name
        )
        form.addRow("Network", network)
        form.addRow(_note(f"To use another network, quit and start {others}."))
        folder = QLabel(str(self.datadir))
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        folder.setWordWrap(True)
        open_folder = QPushButton("Open data folder")
        open_folder.clicked.connect(self.open_data_folder)
        row = QHBoxLayout()
        row.addWidget(folder, 1)
        row.addWidget(open_folder)
        form.addRow("Data folder", row)
        self.peers_edit = QPlainTextEdit()
        self.peers_edit.setPlaceholderText("host:port, one a line")
        self.peers_edit.setTabChangesFocus(True)
        self.peers_edit.setMaximumHeight(90)
        self.peers_error = _error_label()
        form.addRow("Extra peers", self.peers_edit)
        form.addRow(self.peers_error)
        self.dns_check = QCheckBox("Find peers through the DNS seeds")
        form.addRow(self.dns_check)
        form.addRow(_note("Peers and DNS seeds take effect at the next start."))
        return group

    def _proxy_group(self) -> QGroupBox:
        group = QGroupBox("Proxy")
        form = QFormLayout(group)
        self.proxy_edit = QLineEdit()
        kinds = (
            "host:port for SOCKS5, or http://host:port"
            if socks_available()
            else ("http://host:port (SOCKS5 needs PySocks, which is not installed)")
        )
        self.proxy_edit.setPlaceholderText(f"none — {kinds}")
        self.proxy_error = _error_label()
        form.addRow("Proxy", self.proxy_edit)
        form.addRow(self.proxy_error)
        form.addRow(
            _note(
                "Used by the web services: mining pools, Network Steward (GitHub), the VPN "
                "directory and the block explorer. Connections to PKT peers do not use the "
                "proxy."
            )
        )
        return group

    def _node_group(self) -> QGroupBox:
        group = QGroupBox("Network Steward full node (for the election count)")
        form = QFormLayout(group)
        self.node_url_edit = QLineEdit()
        self.node_url_edit.setPlaceholderText("none, e.g. http://127.0.0.1:64765")
        self.node_url_error = _error_label()
        self.node_user_edit = QLineEdit()
        self.node_password_edit = QLineEdit()
        self.node_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("RPC address", self.node_url_edit)
        form.addRow(self.node_url_error)
        form.addRow("RPC user", self.node_user_edit)
        form.addRow("RPC password", self.node_password_edit)
        form.addRow(
            _note(
                "A PKT full node with the vote index answers the Steward page's count. The "
                "password is kept in the operating system's keyring when there is one."
            )
        )
        return group

    def _services_group(self) -> QGroupBox:
        group = QGroupBox("Service addresses (empty: the default)")
        form = QFormLayout(group)
        self.explorer_edit = QLineEdit()
        self.explorer_error = _error_label()
        self.vpn_edit = QLineEdit()
        self.vpn_edit.setPlaceholderText(DEFAULT_DIRECTORY_URL)
        self.vpn_error = _error_label()
        self.steward_edit = QLineEdit()
        self.steward_error = _error_label()
        form.addRow("Block explorer API", self.explorer_edit)
        form.addRow(self.explorer_error)
        form.addRow("VPN directory", self.vpn_edit)
        form.addRow(self.vpn_error)
        form.addRow("Steward proposals (GitHub API)", self.steward_edit)
        form.addRow(self.steward_error)
        form.addRow(_note("Mining pools are chosen on the Mining page."))
        return group

    def _cjdns_group(self) -> QGroupBox:
        """How the VPN reaches cjdns: empty fields are found automatically (~/.cjdnsadmin,
        cjdroute.conf in the usual places, cjdroute on the PATH)."""
        group = QGroupBox("VPN: cjdns (empty: found automatically)")
        form = QFormLayout(group)
        self.cjdns_edits: dict[str, QLineEdit] = {}
        rows = (
            ("cjdroute_path", "cjdroute program", "e.g. /usr/local/bin/cjdroute"),
            ("cjdroute_conf", "cjdroute.conf", "e.g. /etc/cjdroute.conf"),
            ("admin_bind", "Admin address", "127.0.0.1:11234"),
            ("admin_password", "Admin password", "from cjdroute.conf"),
        )
        for key, label, placeholder in rows:
            edit = QLineEdit()
            edit.setPlaceholderText(placeholder)
            if key == "admin_password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.cjdns_edits[key] = edit
            form.addRow(label, edit)
        self.cjdns_error = _error_label()
        form.addRow(self.cjdns_error)
        form.addRow(
            _note(
                "The VPN page uses these at once (after a disconnect, if it is connected). "
                "cjdns' admin interface is how the app asks cjdroute for a tunnel."
            )
        )
        return group

    def _wallet_group(self) -> QGroupBox:
        group = QGroupBox("Wallet and window")
        form = QFormLayout(group)
        self.keyring_label = QLabel("Checking for a keyring…")
        self.keyring_label.setWordWrap(True)
        self.forget_button = QPushButton("Forget remembered passwords")
        self.forget_button.clicked.connect(self.forget_remembered_passwords)
        form.addRow("Remembered passwords", self.keyring_label)
        form.addRow(self.forget_button)
        self.tray_check = QCheckBox("Keep mining in the tray when the window is closed")
        form.addRow(self.tray_check)
        return group

    # --- loading, checking, saving --------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Show what is saved now (the tray's "Always keep mining" may have changed it),
        unless there are unsaved edits."""
        super().showEvent(event)
        if self.stored is not None and self._form() == self.stored and not self.errors:
            self.revert()

    def revert(self) -> None:
        """Show what is saved (read in a worker)."""
        self.save_button.setEnabled(False)
        self.revert_button.setEnabled(False)
        self._request += 1
        request = self._request

        def show(stored: StoredSettings) -> None:
            if request == self._request:
                self._show(stored)

        def failed(exc: BaseException) -> None:
            if request == self._request:
                self._load_failed(exc)

        self.calls.in_worker(lambda: read_stored_settings(self.datadir, self.params), show, failed)

    def _show(self, stored: StoredSettings) -> None:
        self.stored = stored
        app = stored.app
        self.units_combo.setCurrentText(app.units)
        self.peers_edit.setPlainText("\n".join(app.extra_peers))
        self.dns_check.setChecked(app.use_dns_seeds)
        self.proxy_edit.setText(app.proxy)
        self.explorer_edit.setText(stored.explorer_url)
        self.steward_edit.setText(stored.steward_source_url)
        self.vpn_edit.setText(stored.vpn_directory_url or "")
        self.node_url_edit.setText(stored.node_url)
        self.node_user_edit.setText(stored.node_user)
        self.node_password_edit.setText(stored.node_password)
        self.vpn_edit.setEnabled(stored.vpn_directory_url is not None)
        for key, edit in self.cjdns_edits.items():
            edit.setText(getattr(stored.cjdns, key) if stored.cjdns is not None else "")
            edit.setEnabled(stored.cjdns is not None)
        self.tray_check.setChecked(app.keep_mining_in_tray)
        available = stored.keyring_problem is None
        self.forget_button.setEnabled(available)
        self.keyring_label.setText(
            "When you unlock a wallet you can choose “Remember password on this computer”: it"
            " is kept in the operating system's keyring, never in a file."
            if available
            else f"Cannot remember passwords on this computer: {stored.keyring_problem}."
            " Passwords are never stored anywhere else."
        )
        self.problems_label.setText("\n".join(stored.problems))
        self.problems_label.setVisible(bool(stored.problems))
        self.status_label.setText("")
        self._changed()

    def _load_failed(self, exc: BaseException) -> None:
        self.status_label.setText(f"Could not read the settings: {exc}")
        self.revert_button.setEnabled(True)

    def _check(self) -> dict[str, str]:
        checks: dict[str, tuple[QLabel, Callable[[], object]]] = {
            "peers": (self.peers_error, lambda: parse_peer_lines(self.peers_edit.toPlainText())),
            "proxy": (self.proxy_error, lambda: proxy_url(self.proxy_edit.text())),
            "explorer": (
                self.explorer_error,
                lambda: check_http_url(self.explorer_edit.text(), "Block explorer"),
            ),
            "vpn": (self.vpn_error, lambda: check_http_url(self.vpn_edit.text(), "VPN directory")),
            "steward": (
                self.steward_error,
                lambda: check_http_url(self.steward_edit.text(), "Steward proposals"),
            ),
            "cjdns": (self.cjdns_error, self._check_cjdns),
            "node": (self.node_url_error, lambda: _node_url(self.node_url_edit.text())),
        }
        errors: dict[str, str] = {}
        for name, (label, check) in checks.items():
            try:
                check()
            except (SettingsError, ConfigError) as exc:
                errors[name] = str(exc)
            label.setText(errors.get(name, ""))
            label.setVisible(name in errors)
        return errors

    def _form(self) -> StoredSettings | None:
        """The settings as the form shows them, or None while any field is wrong."""
        if self.stored is None or self.errors:
            return None
        app = AppSettings(
            units=self.units_combo.currentText(),
            extra_peers=parse_peer_lines(self.peers_edit.toPlainText()),
            use_dns_seeds=self.dns_check.isChecked(),
            proxy=self.proxy_edit.text().strip(),
            keep_mining_in_tray=self.tray_check.isChecked(),
        )
        vpn = self.vpn_edit.text() if self.stored.vpn_directory_url is not None else None
        cjdns = (
            CjdnsAdmin(**{key: edit.text().strip() for key, edit in self.cjdns_edits.items()})
            if self.stored.cjdns is not None
            else None
        )
        return replace(
            self.stored,
            app=app,
            cjdns=cjdns,
            steward_source_url=check_http_url(self.steward_edit.text(), "Steward"),
            explorer_url=check_http_url(self.explorer_edit.text(), "Explorer"),
            vpn_directory_url=None if vpn is None else check_http_url(vpn, "VPN directory"),
            node_url=_node_url(self.node_url_edit.text()),
            node_user=self.node_user_edit.text().strip(),
            node_password=self.node_password_edit.text(),
        )

    def _check_cjdns(self) -> None:
        bind = self.cjdns_edits["admin_bind"].text().strip()
        if bind:
            parse_bind(bind)
        for key in ("cjdroute_path", "cjdroute_conf"):
            path = self.cjdns_edits[key].text().strip()
            if path and not Path(path).expanduser().is_absolute():
                raise ConfigError(f"{path!r}: give the full path (starting with /)")

    def _changed(self) -> None:
        if self.stored is None:
            return
        self.errors = self._check()
        form = self._form()
        dirty = form != self.stored
        self.save_button.setEnabled(form is not None and dirty)
        self.revert_button.setEnabled(dirty or form is None)
        if self.errors:
            self.status_label.setText("Correct the fields marked in red to save.")
        elif dirty:
            self.status_label.setText("Unsaved changes.")

    def save(self) -> None:
        old, new = self.stored, self._form()
        if old is None or new is None:
            return
        self.save_button.setEnabled(False)
        self.status_label.setText("Saving…")
        self._request += 1  # a read still under way would show the old settings
        self.calls.in_worker(
            lambda: write_settings(self.datadir, self.params, old, new),
            lambda _: self._saved(new),
            self._save_failed,
        )

    def _saved(self, new: StoredSettings) -> None:
        old = self.stored
        vpn_changed = old is not None and (
            (old.vpn_directory_url, old.cjdns) != (new.vpn_directory_url, new.cjdns)
        )
        before = self.stored.app if self.stored is not None else AppSettings()
        restart = (new.app.extra_peers, new.app.use_dns_seeds) != (
            before.extra_peers,
            before.use_dns_seeds,
        )
        self.stored = new
        set_unit(new.app.units)
        apply_http_proxy(new.app.proxy)
        self._changed()
        self.status_label.setText(
            "Saved. The peer settings take effect at the next start."
            if restart
            else "Saved and in use."
        )
        self.settings_saved.emit(new.app)
        if vpn_changed:
            self.vpn_settings_saved.emit()

    def _save_failed(self, exc: BaseException) -> None:
        self.status_label.setText(f"Could not save the settings: {exc}")
        self._changed()

    # --- actions --------------------------------------------------------------------------

    def open_data_folder(self) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.datadir))):
            self.status_label.setText(f"Could not open {self.datadir}; its path is shown above.")

    def forget_remembered_passwords(self) -> None:
        self.forget_button.setEnabled(False)

        def done(count: int) -> None:
            self.forget_button.setEnabled(True)
            self.status_label.setText(
                f"Forgot {count} remembered password{'s' if count != 1 else ''}."
                if count
                else "No wallet password was remembered."
            )

        def failed(exc: BaseException) -> None:
            self.forget_button.setEnabled(True)
            self.status_label.setText(f"Could not reach the keyring: {exc}")

        self.calls.in_worker(lambda: forget_passwords(self.datadir, self.params.name), done, failed)
