"""The news stream: stored items, newest first, with language, sentiment, tickers and theses."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from thesiswatch.store.models import StoredItem
from thesiswatch.tui.render import LABEL_STYLE, STANCE_MARK, STANCE_STYLE, age_since
from thesiswatch.tui.text import safe_text
from thesiswatch.tui.widgets.record_table import RecordTable


class NewsStream(RecordTable[StoredItem]):
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

    COLUMNS: ClassVar[list[tuple[str, int, int]]] = [
        ("", 1, 1),  # ● new since the last look
        ("age", 4, 3),
        ("", 2, 2),
        ("sent", 5, 5),
        ("tickers", 17, 9),
        ("theses", 9, 6),
    ]

    @property
    def items(self) -> list[StoredItem]:
        """The items shown, newest first."""
        return self.records

    def cells(self, item: StoredItem, now: datetime) -> list[Text]:
        narrow = self.narrow
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
            self.new_mark(item.time),
            Text(age_since(item.time, now), style="dim"),
            safe_text(item.lang or "?", style="dim"),
            Text(f"{score:+.2f}", style=LABEL_STYLE.get(label, "")),
            ticker_text,
            theses,
            safe_text(item.title),
        ]

    def highlighted(self, item: StoredItem) -> None:
        self.post_message(self.ItemHighlighted(item))
        if self.cursor_row == len(self.records) - 1:
            self.post_message(self.EndReached())
