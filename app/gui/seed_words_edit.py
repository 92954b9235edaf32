"""A text box for seed words that completes each word from the BIP39 word list as it is typed
(pktwallet's 15 words use the same list)."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QAbstractItemView, QCompleter, QPlainTextEdit, QWidget

from app.wallet.bip39 import wordlist

POPUP_KEYS = (
    Qt.Key.Key_Enter,
    Qt.Key.Key_Return,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Tab,
    Qt.Key.Key_Backtab,
)


class SeedWordsEdit(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)  # Tab moves on, as in the other fields
        # owned by Python, not a Qt child of this box: as a child it could be deleted in the
        # wrong order when the window closes (a crash seen with PySide6 6.11)
        self.completer = QCompleter(list(wordlist()))
        self.completer.setWidget(self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(6)
        self.completer.activated.connect(self.insert_completion)

    def word_under_cursor(self) -> str:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.StartOfWord, QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText().strip()

    def insert_completion(self, word: str) -> None:
        """Replace the word being typed by `word` and a space."""
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.StartOfWord, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(word + " ")
        self.setTextCursor(cursor)
        self._popup().hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        popup = self._popup()
        if popup.isVisible() and event.key() in POPUP_KEYS:
            if event.key() in (Qt.Key.Key_Enter, Qt.Key.Key_Return, Qt.Key.Key_Tab):
                index = popup.currentIndex()
                row = index.row() if index.isValid() else 0
                choice = self.completer.completionModel().index(row, 0).data()
                if choice:
                    self.insert_completion(str(choice))
                    return
            popup.hide()
            if event.key() == Qt.Key.Key_Escape:
                return
        super().keyPressEvent(event)
        self.update_popup()

    def update_popup(self) -> None:
        prefix = self.word_under_cursor().lower()
        mid_word = not self._char_after().isspace()
        if len(prefix) < 2 or mid_word:
            self._popup().hide()
            return
        self.completer.setCompletionPrefix(prefix)
        model = self.completer.completionModel()
        count = model.rowCount()
        if count == 0 or (count == 1 and model.index(0, 0).data() == prefix):
            self._popup().hide()  # nothing to offer, or the word is complete
            return
        rect = self.cursorRect()
        rect.setWidth(
            self._popup().sizeHintForColumn(0)
            + self._popup().verticalScrollBar().sizeHint().width()
        )
        self.completer.complete(rect)

    def _popup(self) -> QAbstractItemView:
        popup = self.completer.popup()
        assert popup is not None  # QCompleter always has one
        return popup

    def _char_after(self) -> str:
        position = self.textCursor().position()
        text = self.toPlainText()
        return text[position] if position < len(text) else " "
