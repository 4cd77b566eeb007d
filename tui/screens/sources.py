"""The sources screen: health of every source, refresh now for one or all (when polling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from thesiswatch.store.models import SourceHealth
from thesiswatch.tui.render import age_since, as_utc
from thesiswatch.tui.text import clean, safe_text
from thesiswatch.tui.widgets.footer import AppFooter
from thesiswatch.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from thesiswatch.tui.host import AppHost

STATUS_STYLE = {
    "ok": "green",
    "failing": "bold red",
    "overdue": "bold red",
    "never polled": "yellow",
    "inactive": "dim",
}
STATUS_MARK = {"ok": "✓", "failing": "✗", "overdue": "⚠", "never polled": "…", "inactive": "–"}
NAME_WIDTH = 34  # the source column's width from 120 columns; narrower below


class SourcesTable(DataTable[Text]):
    """The table of sources (a private helper of this screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class SourcesScreen(Screen[None]):
    """Enter polls the selected source now, ``a`` polls all; ``n`` shows its news."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.pop_screen", "Back", key_display="q/esc"),
        Binding(
            "enter",
            "refresh_one",
            "Poll this now",
            tooltip="Poll the selected source now (when this app polls)",
        ),
        Binding(
            "a",
            "refresh_all",
            "Poll all now",
            tooltip="Poll every source now (when this app polls)",
        ),
        Binding(
            "n",
            "show_news",
            "News from it",
            tooltip="Back to the main screen, news filtered by this source",
        ),
    ]

    app: AppHost

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[SourceHealth] = []

    def compose(self) -> ComposeResult:
        yield StatusBar()
        table = SourcesTable(id="sources-table", cursor_type="row", classes="pane")
        table.border_title = "Sources"
        yield table
        yield Static(id="source-detail")
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(SourcesTable)
        table.add_column("", key="mark", width=1)
        table.add_column("status", key="status", width=12)
        table.add_column("source", key="name", width=NAME_WIDTH)
        table.add_column("last ok", key="ok", width=7)
        table.add_column("latency", key="latency", width=7)
        table.add_column("next", key="next", width=6)
        table.add_column("items", key="items", width=6)
        table.add_column("error", key="error", width=10)
        self._fit_columns()
        self.reload()
        table.focus()

    def reload(self) -> None:
        now = self.app.now()
        table = self.query_one(SourcesTable)
        previous = (
            self.sources[table.cursor_row].source_id
            if self.sources and 0 <= table.cursor_row < len(self.sources)
            else None
        )
        order = {"overdue": 0, "failing": 1, "never polled": 2, "ok": 3, "inactive": 4}
        self.sources = sorted(
            self.app.store.source_health(now),
            key=lambda s: (order.get(s.status, 9), s.name.lower()),
        )
        table.clear()
        for source in self.sources:
            next_poll = as_utc(source.next_poll)
            style = STATUS_STYLE.get(source.status, "")
            status = source.status
            if source.consecutive_failures > 1:
                status = f"{status} ×{source.consecutive_failures}"
            table.add_row(
                Text(STATUS_MARK.get(source.status, "?"), style=style),
                Text(status, style=style),
                safe_text(source.name),
                Text(age_since(source.last_success, now), style="dim"),
                Text(f"{source.latency:.2f}s" if source.latency is not None else "—", style="dim"),
                Text(
                    ("in " + age_since(now, next_poll))
                    if next_poll and next_poll > now
                    else ("due" if next_poll else "—"),
                    style="dim",
                ),
                Text(str(source.items_seen), justify="right"),
                safe_text(source.last_error or "", style="red"),
                key=source.source_id,
            )
        failing = sum(1 for s in self.sources if s.status == "failing")
        overdue = sum(1 for s in self.sources if s.status == "overdue")
        table.border_subtitle = f"{len(self.sources)} sources, {failing} failing" + (
            f", {overdue} overdue" if overdue else ""
        )
        ids = [s.source_id for s in self.sources]
        if previous in ids:
            table.move_cursor(row=ids.index(previous), animate=False)
        self._show_detail()
        self.app.update_status()

    def on_resize(self) -> None:
        if self.query_one(SourcesTable).columns:
            self._fit_columns()
            self.reload()

    def _fit_columns(self) -> None:
        """Source and error columns share what the fixed ones leave: no horizontal scroll."""
        table = self.query_one(SourcesTable)
        # the pane's border and a vertical scrollbar, two cells of padding per column
        room = self.size.width - 2 - 2 - 2 * len(table.columns)
        fixed = sum(c.width for k, c in table.columns.items() if k.value not in ("name", "error"))
        free = max(20, room - fixed)
        name = NAME_WIDTH if free >= NAME_WIDTH + 20 else max(10, free // 2)
        for key, width in (("name", name), ("error", max(8, free - name))):
            column = table.columns.get(ColumnKey(key))
            if column is not None:
                column.auto_width = False
                column.width = width

    def on_screen_resume(self) -> None:
        self.app.resumed(self)

    def _current(self) -> SourceHealth | None:
        row = self.query_one(SourcesTable).cursor_row
        return self.sources[row] if self.sources and 0 <= row < len(self.sources) else None

    def _show_detail(self) -> None:
        source = self._current()
        detail = self.query_one("#source-detail", Static)
        if source is None:
            detail.update(Text("No sources yet.", style="dim"))
            return
        text = safe_text(source.name, style="bold")
        text.append("\n")
        text.append_text(safe_text(source.url))
        if source.http_status:
            text.append(f"\nlast HTTP status {source.http_status}", style="dim")
        if source.last_error:
            text.append("\n")
            text.append_text(safe_text(source.last_error, style="red"))
        text.no_wrap = False
        detail.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_refresh_one()

    def _can_poll(self) -> bool:
        if self.app.pipeline is None:
            self.app.notify(
                "Attached to a database another process writes: that process polls.",
                severity="warning",
                timeout=3,
            )
            return False
        return True

    def action_refresh_one(self) -> None:
        source = self._current()
        if source is None or not self._can_poll():
            return
        assert self.app.pipeline is not None
        self.app.pipeline.wake([source.source_id])
        self.app.notify(f"Polling {clean(source.name)} now.", timeout=2, markup=False)

    def action_refresh_all(self) -> None:
        if not self._can_poll():
            return
        assert self.app.pipeline is not None
        self.app.pipeline.wake()
        self.app.notify("Polling every source now.", timeout=2)

    def action_show_news(self) -> None:
        source = self._current()
        if source is None:
            return
        from thesiswatch.tui.screens.main import MainScreen

        self.app.pop_screen()
        main = self.app.screen
        if isinstance(main, MainScreen):
            main.filters = main.filters.with_(source_id=source.source_id)
