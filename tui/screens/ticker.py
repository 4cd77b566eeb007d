"""The ticker screen: sentiment over time, mention volume, recent items and alerts of one ticker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from store.models import StoredAlert, StoredItem
from tui.render import sparkline, volume_sparkline
from tui.text import clean
from tui.widgets.alert_list import AlertList
from tui.widgets.detail_pane import DetailPane
from tui.widgets.news_stream import NewsStream
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import ThesisWatchApp

DAYS = 30
ITEM_LIMIT = 60
ALERT_LIMIT = 40


class TickerScreen(Screen[None]):
    """One ticker up close. ``t`` switches ticker, ``f`` filters the main screen by it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "app.pop_screen", "Back"),
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

    app: ThesisWatchApp

    def __init__(self, ticker: str) -> None:
        super().__init__()
        self.ticker = ticker
        self.selected: StoredAlert | StoredItem | None = None
        self._shown_minute: datetime | None = None

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
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(NewsStream).focus()

    def on_screen_resume(self) -> None:
        if self.app.stale_screens.pop(self, None) is not None:
            self.reload()

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
        alert_list = self.query_one(AlertList)
        news = self.query_one(NewsStream)
        alert_list.show(alerts, now)
        news.show(items, now)
        alert_list.border_subtitle = str(len(alerts))
        news.border_subtitle = f"{len(items)}{'+' if len(items) >= ITEM_LIMIT else ''}"
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

    def _already_shown(self, record: StoredAlert | StoredItem) -> bool:
        """True when the detail pane shows this very record (same state) this minute."""
        minute = self.app.now().replace(second=0, microsecond=0)
        shown = self.selected == record and self._shown_minute == minute
        self.selected, self._shown_minute = record, minute
        return shown

    def show_alert(self, alert: StoredAlert) -> None:
        if self._already_shown(alert):
            return
        item = self.app.store.item(alert.item_ids[0]) if alert.item_ids else None
        self.query_one(DetailPane).show_alert(alert, item, self.app.now())

    def show_item(self, item: StoredItem) -> None:
        if self._already_shown(item):
            return
        self.query_one(DetailPane).show_item(item, self.app.now())

    @on(AlertList.AlertHighlighted)
    def _alert_highlighted(self, event: AlertList.AlertHighlighted) -> None:
        if self.focused is self.query_one(AlertList):
            self.show_alert(event.alert)

    @on(NewsStream.ItemHighlighted)
    def _item_highlighted(self, event: NewsStream.ItemHighlighted) -> None:
        if self.focused is self.query_one(NewsStream):
            self.show_item(event.item)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one(DetailPane).focus()

    def on_descendant_focus(self, event: object) -> None:
        news = self.query_one(NewsStream)
        alerts = self.query_one(AlertList)
        if self.focused is news and news.current is not None:
            self.show_item(news.current)
        elif self.focused is alerts and alerts.current is not None:
            self.show_alert(alerts.current)

    def action_switch_ticker(self) -> None:
        def switch(ticker: str | None) -> None:
            if ticker:
                self.ticker = ticker
                self.selected = None
                self.reload()

        self.app.pick_ticker(switch, current=self.ticker)

    def action_filter_main(self) -> None:
        from tui.screens.main import MainScreen

        ticker = self.ticker
        self.app.pop_screen()
        main = self.app.screen
        if isinstance(main, MainScreen):
            main.set_ticker(ticker)

    def action_open_link(self) -> None:
        self.app.open_link(self.selected.url if self.selected is not None else "")

    def _alert(self) -> StoredAlert | None:
        return self.query_one(AlertList).current

    def action_ack(self) -> None:
        self.app.ack_alert(self._alert())

    def action_snooze(self) -> None:
        self.app.snooze_alert(self._alert())

    def action_mute(self) -> None:
        self.app.mute_for_alert(self._alert())

    def action_false_positive(self) -> None:
        self.app.mark_false_positive(self._alert())

    def action_toggle_hidden(self) -> None:
        self.app.notify("The ticker screen always shows every alert.", timeout=2)
