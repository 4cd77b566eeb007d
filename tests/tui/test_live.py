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
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.status_bar import StatusBar

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
