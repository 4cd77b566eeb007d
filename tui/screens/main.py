"""The main screen: thesis board, live alerts, news stream, detail pane, status bar.

Only this screen (and the app) talks to the store. Every query is bounded by a limit, and a
change of filters re-reads only the alerts and the news (the board depends on new data only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Input

from thesiswatch.tui.filters import Filters
from thesiswatch.tui.screens.records import RecordsScreen, count_label
from thesiswatch.tui.widgets.alert_list import AlertList
from thesiswatch.tui.widgets.detail_pane import DetailPane
from thesiswatch.tui.widgets.footer import AppFooter
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.search_bar import SearchBar
from thesiswatch.tui.widgets.status_bar import StatusBar
from thesiswatch.tui.widgets.thesis_board import ThesisBoard
from thesiswatch.tui.widgets.thesis_card import CardData, ThesisCard

ALERT_LIMIT = 40  # rows read per refresh: about two screenfuls, never the table
ITEM_LIMIT = 60
MAX_ITEM_LIMIT = 1000  # scrolling to the end reads more, up to this many
EVENT_WINDOW = timedelta(days=30)  # the filters dialog offers the event types seen this long


class MainScreen(RecordsScreen):
    """Board, alerts, news and detail; ``/`` searches, ``f`` filters, ``t`` picks a ticker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o",
            "open_link",
            "Open",
            tooltip="Open the selected alert's or item's link in the browser (http/https only)",
        ),
        Binding(
            "slash",
            "search",
            "Search",
            tooltip="Full-text search of titles and summaries, Chinese too",
        ),
        Binding(
            "f",
            "filters",
            "Filters",
            tooltip="Filter by language, sentiment, source and time window",
        ),
        Binding("t", "pick_ticker", "Ticker", tooltip="Filter alerts and news by a ticker"),
        Binding(
            "n",
            "toggle_new",
            "New",
            tooltip="Only what arrived after your last look (again to show everything)",
        ),
        Binding(
            "N",
            "app.mark_seen",
            "Mark seen",
            show=False,
            tooltip="Count everything so far as seen (the mark `thesiswatch alerts` uses too)",
        ),
        Binding(
            "T",
            "ticker_screen",
            "Ticker view",
            tooltip="Sentiment, mentions, items and alerts of the selected ticker",
        ),
        Binding(
            "S", "app.sources", "Sources", tooltip="Health of every source; poll one or all now"
        ),
        Binding("R", "app.report", "Report", tooltip="The report's key facts and theses"),
        Binding(
            "escape",
            "clear_filters",
            "Clear filters",
            show=False,
            tooltip="Drop every filter and the search",
        ),
        *[
            Binding(
                str(n + 1),
                f"toggle_thesis({n})",
                f"Thesis {n + 1}",
                show=False,
                tooltip=f"Filter by the {ordinal} thesis (again to clear)",
            )
            for n, ordinal in enumerate(("first", "second", "third", "fourth"))
        ],
    ]

    filters: reactive[Filters] = reactive(Filters, init=False)
    """What the alerts and news are filtered by."""
    show_hidden: reactive[bool] = reactive(False, init=False)
    """Show acknowledged, snoozed, muted and false-positive alerts too."""

    def __init__(self) -> None:
        super().__init__()
        self.item_limit = ITEM_LIMIT
        """How many items the news stream reads (grows when the user scrolls to the end)."""

    def compose(self) -> ComposeResult:
        watchlist = self.app.watchlist
        yield StatusBar(id="status")
        yield ThesisBoard([t.id for t in watchlist.theses], id="board")
        with Horizontal(id="lower"):
            with Vertical(id="lists"):
                alerts = AlertList(id="alerts")
                alerts.border_title = "Alerts"
                yield alerts
                news = NewsStream(id="news")
                news.border_title = "News"
                yield news
            detail = DetailPane(id="detail")
            detail.border_title = "Detail"
            yield detail
        yield SearchBar(id="search")
        yield AppFooter()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(AlertList).focus()

    # -- reading the store ----------------------------------------------------------------

    def reload(self) -> None:
        """Re-read everything this screen shows (new data arrived or the user refreshed)."""
        self.reload_board()
        self.reload_lists()

    def reload_board(self) -> None:
        app = self.app
        now = app.now()
        summaries = app.store.thesis_summary(now)
        scale_24h = max(
            (max(s.support_24h, s.challenge_24h) for s in summaries.values()), default=0
        )
        scale_7d = max((max(s.support_7d, s.challenge_7d) for s in summaries.values()), default=0)
        cards = []
        for thesis in app.watchlist.theses:
            summary = summaries.get(thesis.id)
            daily = [net for _, net in summary.daily_net] if summary else []
            cards.append(
                CardData(
                    thesis_id=thesis.id,
                    title=thesis.title,
                    statement=thesis.statement,
                    tickers=tuple(thesis.tickers),
                    support_24h=summary.support_24h if summary else 0,
                    challenge_24h=summary.challenge_24h if summary else 0,
                    support_7d=summary.support_7d if summary else 0,
                    challenge_7d=summary.challenge_7d if summary else 0,
                    daily_net=tuple(net for _, net in summary.daily_net) if summary else (),
                    latest_alert=summary.latest_alert if summary else None,
                    now=now,
                    role=thesis.role,
                    scale_24h=scale_24h,
                    scale_7d=scale_7d,
                    previous_7d_net=sum(daily[-14:-7]) if len(daily) >= 14 else None,
                )
            )
        self.query_one(ThesisBoard).show(cards, self.filters.thesis)

    def reload_lists(self) -> None:
        """Re-read alerts and news for the current filters (bounded queries only)."""
        app = self.app
        now = app.now()
        filters = self.filters
        since = filters.since(now)
        if filters.new and (since is None or app.seen_mark > since):
            since = app.seen_mark
        # alerts have no language/sentiment/source/text of their own: under those filters the
        # alert list shows the alerts raised by the items the news list shows
        narrowed = bool(
            filters.search or filters.lang or filters.label or filters.source_id or filters.event
        )
        alerts = app.store.alerts(
            limit=ALERT_LIMIT * 10 if narrowed else ALERT_LIMIT,
            ticker=filters.ticker,
            thesis=filters.thesis,
            since=since,
            include_hidden=self.show_hidden,
            now=now,
        )
        items = app.store.items(
            limit=self.item_limit,
            ticker=filters.ticker,
            thesis=filters.thesis,
            lang=filters.lang,
            label=filters.label,
            source_id=filters.source_id,
            search=filters.search or None,
            since=since,
            event=filters.event,
        )
        if filters.new:
            alerts = [a for a in alerts if app.is_new(a.created)]
            items = [i for i in items if app.is_new(i.time)]
        if narrowed:
            shown = {item.id for item in items}
            alerts = [a for a in alerts if shown.intersection(a.item_ids)][:ALERT_LIMIT]
        alert_list, news = self.show_lists(alerts, items, now)
        alert_list.border_subtitle = count_label(len(alerts), ALERT_LIMIT) + (
            " · incl. hidden" if self.show_hidden else ""
        )
        news.border_subtitle = count_label(len(items), self.item_limit)
        self.query_one(ThesisBoard).show([], filters.thesis)
        self.app.update_status()
        # the lists paint first; the detail pane (one more read, more text) follows a frame later
        self.call_after_refresh(self._show_current_detail)

    def _show_current_detail(self) -> None:
        focused = self.focused
        news = self.query_one(NewsStream)
        alerts = self.query_one(AlertList)
        if focused is news and news.current is not None:
            self.show_item(news.current)
        elif alerts.current is not None:
            self.show_alert(alerts.current)
        elif news.current is not None:
            self.show_item(news.current)
        else:
            message = (
                "No alerts or news match the filters."
                if not self.filters.is_empty
                else "No data yet."
            )
            self.selected = None
            self.query_one(DetailPane).show_nothing(message)

    # -- reacting ---------------------------------------------------------------------------

    def watch_filters(self, filters: Filters) -> None:
        self.item_limit = ITEM_LIMIT
        self.reload_lists()

    @on(NewsStream.EndReached)
    def _news_end_reached(self) -> None:
        """The cursor reached the last item read: read more (bounded)."""
        news = self.query_one(NewsStream)
        if len(news.items) >= self.item_limit and self.item_limit < MAX_ITEM_LIMIT:
            self.item_limit = min(MAX_ITEM_LIMIT, self.item_limit + ITEM_LIMIT)
            self.reload_lists()

    def watch_show_hidden(self, show_hidden: bool) -> None:
        self.reload_lists()

    @on(AlertList.AlertHighlighted)
    def _alert_highlighted(self, event: AlertList.AlertHighlighted) -> None:
        if self.focused is not self.query_one(NewsStream):
            self.show_alert(event.alert)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an alert or item: show it and move focus to the detail pane."""
        table = event.data_table
        if isinstance(table, NewsStream) and table.current is not None:
            self.show_item(table.current)
        elif isinstance(table, AlertList) and table.current is not None:
            self.show_alert(table.current)
        if self.has_class("-narrow"):
            self.zoom(self.query_one(DetailPane))  # too small below the lists to read
        else:
            self.query_one(DetailPane).focus()

    @on(ThesisCard.Selected)
    def _thesis_selected(self, event: ThesisCard.Selected) -> None:
        self.set_thesis(event.thesis_id)

    def set_thesis(self, thesis_id: str | None) -> None:
        """Filter by ``thesis_id``; selecting the active thesis again clears it."""
        same = thesis_id == self.filters.thesis
        self.filters = self.filters.with_(thesis=None if same else thesis_id)

    def set_ticker(self, ticker: str | None) -> None:
        self.filters = self.filters.with_(ticker=ticker)

    def set_search(self, query: str | None) -> None:
        self.filters = self.filters.with_(search=(query or "").strip() or None)

    # -- search ---------------------------------------------------------------------------

    def action_search(self) -> None:
        bar = self.query_one(SearchBar)
        bar.value = self.filters.search or ""
        bar.add_class("-open")
        bar.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.query_one(SearchBar).remove_class("-open")
        self.set_search(event.value)
        self.query_one(NewsStream).focus()

    @on(SearchBar.Cancelled)
    def _search_cancelled(self) -> None:
        self.query_one(SearchBar).remove_class("-open")
        self.query_one(AlertList).focus()

    # -- actions --------------------------------------------------------------------------

    def action_toggle_thesis(self, index: int) -> None:
        theses = self.app.watchlist.theses
        if 0 <= index < len(theses):
            self.set_thesis(theses[index].id)

    def action_clear_filters(self) -> None:
        if self.zoomed:
            self.unzoom()
            return
        if not self.filters.is_empty:
            self.filters = Filters()
            self.notify("Filters cleared.", timeout=2)

    def action_filters(self) -> None:
        from thesiswatch.tui.screens.filters import FiltersScreen

        def apply(result: Filters | None) -> None:
            if result is not None:
                self.filters = result

        sources = [(s.source_id, s.name) for s in self.app.store.source_health()]
        events = self.app.store.event_types(since=self.app.now() - EVENT_WINDOW)
        self.app.push_screen(FiltersScreen(self.filters, sources, events), apply)

    def action_pick_ticker(self) -> None:
        self.app.pick_ticker(self.set_ticker, current=self.filters.ticker)

    def action_ticker_screen(self) -> None:
        self.app.open_ticker(self.context_ticker())

    def context_ticker(self) -> str | None:
        """The ticker the user is looking at: the filter, else the selected record's first."""
        if self.filters.ticker:
            return self.filters.ticker
        if self.selected is not None and self.selected.tickers:
            return self.selected.tickers[0]
        return None

    def action_toggle_new(self) -> None:
        self.filters = self.filters.with_(new=not self.filters.new)

    def action_toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden
