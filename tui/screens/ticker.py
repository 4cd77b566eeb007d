"""The ticker screen: sentiment over time, mention volume, recent items and alerts of one ticker."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from thesiswatch.tui.render import sparkline, volume_sparkline
from thesiswatch.tui.screens.records import RecordsScreen, count_label
from thesiswatch.tui.text import clean
from thesiswatch.tui.widgets.alert_list import AlertList
from thesiswatch.tui.widgets.detail_pane import DetailPane
from thesiswatch.tui.widgets.footer import AppFooter
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.status_bar import StatusBar

DAYS = 30
ITEM_LIMIT = 60
ALERT_LIMIT = 40


class TickerScreen(RecordsScreen):
    """One ticker up close. ``t`` switches ticker, ``f`` filters the main screen by it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "back", "Back", key_display="q/esc"),
        Binding(
            "o",
            "open_link",
            "Open",
            tooltip="Open the selected link in the browser (http/https only)",
        ),
        Binding("t", "switch_ticker", "Other ticker", tooltip="Show another ticker"),
        Binding(
            "f",
            "filter_main",
            "Filter main by it",
            tooltip="Back to the main screen, filtered by this ticker",
        ),
    ]

    def __init__(self, ticker: str) -> None:
        super().__init__()
        self.ticker = ticker

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static(id="ticker-charts")
        with Horizontal(id="ticker-lists"):
            alerts = AlertList(id="ticker-alerts")
            alerts.border_title = "Alerts"
            yield alerts
            news = NewsStream(id="ticker-news")
            news.border_title = "Items"
            yield news
        detail = DetailPane(id="ticker-detail")
        detail.border_title = "Detail"
        yield detail
        yield AppFooter()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(NewsStream).focus()

    def reload(self) -> None:
        app = self.app
        now = app.now()
        store = app.store
        daily = store.ticker_daily_sentiment(self.ticker, days=DAYS, now=now)
        mentions = store.ticker_mentions(
            self.ticker, since=now - timedelta(days=DAYS), bucket="day"
        )
        self.query_one("#ticker-charts", Static).update(self._charts(daily, mentions))
        alerts = store.alerts(limit=ALERT_LIMIT, ticker=self.ticker, include_hidden=True)
        items = store.items(limit=ITEM_LIMIT, ticker=self.ticker)
        alert_list, news = self.show_lists(alerts, items, now)
        alert_list.border_subtitle = str(len(alerts))
        news.border_subtitle = count_label(len(items), ITEM_LIMIT)
        if self.selected is None:
            if news.current is not None:
                self.show_item(news.current)
            elif alert_list.current is not None:
                self.show_alert(alert_list.current)
        app.update_status()

    def _charts(
        self, daily: list[tuple[str, float, int]], mentions: list[tuple[str, int]]
    ) -> Group:
        company = None
        try:
            company = self.app.watchlist.company(self.ticker)
        except KeyError:  # a ticker outside the watchlist (e.g. from an old database)
            company = None
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f" {clean(self.ticker)} ", style="bold reverse")
        if company is not None:
            head.append(f" {clean(company.name)}", style="bold")
            if company.name_zh:
                head.append(f" {clean(company.name_zh)}")
            if company.listings:
                head.append(f"  listings {clean(' '.join(company.listings))}", style="dim")
            if company.theses:
                head.append(f"  theses {clean(' '.join(company.theses))}", style="dim")
        today = self.app.now().astimezone(UTC).date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
        by_day = {day: (mean, count) for day, mean, count in daily}
        per_day = dict(mentions)
        scores = [round(by_day[d][0] * 8) if d in by_day else 0 for d in days]
        volumes = [per_day.get(d, 0) for d in days]
        total = sum(count for _, _, count in daily)
        mean = sum(m * n for _, m, n in daily) / total if total else 0.0
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True, min_width=13)
        grid.add_column(no_wrap=True, min_width=DAYS)
        grid.add_column(style="dim", no_wrap=True, overflow="ellipsis")
        grid.add_row(
            f"sentiment {DAYS}d", sparkline(scores), Text(f"mean {mean:+.2f} over {total} items")
        )
        grid.add_row(
            f"mentions  {DAYS}d",
            volume_sparkline(volumes),
            Text(f"{sum(volumes)} items, peak {max(volumes, default=0)}/day"),
        )
        grid.add_row("", Text(f"{days[0]} … {days[-1]}", style="dim"), "")
        return Group(head, grid)

    # -- selection and actions ----------------------------------------------------------------

    @on(AlertList.AlertHighlighted)
    def _alert_highlighted(self, event: AlertList.AlertHighlighted) -> None:
        if self.focused is self.query_one(AlertList):
            self.show_alert(event.alert)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one(DetailPane).focus()

    def action_switch_ticker(self) -> None:
        def switch(ticker: str | None) -> None:
            if ticker:
                self.ticker = ticker
                self.selected = None
                self.reload()

        self.app.pick_ticker(switch, current=self.ticker)

    def action_filter_main(self) -> None:
        from thesiswatch.tui.screens.main import MainScreen

        ticker = self.ticker
        self.app.pop_screen()
        main = self.app.screen
        if isinstance(main, MainScreen):
            main.set_ticker(ticker)

    def action_toggle_hidden(self) -> None:
        self.app.notify("The ticker screen always shows every alert.", timeout=2)
