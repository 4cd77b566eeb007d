"""Snapshot tests (pytest-textual-snapshot): each screen at 80x24 and 160x50, fixed clock and data.

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


@pytest.fixture
def snap_app() -> Iterator[ThesisWatchApp]:
    with Store.memory() as store:
        yield make_app(None, store=store_with_data(store), watchlist=WATCHLIST, clock=clock)


def store_with_data(store: Store) -> Store:
    return fill(store)


Compare = Callable[..., bool]


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size)


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


@pytest.mark.parametrize("size", SIZES)
def test_ticker_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["T"])


@pytest.mark.parametrize("size", SIZES)
def test_sources_screen(
    snap_compare: Compare, snap_app: ThesisWatchApp, size: tuple[int, int]
) -> None:
    assert snap_compare(snap_app, terminal_size=size, press=["S"])


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


def test_main_screen_light_theme(snap_compare: Compare, snap_app: ThesisWatchApp) -> None:
    assert snap_compare(snap_app, terminal_size=(160, 50), press=["d"])
