"""The help screen: every key binding of every screen and pane, read from their BINDINGS."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from thesiswatch.tui.widgets.footer import AppFooter

INTRO = (
    "thesiswatch watches news about the report's theses and covered tickers, tags every item "
    "(language, tickers, thesis and stance, sentiment) and raises alerts. Tab moves between "
    "panes; the footer shows the keys of the focused one; ctrl+p opens the command palette, "
    "which has every action."
)


def binding_groups() -> list[tuple[str, list[tuple[str, BindingType]]]]:
    """(where, bindings) for every screen and widget with keys, in reading order."""
    from thesiswatch.tui.host import AppHost
    from thesiswatch.tui.screens.filters import FiltersScreen
    from thesiswatch.tui.screens.main import MainScreen
    from thesiswatch.tui.screens.pick import PickScreen
    from thesiswatch.tui.screens.records import RecordsScreen
    from thesiswatch.tui.screens.report import ReportScreen
    from thesiswatch.tui.screens.sources import SourcesScreen
    from thesiswatch.tui.screens.ticker import TickerScreen
    from thesiswatch.tui.widgets.alert_list import AlertList
    from thesiswatch.tui.widgets.detail_pane import DetailPane
    from thesiswatch.tui.widgets.news_stream import NewsStream
    from thesiswatch.tui.widgets.search_bar import SearchBar
    from thesiswatch.tui.widgets.thesis_board import ThesisBoard

    owners: list[tuple[str, Any]] = [
        ("Everywhere", AppHost),
        ("Main and ticker screens", RecordsScreen),
        ("Main screen", MainScreen),
        ("Thesis board", ThesisBoard),
        ("Alert list", AlertList),
        ("News stream", NewsStream),
        ("Detail pane", DetailPane),
        ("Search bar", SearchBar),
        ("Ticker screen", TickerScreen),
        ("Sources screen", SourcesScreen),
        ("Report screen", ReportScreen),
        ("Help screen", HelpScreen),
        ("Filters dialog", FiltersScreen),
        ("Pick dialog", PickScreen),
    ]
    return [(where, [("", b) for b in owner.BINDINGS]) for where, owner in owners]


EXTRA = [
    ("Everywhere", "ctrl+p", "Command palette: every action, searchable"),
    ("Everywhere", "ctrl+q", "Quit (also q)"),
    ("Alert list / news", "enter", "Show the selection in the detail pane and focus it"),
    ("Alert list / news", "↑ ↓ pgup pgdn", "Move the cursor (home and end too)"),
]


class HelpScreen(Screen[None]):
    """Every binding, grouped by where it works. Escape or q goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.pop_screen", "Back", key_display="q/esc"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(Text("Help: keys", style="bold"), classes="page-title")
        with VerticalScroll(id="help-scroll"):
            yield Static(Text(INTRO, style="italic"), id="help-intro")
            yield Static(self._table(), id="help-body")
        yield AppFooter()

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2), expand=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(style="bold cyan", no_wrap=True, max_width=14)
        table.add_column()
        for where, bindings in binding_groups():
            first = True
            seen: set[str] = set()
            for _, raw in bindings:
                for binding in Binding.make_bindings([raw]):
                    description = binding.description or binding.action
                    if description in seen:
                        # "left,h,up,k" expands into several bindings: one row for all
                        continue
                    seen.add(description)
                    explained = Text(description)
                    if binding.tooltip:
                        explained.append(f"  {binding.tooltip}", style="dim")
                    keys = self._keys_for(bindings, description)
                    table.add_row(Text(where if first else ""), Text(keys), explained)
                    first = False
        for where, key, description in EXTRA:
            table.add_row(Text(where), Text(key), Text(description))
        return table

    def _keys_for(self, bindings: list[tuple[str, BindingType]], description: str) -> str:
        keys: list[str] = []
        for _, raw in bindings:
            for binding in Binding.make_bindings([raw]):
                if (binding.description or binding.action) == description:
                    display = self.app.get_key_display(binding)
                    if display not in keys:
                        keys.append(display)
        return " ".join(keys)

    def action_scroll_down(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#help-scroll", VerticalScroll).scroll_up()
