"""Pilot tests: every screen opens, every binding does what the help says, state is stored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Input

from tests.tui.sample import HOSTILE_TITLE, NOW, WATCHLIST, clock, fill, items_and_tags
from thesiswatch.store import Store
from thesiswatch.tui.app import ThesisWatchApp, make_app
from thesiswatch.tui.render import as_utc
from thesiswatch.tui.screens.filters import FiltersScreen
from thesiswatch.tui.screens.help import HelpScreen
from thesiswatch.tui.screens.main import MainScreen
from thesiswatch.tui.screens.pick import PickScreen
from thesiswatch.tui.screens.report import ReportScreen
from thesiswatch.tui.screens.sources import SourcesScreen
from thesiswatch.tui.screens.ticker import TickerScreen
from thesiswatch.tui.widgets.alert_list import AlertList
from thesiswatch.tui.widgets.detail_pane import DetailPane
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.search_bar import SearchBar
from thesiswatch.tui.widgets.status_bar import StatusBar
from thesiswatch.tui.widgets.thesis_board import ThesisBoard
from thesiswatch.tui.widgets.thesis_card import ThesisCard

SIZE = (160, 50)
pytestmark = pytest.mark.anyio


def main_screen(app: ThesisWatchApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def test_main_screen_shows_board_alerts_news_and_detail(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        cards = screen.query(ThesisCard)
        assert [c.thesis_id for c in cards] == ["compute", "edge", "localization", "risk"]
        compute = screen.query_one("#card-compute", ThesisCard).data
        assert compute is not None
        assert (compute.support_24h, compute.challenge_24h) == (2, 1)
        assert compute.latest_alert is not None and compute.latest_alert.id == "al-1"
        alerts = screen.query_one(AlertList)
        assert [a.id for a in alerts.alerts][:2] == ["al-1", "al-2"]  # newest first
        news = screen.query_one(NewsStream)
        assert news.items[0].id == "item-00"
        assert len(news.items) == 18
        assert screen.selected is not None and screen.selected.id == "al-1"
        status = screen.query_one(StatusBar).status
        assert status.mode == "attached"
        assert status.items_total == 18
        assert status.failing == 1


async def test_hostile_text_renders_literally(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        news = screen.query_one(NewsStream)
        row = [i.id for i in news.items].index("item-06")
        line = news.get_row_at(row)[0]
        assert isinstance(line, Text)
        literal = "[bold red]x[/] <script>alert(1)</script>"
        assert literal in line.plain
        assert "\x1b" not in line.plain
        start = line.plain.index(literal)
        # no style came from the text itself: nothing styles the title's characters
        assert not [span for span in line.spans if span.end > start]
        # the detail pane shows it literally too
        news.focus()
        news.move_cursor(row=row)
        await pilot.pause()
        assert screen.selected is not None and screen.selected.id == "item-06"
        svg = app.export_screenshot()
        assert (
            "x[/]&#160;&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        )  # literal, in the table and detail
        assert "\x1b" not in svg and "[2J" not in svg
        assert HOSTILE_TITLE not in svg


async def test_thesis_filter_from_board_and_digits(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        screen.query_one(ThesisBoard).focus()
        await pilot.press("l", "enter")  # cursor to "edge", filter
        await pilot.pause()
        assert screen.filters.thesis == "edge"
        assert all(a.thesis == "edge" for a in screen.query_one(AlertList).alerts)
        assert all("edge" in i.theses for i in screen.query_one(NewsStream).items)
        assert screen.query_one("#card-edge").has_class("-active")
        await pilot.press("enter")  # again: clears
        assert screen.filters.thesis is None
        await pilot.press("3")
        assert screen.filters.thesis == "localization"
        await pilot.press("escape")
        assert screen.filters.is_empty


async def test_clicking_a_card_filters(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.click("#card-risk")
        await pilot.pause()
        assert main_screen(app).filters.thesis == "risk"


async def test_ticker_filter_via_picker(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        assert isinstance(app.screen, PickScreen)
        # options: "all", then the companies in watchlist order; NVDA.US is the second company
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        screen = main_screen(app)
        assert screen.filters.ticker == "NVDA.US"
        assert {a.id for a in screen.query_one(AlertList).alerts} == {"al-1", "al-3", "al-6"}
        assert all("NVDA.US" in i.tickers for i in screen.query_one(NewsStream).items)
        assert "ticker NVDA.US" in screen.query_one(StatusBar).status.filters


async def test_search_chinese_and_cancel(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        await pilot.press("slash")
        bar = screen.query_one(SearchBar)
        assert bar.has_class("-open") and app.focused is bar
        await pilot.press(*"中芯国际", "enter")
        await pilot.pause()
        assert screen.filters.search == "中芯国际"
        assert [i.id for i in screen.query_one(NewsStream).items] == ["item-05"]
        assert not bar.has_class("-open")
        await pilot.press("slash")
        bar.value = "capex"
        await pilot.press("enter")
        assert [i.id for i in screen.query_one(NewsStream).items] == ["item-11"]
        await pilot.press("slash", "x", "escape")  # escape closes without searching
        assert screen.filters.search == "capex"
        assert not bar.has_class("-open")


async def test_filters_dialog_language_and_window(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, FiltersScreen)
        dialog.query_one("#f-lang").value = "zh"  # type: ignore[attr-defined]
        dialog.query_one("#f-window").value = "24h"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.filters.lang == "zh" and screen.filters.window == "24h"
        items = screen.query_one(NewsStream).items
        assert items and all(
            i.lang == "zh" and (NOW - i.time).total_seconds() <= 86400 for i in items
        )
        for alert in screen.query_one(AlertList).alerts:
            created = as_utc(alert.created)
            assert created is not None and (NOW - created).total_seconds() <= 86400


async def test_sentiment_and_source_filters(app: ThesisWatchApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        screen.filters = screen.filters.with_(label="neg")
        await pilot.pause()
        assert {i.label for i in screen.query_one(NewsStream).items} == {"neg"}
        zh_source = store.source_health()[-1]
        screen.filters = screen.filters.with_(label=None, source_id=zh_source.source_id)
        await pilot.pause()
        assert all(zh_source.name in i.sources for i in screen.query_one(NewsStream).items)


async def test_jk_move_and_tab_switches_panes(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        alerts = screen.query_one(AlertList)
        assert app.focused is alerts
        await pilot.press("j", "j")
        assert alerts.cursor_row == 2
        assert screen.selected is not None and screen.selected.id == "al-3"
        await pilot.press("k")
        assert alerts.cursor_row == 1
        await pilot.press("tab")
        assert app.focused is screen.query_one(NewsStream)
        assert (
            screen.selected is not None and screen.selected.id == "item-00"
        )  # detail follows focus
        await pilot.press("j")
        assert screen.selected.id == "item-01"
        await pilot.press("enter")
        assert app.focused is screen.query_one(DetailPane)
        await pilot.press("tab")
        assert app.focused is screen.query_one(ThesisBoard)


async def test_ack_and_false_positive_are_stored(app: ThesisWatchApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        await pilot.press("a")
        await pilot.pause()
        state = {a.id: a for a in store.alerts(include_hidden=True)}
        assert state["al-1"].acked
        # acknowledged alerts leave the default list; H shows them again
        assert "al-1" not in [a.id for a in screen.query_one(AlertList).alerts]
        await pilot.press("H")
        assert "al-1" in [a.id for a in screen.query_one(AlertList).alerts]
        alerts = screen.query_one(AlertList)
        assert alerts.current is not None and alerts.current.id == "al-2"  # the cursor stayed put
        alerts.move_cursor(row=[a.id for a in alerts.alerts].index("al-1"))
        await pilot.press("x")
        await pilot.pause()
        assert {a.id: a for a in store.alerts(include_hidden=True)}["al-1"].false_positive


async def test_snooze_and_mute_are_stored(app: ThesisWatchApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("s")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("down", "enter")  # 4 hours
        await pilot.pause()
        alert = {a.id: a for a in store.alerts(include_hidden=True)}["al-1"]
        assert alert.snoozed_until is not None
        assert (alert.snoozed_until - NOW).total_seconds() == 4 * 3600
        screen = main_screen(app)
        alerts = screen.query_one(AlertList)
        assert "al-1" not in [a.id for a in alerts.alerts]  # snoozed (by the app's clock)
        alerts.move_cursor(row=[a.id for a in alerts.alerts].index("al-2"))
        await pilot.press("m")  # one ticker: muted at once
        await pilot.pause()
        assert "1810.HK" in store.muted_tickers(NOW)
        assert "al-2" not in [a.id for a in alerts.alerts]  # muted alerts leave the list
        await pilot.press("H")  # show hidden ones, select it again, and unmute
        await pilot.pause()
        alerts.move_cursor(row=[a.id for a in alerts.alerts].index("al-2"))
        await pilot.press("m")
        await pilot.pause()
        assert "1810.HK" not in store.muted_tickers(NOW)


async def test_open_link_only_for_web_urls(
    app: ThesisWatchApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, new=0: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("o")  # al-1 -> https link
        await app.workers.wait_for_complete()
        assert opened == ["https://news.example.com/01"]
        screen = main_screen(app)
        alerts = screen.query_one(AlertList)
        alerts.move_cursor(row=[a.id for a in alerts.alerts].index("al-4"))  # javascript: link
        await pilot.pause()
        await pilot.press("o")
        await app.workers.wait_for_complete()
        assert opened == ["https://news.example.com/01"]


async def test_ticker_screen(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("T")  # the selected alert's ticker
        screen = app.screen
        assert isinstance(screen, TickerScreen) and screen.ticker == "NVDA.US"
        assert {a.id for a in screen.query_one(AlertList).alerts} == {"al-1", "al-3", "al-6"}
        assert all("NVDA.US" in i.tickers for i in screen.query_one(NewsStream).items)
        charts = str(screen.query_one("#ticker-charts").render())
        assert charts
        await pilot.press("f")  # filter the main screen by it
        await pilot.pause()
        assert main_screen(app).filters.ticker == "NVDA.US"


async def test_sources_screen_in_attach_mode_does_not_poll(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        assert screen.sources[0].status == "failing"  # failing first
        await pilot.press("enter")
        await pilot.pause()
        assert any("another process" in str(n.message) for n in app._notifications)
        await pilot.press("n")  # news from the failing source: filter the main screen
        await pilot.pause()
        assert main_screen(app).filters.source_id == screen.sources[0].source_id


async def test_report_and_help_screens(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("R")
        assert isinstance(app.screen, ReportScreen)
        body = str(app.screen.query_one("#report-body").render())
        assert body
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert isinstance(app.screen, MainScreen)


def test_help_lists_every_binding() -> None:
    from textual.binding import Binding

    from thesiswatch.tui.screens.help import binding_groups

    descriptions = {
        b.description
        for _, bindings in binding_groups()
        for _, raw in bindings
        for b in Binding.make_bindings([raw])
    }
    for needed in (
        "Ack",
        "Snooze",
        "Mute",
        "False+",
        "Search",
        "Filters",
        "Open",
        "Refresh",
        "Quit",
        "Help",
        "Zoom",
        "New",
        "Mark seen",
    ):
        assert needed in descriptions


async def test_command_palette_has_every_action(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for needed in (
            "Help",
            "Refresh",
            "Sources",
            "Report",
            "Search",
            "Filters",
            "Clear filters",
            "Open link",
            "Acknowledge alert",
            "Snooze alert",
            "Mute ticker",
            "Mark false positive",
            "Filter by thesis: Compute demand",
            "Filter by ticker: NVDA.US NVIDIA",
            "Ticker view: NVDA.US NVIDIA",
            "Toggle light/dark",
            "Quit",
        ):
            assert needed in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_quit(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_theme_toggle(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        dark = app.current_theme.dark
        await pilot.press("d")
        assert app.current_theme.dark is not dark


async def test_attach_mode_refreshes_when_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    with Store.open(path) as writer:
        fill(writer)
    with Store.open(path, readonly=True) as reader:
        app = make_app(None, store=reader, watchlist=WATCHLIST, clock=clock)
        app.watch_interval = 0.05
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            news = main_screen(app).query_one(NewsStream)
            assert len(news.items) == 18
            item, tags = items_and_tags()[0]
            fresh = replace(
                item, id="fresh", url="https://news.example.com/fresh", title="Fresh item"
            )
            with Store.open(path) as writer:
                writer.save_items([(fresh, tags)])
            for _ in range(50):
                await pilot.pause(0.05)
                if len(news.items) == 19:
                    break
            assert news.items[0].title == "Fresh item"


async def test_search_bar_escape_returns_focus(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert isinstance(app.focused, AlertList)


async def test_usable_at_80x24(app: ThesisWatchApp) -> None:
    """80x24, no key pressed: a one-line board, >= 8 alert rows and >= 6 news rows, a preview
    of the detail; enter zooms the detail pane, escape restores the layout."""
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        assert screen.query_one(ThesisBoard).region.height == 1
        alerts, news = screen.query_one(AlertList), screen.query_one(NewsStream)
        # rows: the widget's height less its top border and header row
        assert alerts.region.height - 2 >= 8
        assert news.region.height - 2 >= 6
        assert screen.query_one(DetailPane).region.height >= 2
        await pilot.press("enter")
        await pilot.pause()
        detail = screen.query_one(DetailPane)
        assert app.focused is detail and screen.zoomed
        assert detail.region.height >= 20
        assert alerts.region.height == 0
        await pilot.press("escape")
        await pilot.pause()
        assert not screen.zoomed
        assert alerts.region.height - 2 >= 8


async def test_ticker_screen_switches_ticker(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("T", "t")
        assert isinstance(app.screen, PickScreen)
        app.screen.dismiss("981.HK")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TickerScreen) and screen.ticker == "981.HK"
        assert {i.id for i in screen.query_one(NewsStream).items} == {
            "item-05",
            "item-13",
            "item-17",
        }
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_filters_dialog_cancel_and_clear(app: ThesisWatchApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        screen.filters = screen.filters.with_(lang="en", ticker="NVDA.US")
        await pilot.press("f", "escape")
        assert screen.filters.lang == "en"
        await pilot.press("f")
        await pilot.click("#f-clear")
        await pilot.pause()
        assert (
            screen.filters.lang is None and screen.filters.ticker == "NVDA.US"
        )  # the dialog's own only


async def test_mute_asks_which_ticker_when_several(app: ThesisWatchApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        alerts = main_screen(app).query_one(AlertList)
        alerts.move_cursor(row=[a.id for a in alerts.alerts].index("al-3"))  # NVDA.US, AMD.US
        await pilot.press("m")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert list(store.muted_tickers(NOW)) == ["AMD.US"]


async def test_refresh_in_attach_mode_rereads(app: ThesisWatchApp, store: Store) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        news = main_screen(app).query_one(NewsStream)
        item, tags = items_and_tags()[0]
        store.save_items(
            [(replace(item, id="same-connection", url="https://news.example.com/s"), tags)]
        )
        await pilot.press("r")  # a write on our own connection does not bump data_version
        await pilot.pause()
        assert "same-connection" in [i.id for i in news.items]


async def test_scrolling_to_the_end_reads_more(
    app: ThesisWatchApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import thesiswatch.tui.screens.main as main_module

    monkeypatch.setattr(main_module, "ITEM_LIMIT", 5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = main_screen(app)
        screen.item_limit = 5
        screen.reload_lists()
        news = screen.query_one(NewsStream)
        assert len(news.items) == 5
        news.focus()
        await pilot.press("j", "j", "j", "j")
        await pilot.pause()
        assert len(news.items) == 10


async def test_while_you_were_away_summary_and_mark_on_exit(store: Store) -> None:
    from datetime import timedelta

    from thesiswatch import ALERTS_SEEN_KEY

    store.meta_set(ALERTS_SEEN_KEY, (NOW - timedelta(days=30)).isoformat(timespec="seconds"))
    expected = len(store.alerts(since=NOW - timedelta(days=30), limit=1000))
    assert expected > 0
    app = make_app(None, store=store, watchlist=WATCHLIST, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        notes = [n for n in app._notifications if n.title == "While you were away"]
        assert len(notes) == 1
        assert notes[0].message.startswith(f"{expected} alert")
    assert store.meta_get(ALERTS_SEEN_KEY) == NOW.isoformat(timespec="seconds")


async def test_dead_deliveries_are_shown_at_start(store: Store) -> None:
    [first, *_] = store.alerts(include_hidden=True, limit=1)
    store.save_alerts([replace(first.alert, id="dead-one")], destinations=["webhook:ops"])
    store.record_delivery(
        alert_id="dead-one", channel="webhook:ops", status="failed", attempt=20, error="HTTP 410"
    )
    app = make_app(None, store=store, watchlist=WATCHLIST, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        notes = [n for n in app._notifications if n.title == "Deliveries failed"]
        assert len(notes) == 1 and "1 alert deliveries given up (webhook:ops)" in notes[0].message


async def test_triage_on_a_read_only_database_is_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    with Store.open(path) as writable:
        fill(writable)
    with Store.open(path, readonly=True) as readonly:
        app = make_app(None, store=readonly, watchlist=WATCHLIST, clock=clock)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            assert app.is_running
            assert any(n.message.startswith("Not saved:") for n in app._notifications)
        assert not readonly.alerts(include_hidden=True)[0].acked
