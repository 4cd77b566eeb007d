"""The report screen: the watchlist's key facts and its theses with their tickers (our words)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from thesiswatch.tui.text import clean, safe_text
from thesiswatch.tui.widgets.footer import AppFooter
from thesiswatch.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from thesiswatch.tui.host import AppHost


class ReportScreen(Screen[None]):
    """Facts and theses of the loaded watchlist (the built-in one is the report's)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.pop_screen", "Back", key_display="q/esc"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    app: AppHost

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll(id="report-scroll"):
            yield Static(self._body(), id="report-body")
        yield AppFooter()

    def on_mount(self) -> None:
        self.app.update_status()

    def _body(self) -> RenderableType:
        watchlist = self.app.watchlist
        parts: list[RenderableType] = []
        parts.append(safe_text(watchlist.name, style="bold underline"))
        if watchlist.description:
            parts.append(paragraph(watchlist.description, "italic"))
        parts.append(Text(""))
        if watchlist.facts:
            parts.append(Text("Key facts", style="bold"))
            for fact in watchlist.facts:
                line = Text("  • ", style="dim")
                line.append_text(paragraph(fact))
                parts.append(line)
            parts.append(Text(""))
        for number, thesis in enumerate(watchlist.theses, start=1):
            head = Text(f"{number}. ", style="bold")
            head.append(clean(thesis.title), style="bold")
            if thesis.title_zh:
                head.append(f"  {clean(thesis.title_zh)}", style="dim")
            head.append(f"  [{clean(thesis.id)}]", style="dim")
            parts.append(head)
            if thesis.statement:
                parts.append(paragraph(thesis.statement, indent="   "))
            if thesis.statement_zh:
                parts.append(paragraph(thesis.statement_zh, "dim", indent="   "))
            tickers = Text("   tickers: ", style="dim")
            for ticker in thesis.tickers:
                try:
                    company = watchlist.company(ticker)
                except KeyError:  # a ticker the watchlist lists but does not describe
                    tickers.append(f"{clean(ticker)}  ")
                    continue
                tickers.append(clean(ticker), style="bold")
                tickers.append(f" {clean(company.name)}  ")
            tickers.no_wrap = False
            parts.append(tickers)
            parts.append(Text(""))
        return Group(*parts)

    def action_scroll_down(self) -> None:
        self.query_one("#report-scroll", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#report-scroll", VerticalScroll).scroll_up()


def paragraph(value: str, style: str = "", *, indent: str = "") -> Text:
    text = Text(indent, no_wrap=False)
    text.append(clean(value), style=style)
    return text
