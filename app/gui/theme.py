"""The application's look: Qt's Fusion style, a light palette with the PKT blue accent, and a
compact style sheet (sidebar, page headers, cards, primary buttons, visible keyboard focus).

Font sizes are relative to the platform's default font (points, scaled from it), never pixels,
so the window stays readable at 100 % and 200 % scaling."""

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.resources import resource_path

ACCENT = "#2d6cdf"
ACCENT_HOVER = "#2459bd"
ACCENT_PRESSED = "#1d4a9e"
ACCENT_TINT = "#e3ecfc"  # selected rows and the selected sidebar entry
WINDOW = "#f4f6fa"
SIDEBAR = "#e9edf4"
CARD = "#ffffff"
BORDER = "#d9dee8"
TEXT = "#1d2433"
MUTED = "#5d6779"
MUTED_LIGHT = "#7d8698"
DISABLED = "#9aa3b2"
ERROR = "#b00020"
SUCCESS = "#1b7f3b"

# Relative font sizes, multiplied with the platform's default point size.
TITLE_SCALE = 1.55
BALANCE_SCALE = 1.9
SIDEBAR_SCALE = 1.05


def palette() -> QPalette:
    """A light palette: calm grey window, white inputs and cards, the accent for selection."""
    colors = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: CARD,
        QPalette.ColorRole.AlternateBase: "#f7f8fb",
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: CARD,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: TEXT,
        QPalette.ColorRole.ToolTipText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: DISABLED,
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.LinkVisited: ACCENT_PRESSED,
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#eef1f6",
        QPalette.ColorRole.Mid: MUTED_LIGHT,  # also "palette(mid)" notes: readable, not loud
        QPalette.ColorRole.Dark: "#b7bfcd",
        QPalette.ColorRole.Shadow: "#8a93a3",
    }
    pal = QPalette()
    for role, color in colors.items():
        pal.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED))
    return pal


def style_sheet(base_points: float) -> str:
    """The style sheet; `base_points` is the default font's size, so headings scale with it."""
    chevron = resource_path("icons/chevron-down.svg").as_posix()
    title_pt = round(base_points * TITLE_SCALE, 1)
    balance_pt = round(base_points * BALANCE_SCALE, 1)
    sidebar_pt = round(base_points * SIDEBAR_SCALE, 1)
    return f"""
QMainWindow, QDialog {{ background: {WINDOW}; }}
QToolTip {{ background: {TEXT}; color: #ffffff; border: none; padding: 4px 6px; }}

QFrame#sidebar {{ background: {SIDEBAR}; border: none; border-right: 1px solid {BORDER}; }}
QLabel#brand {{ font-size: {sidebar_pt}pt; font-weight: 700; color: {TEXT}; }}
QListWidget#nav {{
    background: {SIDEBAR}; border: none; padding: 8px 8px; font-size: {sidebar_pt}pt;
    outline: none;
}}
QListWidget#nav::item {{
    color: {TEXT}; padding: 6px 7px; margin: 1px 0; border-radius: 6px;
    border: 1px solid transparent; border-left: 3px solid transparent;
}}
QListWidget#nav::item:hover {{ background: #dde3ee; }}
QListWidget#nav::item:selected {{
    background: {ACCENT_TINT}; color: {ACCENT_PRESSED}; border-left: 3px solid {ACCENT};
    font-weight: 600;
}}
QListWidget#nav::item:selected:focus {{
    background: #d3e1fb; border: 1px solid {ACCENT}; border-left: 3px solid {ACCENT};
}}

QStackedWidget#pages {{ background: {WINDOW}; }}
QLabel#pageTitle {{ font-size: {title_pt}pt; font-weight: 600; color: {TEXT}; }}
QLabel#pageSubtitle {{ color: {MUTED}; }}
QLabel#balance {{ font-size: {balance_pt}pt; font-weight: 600; color: {TEXT}; }}
QLabel#muted {{ color: {MUTED}; }}

QGroupBox {{
    background: {CARD}; border: 1px solid {BORDER}; border-radius: 8px;
    margin-top: 1.5em; padding: 10px 8px 8px 8px;
}}
QGroupBox::title {{
    subcontrol-origin: margin; subcontrol-position: top left; left: 4px; padding: 0 2px;
    color: {MUTED}; font-weight: 600;
}}

QPushButton {{
    background: {CARD}; color: {TEXT}; border: 1px solid #c5ccd9; border-radius: 6px;
    padding: 5px 14px; min-height: 1.3em;
}}
QPushButton:hover {{ background: #f2f5fb; border-color: #aab4c6; }}
QPushButton:pressed {{ background: #e4e9f2; }}
QPushButton:focus {{ border: 2px solid {ACCENT}; padding: 4px 13px; }}
QPushButton:disabled {{ color: {DISABLED}; background: #f1f3f7; border-color: {BORDER}; }}
QPushButton:flat {{ background: {CARD}; border: 1px solid {BORDER}; border-radius: 8px; }}
QPushButton:flat:hover {{ background: #f7faff; border-color: {ACCENT}; }}
QPushButton#primary {{
    background: {ACCENT}; color: #ffffff; border: 1px solid {ACCENT}; font-weight: 600;
}}
QPushButton#primary:hover {{ background: {ACCENT_HOVER}; border-color: {ACCENT_HOVER}; }}
QPushButton#primary:pressed {{ background: {ACCENT_PRESSED}; }}
QPushButton#primary:focus {{ border: 2px solid {ACCENT_PRESSED}; }}
QPushButton#primary:disabled {{ background: #9db8ea; border-color: #9db8ea; color: #f4f7fd; }}

QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser {{
    background: {CARD}; border: 1px solid #c5ccd9; border-radius: 5px; padding: 4px 6px;
    selection-background-color: {ACCENT};
}}
QLineEdit:focus {{ border: 2px solid {ACCENT}; padding: 3px 5px; }}
QPlainTextEdit:focus, QTextEdit:focus, QTextBrowser:focus {{ border: 2px solid {ACCENT}; }}
QLineEdit:disabled {{ background: #f1f3f7; color: {DISABLED}; }}
QComboBox {{
    background: {CARD}; border: 1px solid #c5ccd9; border-radius: 5px; padding: 3px 8px;
    min-height: 1.3em;
}}
QComboBox:hover {{ border-color: #aab4c6; }}
QComboBox:focus {{ border: 2px solid {ACCENT}; padding: 2px 7px; }}
QComboBox:disabled {{ background: #f1f3f7; color: {DISABLED}; }}
QComboBox::drop-down {{
    subcontrol-origin: padding; subcontrol-position: center right; width: 1.6em; border: none;
}}
QComboBox::down-arrow {{ image: url("{chevron}"); width: 0.9em; height: 0.9em; }}
QComboBox QAbstractItemView {{
    background: {CARD}; border: 1px solid {BORDER}; outline: none;
    selection-background-color: {ACCENT_TINT}; selection-color: {TEXT};
}}
QCheckBox:focus, QRadioButton:focus {{ color: {ACCENT_PRESSED}; }}

QTableView, QTableWidget, QListView, QListWidget, QTreeView {{
    background: {CARD}; border: 1px solid {BORDER}; border-radius: 6px;
    alternate-background-color: #f7f8fb; gridline-color: #edf0f5;
    selection-background-color: {ACCENT_TINT}; selection-color: {TEXT};
}}
QTableView:focus, QListView:focus, QTreeView:focus {{ border: 1px solid {ACCENT}; }}
QHeaderView {{ background: #f3f5f9; border: none; }}
QHeaderView::section {{
    background: #f3f5f9; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    border-right: 1px solid #edf0f5; padding: 4px 6px; font-weight: 600;
}}
QTableCornerButton::section {{ background: #f3f5f9; border: none; }}

QMenuBar {{ background: {SIDEBAR}; border-bottom: 1px solid {BORDER}; }}
QMenuBar::item {{ padding: 4px 10px; background: transparent; border-radius: 4px; }}
QMenuBar::item:selected {{ background: {ACCENT_TINT}; }}
QMenu {{ background: {CARD}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu::item {{ padding: 5px 22px 5px 14px; border-radius: 4px; }}
QMenu::item:selected {{ background: {ACCENT_TINT}; color: {TEXT}; }}
QMenu::item:disabled {{ color: {DISABLED}; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 6px; }}

QStatusBar {{ background: {SIDEBAR}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar::item {{ border: none; }}
QProgressBar {{
    background: #e2e7ef; border: none; border-radius: 4px; text-align: center;
    color: {TEXT}; max-height: 1.1em;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}

QSlider::groove:horizontal {{ height: 4px; background: #d5dbe6; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::add-page:horizontal {{ background: #d5dbe6; border-radius: 2px; }}
QSlider::handle:horizontal {{
    background: #ffffff; border: 2px solid {ACCENT}; width: 12px; margin: -6px 0;
    border-radius: 8px;
}}
QSlider::handle:horizontal:focus {{ background: {ACCENT_TINT}; }}
QSplitter::handle {{ background: transparent; }}
QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}

QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle {{ background: #c3cad6; border-radius: 3px; }}
QScrollBar::handle:hover {{ background: #a7b0c0; }}
QScrollBar::handle:vertical {{ min-height: 24px; }}
QScrollBar::handle:horizontal {{ min-width: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
"""


def apply_theme(app: QApplication) -> None:
    """Give the whole application its look; safe to call more than once."""
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(palette())
    base_points = QFont(app.font()).pointSizeF()
    if base_points <= 0:  # a pixel-sized default font: fall back to a common point size
        base_points = 10.0
    app.setStyleSheet(style_sheet(base_points))
