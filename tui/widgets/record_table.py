"""A row-cursor table of records, each row drawn as one pre-composed line.

Textual's ``DataTable`` renders (and measures) every cell separately; a feed list redrawn on
every filter change spends most of its time there. Here each row is one ``Text`` built from
fixed-width cells (the last, the title, takes the width the others leave), so a repaint
renders one renderable per visible row. Cursor, scrolling, mouse and the ``RowHighlighted``
and ``RowSelected`` messages are the ``DataTable``'s own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from thesiswatch.tui.render import as_utc

ROW_KEY = "row"
GAP = 1  # spaces between cells
NARROW = 90  # below this many columns, tables use their narrow column widths
MIN_TITLE = 10


class Record(Protocol):
    """What a row stands for: anything with an ``id`` (the row key)."""

    @property
    def id(self) -> str: ...


RecordT = TypeVar("RecordT", bound=Record)


class RecordTable(DataTable[Text], Generic[RecordT]):
    """Base of :class:`AlertList` and :class:`NewsStream`: one row per record, newest first.

    ``COLUMNS`` lists ``(label, width, narrow width)`` of the fixed columns; a last ``title``
    column takes the rest. A cell whose ``Text.justify`` is ``"right"`` is right-aligned.
    Subclasses say what a row shows (``cells``) and what a highlight posts (``highlighted``).
    """

    COLUMNS: ClassVar[list[tuple[str, int, int]]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.records: list[RecordT] = []
        self.now: datetime | None = None
        self.new_since: datetime | None = None
        """Records after this time (the user's last look) are marked new; None marks none."""

    @property
    def current(self) -> RecordT | None:
        """The record under the cursor, if any."""
        if not self.records or self.cursor_row < 0 or self.cursor_row >= len(self.records):
            return None
        return self.records[self.cursor_row]

    def show(
        self, records: Sequence[RecordT], now: datetime, *, new_since: datetime | None = None
    ) -> None:
        """Replace the rows, keeping the cursor on the same record when it is still there;
        records after ``new_since`` carry the new marker."""
        previous = self.current
        self.records = list(records)
        self.now = now
        self.new_since = new_since
        self.rebuild(previous.id if previous is not None else None)

    def cells(self, record: RecordT, now: datetime) -> list[Text]:
        """The cells of ``record``'s row, one per column of ``COLUMNS`` and the title last."""
        raise NotImplementedError

    def highlighted(self, record: RecordT) -> None:
        """The cursor moved onto ``record``: post the subclass's message."""
        raise NotImplementedError

    def new_mark(self, when: datetime | str | None) -> Text:
        """``●`` for a record after the last look, else a blank (a one-cell column)."""
        moment = as_utc(when)
        if self.new_since is not None and moment is not None and moment > self.new_since:
            return Text("●", style="bold yellow")
        return Text(" ")

    @property
    def narrow(self) -> bool:
        return self.size.width < NARROW

    def widths(self) -> list[int]:
        """Cell widths for the current size, the title's last."""
        fixed = [small if self.narrow else wide for _, wide, small in self.COLUMNS]
        total = self.scrollable_content_region.width - 2 * self.cell_padding
        title = max(MIN_TITLE, total - sum(fixed) - GAP * len(fixed))
        return [*fixed, title]

    @staticmethod
    def compose_row(cells: Sequence[Text], widths: Sequence[int]) -> Text:
        """One line: each cell cut (with an ellipsis) or padded to its width."""
        row = Text(no_wrap=True, overflow="crop", end="")
        last = len(widths) - 1
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            piece = cell.copy()
            piece.no_wrap = True
            if piece.cell_len > width:
                piece.truncate(width, overflow="ellipsis")
            pad = " " * max(0, width - piece.cell_len)
            if cell.justify == "right":
                row.append(pad)
                row.append_text(piece)
            else:
                row.append_text(piece)
                if index < last:
                    row.append(pad)
            if index < last:
                row.append(" " * GAP)
        return row

    def on_mount(self) -> None:
        self.add_column(self._header(self.widths()), key=ROW_KEY, width=1)

    def _header(self, widths: Sequence[int]) -> Text:
        labels = [Text(label) for label, _, _ in self.COLUMNS] + [Text("title")]
        return self.compose_row(labels, widths)

    def fit_columns(self) -> list[int]:
        """Size the one column to the widget and redraw the header; returns the cell widths."""
        widths = self.widths()
        column = self.columns.get(ColumnKey(ROW_KEY))
        if column is not None:
            column.auto_width = False
            column.width = sum(widths) + GAP * (len(widths) - 1)
            column.label = self._header(widths)
        return widths

    def rebuild(self, keep: str | None = None) -> None:
        """Re-add the rows, keeping the cursor on the record with id ``keep`` (else the current)."""
        current = self.current
        keep = keep or (current.id if current is not None else None)
        widths = self.fit_columns()
        self.clear()
        if self.now is None:
            return
        for record in self.records:
            self.add_row(self.compose_row(self.cells(record, self.now), widths), key=record.id)
        if not self.records:
            return
        ids = [record.id for record in self.records]
        self.move_cursor(row=ids.index(keep) if keep in ids else 0, animate=False)

    def on_resize(self, event: events.Resize) -> None:
        self.rebuild()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        record = self.current
        if record is not None:
            self.highlighted(record)
