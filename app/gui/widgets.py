"""Small helpers shared by the pages: the page header, the primary button, page shortcuts."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

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
