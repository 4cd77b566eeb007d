"""Snapshot tests (pytest-textual-snapshot): each screen at 80x24 and 160x50, the main, ticker
and sources screens at 120x35 too and in the light theme; fixed clock and data.

Update after an intended change with ``pytest tests/tui --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

from tests.tui.sample import WATCHLIST, clock, fill
from thesiswatch.store import Store
from thesiswatch.tui.app import ThesisWatchApp, make_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]
LIVE_SIZES = [*SIZES[:1], pytest.param((120, 35), id="120x35"), *SIZES[1:]]
THEMES = [pytest.param([], id="dark"), pytest.param(["d"], id="light")]


@pytest.fixture
def snap_app() -> Iterator[ThesisWatchApp]:
    with Store.memory() as store:
        app = make_app(None, store=store_with_data(store), watchlist=WATCHLIST, clock=clock)
        # the "while you were away" toast has its own pilot test; here it would hide the lists
        app._welcome_back = lambda: None  # type: ignore[method-assign]
        yield app


def store_with_data(store: Store) -> Store:
    from datetime import timedelta

    from tests.tui.sample import NOW
    from thesiswatch import ALERTS_SEEN_KEY

    fill(store)
    # the last look 6 h ago: two alerts and a few items are new (marked, counted)
    store.meta_set(ALERTS_SEEN_KEY, (NOW - timedelta(hours=6)).isoformat(timespec="seconds"))
    return store


Compare = Callable[..., bool]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", LIVE_SIZES)
def test_main_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int], theme: list[str]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=theme)


@pytest.mark.parametrize("size", SIZES)
def test_filtered_view(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    async def filter_by_compute_and_nvda(pilot: Pilot[None]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.set_thesis("compute")  # type: ignore[attr-defined]
        screen.set_ticker("NVDA.US")  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=size, run_before=filter_by_compute_and_nvda)


@pytest.mark.parametrize("size", SIZES)
def test_search_view(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["slash", *"芯片", "enter"])


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", LIVE_SIZES)
def test_ticker_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int], theme: list[str]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=[*theme, "T"])


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", LIVE_SIZES)
def test_sources_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int], theme: list[str]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=[*theme, "S"])


@pytest.mark.parametrize("size", SIZES)
def test_report_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["R"])


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["question_mark"])


@pytest.mark.parametrize("size", SIZES)
def test_filters_dialog(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["f"])
