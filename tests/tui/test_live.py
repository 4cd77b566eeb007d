"""Pilot tests of the TUI as a live monitor: screens re-read on return, a stopped daemon and
overdue polls show in the status bar, the scheduler keeps the documented 30 s minimum."""

from __future__ import annotations

import contextlib
import random
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.tui.sample import NOW, WATCHLIST, clock, fill, items_and_tags
from thesiswatch.daemon import daemon_lock, daemon_running
from thesiswatch.store import Store
from thesiswatch.tui.app import ThesisWatchApp, make_app
from thesiswatch.tui.screens.main import MainScreen
from thesiswatch.tui.screens.sources import SourcesScreen
from thesiswatch.tui.widgets.alert_list import AlertList
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.status_bar import StatusBar
from thesiswatch.tui.widgets.thesis_card import ThesisCard

SIZE = (160, 50)
pytestmark = pytest.mark.anyio


def status_text(app: ThesisWatchApp) -> str:
    return app.screen.query_one(StatusBar).render().plain


async def test_returning_to_the_main_screen_rereads_what_changed(
    app: ThesisWatchApp, store: Store
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("S")
        assert isinstance(app.screen, SourcesScreen)
        item, tags = items_and_tags()[0]
        fresh = replace(item, id="fresh", url="https://news.example.com/fresh", title="Fresh item")
        store.save_items([(fresh, tags)])
        app.data_changed()  # what the watch timer does when the daemon commits
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        assert main.query_one(NewsStream).items[0].title == "Fresh item"
        assert not app.stale_screens


async def test_attached_shows_daemon_stopped_when_its_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    with Store.open(path) as writer:
        fill(writer)
    with Store.open(path, readonly=True) as reader, contextlib.ExitStack() as daemon:
        daemon.enter_context(daemon_lock(path))
        assert daemon_running(path)
        app = make_app(
            None,
            store=reader,
            watchlist=WATCHLIST,
            clock=clock,
            daemon_probe=partial(daemon_running, path),
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.daemon_alive is True
            assert "attached to daemon" in status_text(app)
            daemon.close()  # the daemon exits (or is killed): the kernel drops its lock
            assert not daemon_running(path)
            app.check_for_changes()  # the 2 s timer's work, run now
            await pilot.pause()
            assert app.daemon_alive is False
            assert "daemon stopped" in status_text(app)
            assert any(n.title == "Daemon stopped" for n in app._notifications)


async def test_daemon_stopping_while_attached_turns_the_status_bar(app: ThesisWatchApp) -> None:
    alive = [True]
    app.daemon_probe = lambda: alive[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "daemon stopped" not in status_text(app)
        alive[0] = False
        app.check_for_changes()
        await pilot.pause()
        assert "daemon stopped" in status_text(app)
        assert app.watch_interval <= 10  # noticed within 10 s of the lock's release


async def test_poll_overdue_past_twice_the_interval_plus_a_minute(store: Store) -> None:
    now = [NOW]
    app = make_app(None, store=store, watchlist=WATCHLIST, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "overdue" not in status_text(app)
        # the sample sources (600 s) were last polled 2-4 min before NOW
        now[0] = NOW + timedelta(minutes=17)  # 21 min since the oldest attempt: not yet
        app.update_status(reread=True)
        assert "overdue" not in status_text(app)
        now[0] = NOW + timedelta(minutes=17, seconds=30)  # 21.5 min: past 2 x 600 s + 60 s
        app.update_status(reread=True)
        await pilot.pause()
        assert "poll overdue (1)" in status_text(app)
        health = {h.name: h.status for h in store.source_health(now[0])}
        assert health["Wire EN"] == "overdue"
        await pilot.press("S")
        await pilot.pause()
        assert "overdue" in status_text(app)


def test_scheduler_honours_the_documented_30_s_minimum() -> None:
    from thesiswatch.config import MIN_INTERVAL
    from thesiswatch.feeds.fetch import FetchSettings
    from thesiswatch.feeds.schedule import adaptive_interval, success_interval

    policy = FetchSettings().policy()
    assert policy.floor == MIN_INTERVAL == 30
    interval, _ = success_interval(base=30, policy=policy, rng=random.Random(0))
    assert interval == 30
    # the demo turns the adaptive stretch off: quiet feeds stay at their interval
    demo = FetchSettings(adaptive=False).policy()
    quiet = [NOW - timedelta(days=2 + i) for i in range(5)]
    assert adaptive_interval(quiet, NOW, 30, demo) == 30


def test_demo_feeds_carry_no_minute_ttl() -> None:
    import httpx

    from thesiswatch.demo import DemoServer

    with DemoServer() as server:
        for source in server.sources():
            body = httpx.get(source.url, timeout=10).text
            assert "<ttl>" not in body
            assert source.interval == 30


# -- what's new ----------------------------------------------------------------------------


async def test_new_since_the_last_look_count_markers_filter_and_mark(store: Store) -> None:
    from thesiswatch import ALERTS_SEEN_KEY

    mark = NOW - timedelta(hours=6)  # al-1 (2 h) and al-2 (5 h) are newer
    store.meta_set(ALERTS_SEEN_KEY, mark.isoformat(timespec="seconds"))
    app = make_app(None, store=store, watchlist=WATCHLIST, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "● 2 new" in status_text(app)
        alerts = app.screen.query_one(AlertList)
        marks = [alerts.new_mark(a.created).plain for a in alerts.alerts]
        assert marks[:3] == ["●", "●", " "]
        first_row = alerts.get_row_at(0)[0].plain
        assert first_row.lstrip().startswith("● !!")
        await pilot.press("n")  # the "new" filter
        await pilot.pause()
        assert [a.id for a in alerts.alerts] == ["al-1", "al-2"]
        news = app.screen.query_one(NewsStream)
        assert news.items and all(app.is_new(i.time) for i in news.items)
        assert "new only" in status_text(app)
        await pilot.press("N")  # mark everything seen
        await pilot.pause()
        assert "new" not in status_text(app).replace("new only", "")
        assert not alerts.alerts  # the filter still asks for new ones: none now
    # the same mark `thesiswatch alerts` reads
    assert store.meta_get(ALERTS_SEEN_KEY) == NOW.isoformat(timespec="seconds")


async def test_bell_for_critical_alerts_only_when_configured(store: Store) -> None:
    from thesiswatch.config import Settings
    from thesiswatch.records import Alert

    rang: list[bool] = []
    now = [NOW]

    def make(bell: bool) -> ThesisWatchApp:
        settings = Settings(config_path=None, db_path=Path("unused.db"), tui_bell=bell)
        app = make_app(settings, store=store, watchlist=WATCHLIST, clock=lambda: now[0])
        app.bell = lambda: rang.append(True)  # type: ignore[method-assign]
        return app

    def critical(alert_id: str) -> Alert:
        return Alert(
            id=alert_id,
            rule="thesis_challenge",
            severity="critical",
            title="Fresh critical",
            message="m",
            tickers=("NVDA.US",),
            created=now[0].isoformat(),
        )

    for bell in (False, True):
        app = make(bell)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            now[0] += timedelta(minutes=1)
            store.save_alerts([critical(f"crit-{bell}")])
            app.data_changed()
            await pilot.pause()
        assert rang == ([True] if bell else [])


# -- boards --------------------------------------------------------------------------------


async def test_risk_board_draws_materialising_evidence_in_warning_colour(
    app: ThesisWatchApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        risk = app.screen.query_one("#card-risk", ThesisCard)
        compute = app.screen.query_one("#card-compute", ThesisCard)
        assert risk.data is not None and risk.data.is_risk  # from Thesis.role, not the id
        risk_styles = {str(span.style) for span in _spans(risk)}
        compute_styles = {str(span.style) for span in _spans(compute)}
        assert "yellow" in risk_styles and "green" not in risk_styles
        assert "green" in compute_styles


def test_bars_show_volume_and_the_change() -> None:
    from thesiswatch.tui.render import stance_bar

    small = stance_bar(2, 0, 16, scale=8).plain
    big = stance_bar(8, 0, 16, scale=8).plain
    assert small.count("█") == 2 and big.count("█") == 8


async def test_full_titles_at_120_columns_and_no_double_ellipsis(store: Store) -> None:
    long_title = "US curbs speed up China's chip substitution across the supply chain..."
    theses = tuple(
        replace(t, title=long_title) if t.id == "localization" else t for t in WATCHLIST.theses
    )
    watchlist = replace(WATCHLIST, theses=theses)
    app = make_app(None, store=store, watchlist=watchlist, clock=clock)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        card = app.screen.query_one("#card-localization", ThesisCard)
        text = "\n".join(_lines(card))
        assert "US curbs speed up China's chip" in text and "substitution" in text
        assert "……" not in text and "...…" not in text
    app = make_app(None, store=store, watchlist=watchlist, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for card in app.screen.query(ThesisCard):
            line = "".join(_lines(card))
            assert "……" not in line and "...…" not in line
            assert len(line) <= card.content_size.width


# -- every width -----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
async def test_no_horizontal_overflow_and_footer_keeps_help_and_quit(
    app: ThesisWatchApp, width: int
) -> None:
    from textual.widgets._footer import FooterKey

    async with app.run_test(size=(width, 24 if width < 120 else 40)) as pilot:
        await pilot.pause()
        for table in (app.screen.query_one(AlertList), app.screen.query_one(NewsStream)):
            assert table.max_scroll_x == 0, table
            assert table.virtual_size.width <= table.scrollable_content_region.width
        keys = [k for k in app.screen.query(FooterKey) if k.region.right <= width]
        shown = {k.key for k in keys if k.region.width > 0}
        assert {"question_mark", "q"} <= shown


# -- events ------------------------------------------------------------------------------------


async def test_event_filter_and_event_lines_in_the_detail_pane(app: ThesisWatchApp) -> None:
    from thesiswatch.tui.filters import Filters
    from thesiswatch.tui.widgets.detail_pane import DetailPane

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.filters = Filters(event="export_control_tighten")
        await pilot.pause()
        news = screen.query_one(NewsStream)
        assert [i.title for i in news.items] == [
            "US weighs tighter export rules on AI chips to China"
        ]
        assert "event export_control_tighten" in status_text(app)
        news.focus()
        await pilot.pause()
        shown = "\n".join(
            line.plain if hasattr(line, "plain") else "" for line in _detail_lines(screen)
        )
        assert "export_control_tighten" in shown and "relevance" in shown
        assert screen.query_one(DetailPane).border_subtitle == "item"


def _detail_lines(screen: MainScreen) -> list[object]:
    from thesiswatch.tui.widgets.detail_pane import DetailPane

    return list(screen.query_one(DetailPane).lines_shown)


def _spans(card: ThesisCard) -> list[object]:
    from rich.console import Group
    from rich.text import Text

    rendered = card.render()
    texts = list(rendered.renderables) if isinstance(rendered, Group) else [rendered]
    return [span for t in texts if isinstance(t, Text) for span in t.spans]


def _lines(card: ThesisCard) -> list[str]:
    from rich.console import Group
    from rich.text import Text

    rendered = card.render()
    texts = list(rendered.renderables) if isinstance(rendered, Group) else [rendered]
    return [t.plain for t in texts if isinstance(t, Text)]


async def test_sub_screens_keep_q_in_the_footer_and_escape_unzooms_first(
    app: ThesisWatchApp,
) -> None:
    from textual.widgets._footer import FooterKey

    from thesiswatch.tui.screens.ticker import TickerScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("T")
        await pilot.pause()
        ticker = app.screen
        assert isinstance(ticker, TickerScreen)
        keys = [k.key for k in ticker.query(FooterKey)]
        assert keys[:2] == ["question_mark", "q"]
        await pilot.press("z")
        assert ticker.zoomed
        await pilot.press("escape")
        assert not ticker.zoomed and app.screen is ticker
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
