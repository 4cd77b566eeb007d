"""The news stream: stored items, newest first, with language, sentiment, tickers and theses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from store.models import StoredItem
from tui.render import LABEL_STYLE, STANCE_MARK, STANCE_STYLE, age_since
from tui.text import safe_text
from tui.widgets.record_table import RecordTable


class NewsStream(RecordTable):
    """A table of items. Highlighting a row posts :class:`NewsStream.ItemHighlighted`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class ItemHighlighted(Message):
        """The cursor moved onto an item."""

        def __init__(self, item: StoredItem) -> None:
            super().__init__()
            self.item = item

    class EndReached(Message):
        """The cursor is on the last row: the screen may read more items."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[StoredItem] = []
        self.now: datetime | None = None

    COLUMNS: ClassVar[list[tuple[str, int, int]]] = [
        ("age", 4, 3),
        ("", 2, 2),
        ("sent", 5, 5),
        ("tickers", 17, 9),
        ("theses", 9, 6),
    ]

    @property
    def current(self) -> StoredItem | None:
        if not self.items or self.cursor_row < 0 or self.cursor_row >= len(self.items):
            return None
        return self.items[self.cursor_row]

    def show(self, items: Sequence[StoredItem], now: datetime) -> None:
        """Replace the rows, keeping the cursor on the same item when it is still there."""
        previous = self.current
        self.items = list(items)
        self.now = now
        self.rebuild(previous.id if previous is not None else None)

    def rebuild(self, keep: str | None = None) -> None:
        keep = keep or getattr(self.current, "id", None)
        widths = self.fit_columns()
        self.clear()
        if self.now is None:
            return
        for item in self.items:
            cells = self._cells(item, self.now, narrow=self.narrow)
            self.add_row(self.compose_row(cells, widths), key=item.id)
        if not self.items:
            return
        ids = [i.id for i in self.items]
        self.move_cursor(row=ids.index(keep) if keep in ids else 0, animate=False)

    @staticmethod
    def _cells(item: StoredItem, now: datetime, *, narrow: bool = False) -> list[Text]:
        label = item.label or "neu"
        score = item.score or 0.0
        theses = Text(no_wrap=True)
        for thesis, stance in sorted(item.theses.items()):
            short = thesis[:1].upper() if narrow else thesis[:3] + " "
            mark = STANCE_MARK.get(stance, "?")
            theses.append(
                f"{short.strip()}{mark}{'' if narrow else ' '}", style=STANCE_STYLE.get(stance, "")
            )
        tickers = list(item.tickers)
        shown = 1 if narrow else 2
        ticker_text = safe_text(" ".join(tickers[:shown]))
        if len(tickers) > shown:
            ticker_text.append(f"+{len(tickers) - shown}", style="dim")
        return [
            Text(age_since(item.time, now), style="dim"),
            safe_text(item.lang or "?", style="dim"),
            Text(f"{score:+.2f}", style=LABEL_STYLE.get(label, "")),
            ticker_text,
            theses,
            safe_text(item.title),
        ]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        item = self.current
        if item is not None:
            self.post_message(self.ItemHighlighted(item))
            if self.cursor_row == len(self.items) - 1:
                self.post_message(self.EndReached())
