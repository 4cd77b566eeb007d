"""Own-poll mode: one long-running worker runs the pipeline; each finished cycle refreshes the
screens; refresh keys wake the pipeline. Attach mode never loads the sentiment scorer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.tui.sample import WATCHLIST, clock, fill, items_and_tags
from thesiswatch.pipeline import CycleReport
from thesiswatch.store import Store
from thesiswatch.tui.app import make_app
from thesiswatch.tui.screens.main import MainScreen
from thesiswatch.tui.screens.sources import SourcesScreen
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.status_bar import StatusBar

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


class FakePipeline:
    """Just the part of ``thesiswatch.pipeline.Pipeline`` the TUI uses."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.on_cycle = None
        self.polling = False
        self.woken: list[list[str] | None] = []
        self.running = False
        self._wake = asyncio.Event()

    def wake(self, source_ids: list[str] | None = None) -> None:
        self.woken.append(None if source_ids is None else list(source_ids))
        self._wake.set()

    async def resume_outbox(self) -> int:
        return 0

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.running = True
        while not stop.is_set():
            await self._wake.wait()
            self._wake.clear()
            item, tags = items_and_tags()[0]
            n = len(self.woken)
            fresh = replace(
                item, id=f"polled-{n}", url=f"https://news.example.com/p{n}", title=f"Polled {n}"
            )
            self.store.save_items([(fresh, tags)])
            report = CycleReport(started=datetime.now(UTC), finished=datetime.now(UTC))
            if self.on_cycle is not None:
                self.on_cycle(report)


async def test_refresh_wakes_the_poller_and_the_cycle_refreshes_the_screen(store: Store) -> None:
    pipeline = FakePipeline(store)
    app = make_app(None, store=store, watchlist=WATCHLIST, pipeline=pipeline, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert pipeline.running
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.query_one(StatusBar).status.mode == "polling"
        news = screen.query_one(NewsStream)
        assert len(news.items) == 18
        await pilot.press("r")
        for _ in range(40):
            await pilot.pause(0.02)
            if len(news.items) == 19:
                break
        assert pipeline.woken == [None]
        assert any(i.title == "Polled 1" for i in news.items)


async def test_sources_screen_polls_one_or_all(store: Store) -> None:
    pipeline = FakePipeline(store)
    app = make_app(None, store=store, watchlist=WATCHLIST, pipeline=pipeline, clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press("S")
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        first = screen.sources[0].source_id
        await pilot.press("enter")
        await pilot.press("a")
        await pilot.pause()
        assert pipeline.woken[:2] == [[first], None]


async def test_a_failing_poller_is_reported_not_fatal(store: Store) -> None:
    class Broken(FakePipeline):
        async def run_forever(self, stop: asyncio.Event) -> None:
            raise RuntimeError("network on fire")

    app = make_app(None, store=store, watchlist=WATCHLIST, pipeline=Broken(store), clock=clock)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert any("network on fire" in str(n.message) for n in app._notifications)


def test_attach_mode_never_imports_snownlp(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    with Store.open(path) as writer:
        fill(writer)
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from thesiswatch.store import Store
        from tests.tui.sample import WATCHLIST, clock
        from thesiswatch.tui.app import make_app

        async def main():
            with Store.open({str(path)!r}, readonly=True) as store:
                app = make_app(None, store=store, watchlist=WATCHLIST, clock=clock)
                async with app.run_test(size=(80, 24)) as pilot:
                    await pilot.pause()
                    await pilot.press("T")
                    await pilot.pause()
            print("snownlp" in sys.modules, "textual" in sys.modules)

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["False", "True"], result.stderr
