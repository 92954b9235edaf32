"""How seed words are shown (at creation and again later): a warning notice and the words in a
card, never selectable (so never copied to the clipboard, where other programs could read them)."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout

NOTICE_STYLE = (
    "background: #fff4e0; border: 1px solid #f0c36d; border-radius: 6px; "
    "padding: 8px; color: #5c3d00;"
)


def notice(text: str) -> QLabel:
    """A wrapped warning in an amber box (unwrapped, long text widens the window)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(NOTICE_STYLE)
    return label


def word_grid(words: list[str]) -> str:
    """Numbered words in rows of four (three when the count is not a multiple of four)."""
    columns = 4 if len(words) % 4 == 0 else 3
    rows = (len(words) + columns - 1) // columns
    return "\n".join(
        " ".join(
            f"{i + 1:>2}. {words[i]:<10}"
            for i in range(r * columns, min(len(words), (r + 1) * columns))
        )
        for r in range(rows)
    )


def seed_words_card(scale: float = 1.4) -> tuple[QGroupBox, QLabel]:
    """A "Seed words" card and the label inside it that will hold the words."""
    card = QGroupBox("Seed words")
    layout = QVBoxLayout(card)
    words = QLabel()
    mono = QFont("monospace")
    mono.setPointSizeF(words.font().pointSizeF() * scale)
    words.setFont(mono)
    words.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    layout.addWidget(words)
    return card, words
