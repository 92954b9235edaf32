"""Small helpers shared by the window and its pages: the sidebar, the page header, the primary
button, page shortcuts."""

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .icons import icon_path

PAGE_SHORTCUTS = 9  # Ctrl+1 … Ctrl+9


def page_header(title: str, subtitle: str = "") -> QWidget:
    """A page's title with a one-line explanation under it (styled by the theme)."""
    header = QWidget()
    header.setObjectName("pageHeader")
    layout = QVBoxLayout(header)
    layout.setContentsMargins(0, 0, 0, 6)
    layout.setSpacing(2)
    title_label = QLabel(title)
    title_label.setObjectName("pageTitle")
    font = title_label.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)  # also readable without the theme
    font.setBold(True)
    title_label.setFont(font)
    layout.addWidget(title_label)
    if subtitle:
        subtitle_label = QLabel(subtitle)
        subtitle_label.setObjectName("pageSubtitle")
        subtitle_label.setWordWrap(True)
        layout.addWidget(subtitle_label)
    return header


def sidebar(nav: QListWidget, title: str = "PKT Wallet") -> QFrame:
    """The navigation list under the app's logo and name (styled by the theme as #sidebar)."""
    frame = QFrame()
    frame.setObjectName("sidebar")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    brand = QWidget()
    brand_layout = QHBoxLayout(brand)
    brand_layout.setContentsMargins(16, 14, 12, 4)
    brand_layout.setSpacing(8)
    logo = QLabel()
    logo_file = icon_path("pkt-wallet.svg")
    if logo_file.is_file():
        logo.setPixmap(QIcon(str(logo_file)).pixmap(QSize(26, 26)))
    name = QLabel(title)
    name.setObjectName("brand")
    brand_layout.addWidget(logo)
    brand_layout.addWidget(name, 1)
    layout.addWidget(brand)
    layout.addWidget(nav, 1)
    return frame


def add_page_shortcuts(window: QWidget, nav: QListWidget) -> list[QShortcut]:
    """Ctrl+1 … Ctrl+9 select the first nine entries of `nav` (if there are that many)."""
    shortcuts = []
    for number in range(1, PAGE_SHORTCUTS + 1):
        shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), window)
        shortcut.activated.connect(lambda row=number - 1: _select_row(nav, row))
        shortcuts.append(shortcut)
    return shortcuts


def _select_row(nav: QListWidget, row: int) -> None:
    if row < nav.count():
        nav.setCurrentRow(row)
        nav.setFocus()


def make_primary(button: QPushButton, accessible_name: str = "") -> QPushButton:
    """Mark `button` as the page's main action (the theme gives it the accent colour).
    `accessible_name` is what a screen reader says when the button's text is not enough."""
    button.setObjectName("primary")
    if accessible_name:
        button.setAccessibleName(accessible_name)
    return button


def keep_left(layout: QLayout, widget: QWidget) -> None:
    """Keep `widget` at its natural width at the left of `layout` instead of stretched."""
    layout.setAlignment(widget, Qt.AlignmentFlag.AlignLeft)


def enter_submits(dialog: QDialog, button: QPushButton | None) -> None:
    """Enter anywhere in `dialog` presses `button` (None: no button; fields handle Enter).

    Qt makes any button of a dialog the default one when it gets the focus: when a slow check
    disabled the password field, the focus moved on to "Cancel" and the same Enter cancelled
    the dialog. So no button of `dialog` takes Enter unless it has the focus, except `button`.
    Call it once the dialog's buttons exist (and again with the new button when a page
    changes)."""
    for child in dialog.findChildren(QPushButton):
        child.setAutoDefault(False)
        child.setDefault(False)
    if button is not None:
        button.setDefault(True)


def no_auto_default(*buttons: QPushButton) -> None:
    """Buttons that only a click (or Space with the focus) presses: not Enter typed in a field
    of the dialog they are in (see enter_submits)."""
    for button in buttons:
        button.setAutoDefault(False)


class ElidedLabel(QLabel):
    """One line that never widens its window: cut with "…" when it does not fit (the status
    bar's sync line, whose errors can be long: its tooltip holds the whole reason)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment()) | int(Qt.AlignmentFlag.AlignVCenter), text)
