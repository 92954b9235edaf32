"""A table model whose rows are read from the core a page at a time, as the view scrolls.

A miner's wallet has hundreds of thousands of transactions and coins; the window shows a few
dozen. :class:`PagedTableModel` asks the core (on its thread: a `Future` of ``(total, rows)``)
for the first page, then for the next one whenever the view scrolls near the end (Qt's
``canFetchMore``/``fetchMore``). Nothing runs on the Qt thread but copying a page into the model.

When the wallet changes (a block, a payment), :meth:`PagedTableModel.refresh` reads again the
rows already shown and merges them: new rows at the top are inserted, changed rows repainted,
so the view keeps its place; anything else (a reorg, an abandoned payment) resets the model.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from .calls import GuiCalls

Index = QModelIndex | QPersistentModelIndex
PageFetch = Callable[[int, int], "concurrent.futures.Future[tuple[int, list[Any]]]"]
PAGE_ROWS = 200


class PagedTableModel(QAbstractTableModel):
    """Subclasses give the columns and `cell`; callers give the page source."""

    loaded = Signal()  # a page arrived: `total` is known
    failed = Signal(str)  # reading a page failed (the reason)

    def __init__(
        self,
        calls: GuiCalls,
        columns: Sequence[str],
        key: Callable[[Any], object],
        page_rows: int = PAGE_ROWS,
        parent: QObject | None = None,
    ) -> None:
        # Give it the view's page as parent: a model owned by Python alone can be collected
        # while its view (deleted later by Qt) still paints it.
        super().__init__(parent)
        self.calls = calls
        self.columns = tuple(columns)
        self.key = key
        self.page_rows = page_rows
        self.rows: list[Any] = []
        self.total = 0
        self.known = False  # the first page of the current source arrived
        self._fetch: PageFetch | None = None
        self._generation = 0
        self._fetching = False

    # --- what the view asks ---

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        return self.cell(self.rows[index.row()], index.column(), role)

    def cell(self, row: Any, column: int, role: int) -> Any:
        raise NotImplementedError

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return (
            not parent.isValid()
            and self._fetch is not None
            and not self._fetching
            and len(self.rows) < self.total
        )

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if not self.canFetchMore(parent):
            return
        self._request(len(self.rows), self.page_rows, self._append)

    def row(self, number: int) -> Any:
        return self.rows[number]

    # --- what the page asks ---

    def set_source(self, fetch: PageFetch | None) -> None:
        """Read rows from `fetch(offset, limit)` from now on (None: show nothing)."""
        self._fetch = fetch
        self._generation += 1
        self._fetching = False
        self.known = False
        self.beginResetModel()
        self.rows = []
        self.total = 0
        self.endResetModel()
        if fetch is not None:
            self._request(0, self.page_rows, self._replace)

    def reload(self) -> None:
        """Read the shown rows again from the start (the order or the filter changed)."""
        if self._fetch is None:
            return
        self._generation += 1
        self._fetching = False
        self._request(0, max(self.page_rows, len(self.rows)), self._replace)

    def refresh(self) -> None:
        """Read the shown rows again and merge them (the data changed, not the query)."""
        if self._fetch is None or self._fetching:
            return
        self._request(0, max(self.page_rows, len(self.rows)), self._merge)

    # --- pages arriving ---

    def _request(
        self, offset: int, limit: int, apply: Callable[[int, int, list[Any]], None]
    ) -> None:
        assert self._fetch is not None
        generation = self._generation
        self._fetching = True

        def done(result: tuple[int, list[Any]]) -> None:
            if generation != self._generation:
                return  # the query changed meanwhile
            self._fetching = False
            total, rows = result
            apply(offset, total, rows)
            self.known = True
            self.loaded.emit()

        def fail(exc: BaseException) -> None:
            if generation == self._generation:
                self._fetching = False
                self.failed.emit(str(exc))

        self.calls.watch(self._fetch(offset, limit), done, fail)

    def _append(self, offset: int, total: int, rows: list[Any]) -> None:
        if offset != len(self.rows):  # the shown rows changed meanwhile: start over
            self._replace(0, total, self.rows[:offset] + rows)
            return
        self.total = total
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def _replace(self, _offset: int, total: int, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.total = total
        self.endResetModel()

    def _merge(self, _offset: int, total: int, rows: list[Any]) -> None:
        old_keys = [self.key(r) for r in self.rows]
        new_keys = [self.key(r) for r in rows]
        self.total = total
        if not old_keys:
            self._replace(0, total, rows)
            return
        try:
            shift = new_keys.index(old_keys[0])
        except ValueError:
            shift = -1
        overlap = min(len(old_keys), len(new_keys) - max(shift, 0))
        if shift < 0 or new_keys[shift : shift + overlap] != old_keys[:overlap]:
            self._replace(0, total, rows)
            return
        if shift:
            self.beginInsertRows(QModelIndex(), 0, shift - 1)
            self.rows[0:0] = rows[:shift]
            self.endInsertRows()
        # rows below the ones read again (they moved past the end of what was read) go
        if len(self.rows) > len(rows):
            self.beginRemoveRows(QModelIndex(), len(rows), len(self.rows) - 1)
            del self.rows[len(rows) :]
            self.endRemoveRows()
        elif len(rows) > len(self.rows):
            self.beginInsertRows(QModelIndex(), len(self.rows), len(rows) - 1)
            self.rows.extend(rows[len(self.rows) :])
            self.endInsertRows()
        changed = [i for i in range(shift, len(rows)) if rows[i] != self.rows[i]]
        for i in changed:
            self.rows[i] = rows[i]
        if changed:
            self.dataChanged.emit(
                self.index(changed[0], 0), self.index(changed[-1], len(self.columns) - 1)
            )
