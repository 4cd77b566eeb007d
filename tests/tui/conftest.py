"""Fixtures for the TUI tests: an in-memory store with fixed data, the app on a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tui.sample import WATCHLIST, clock, fill
from thesiswatch.store import Store
from thesiswatch.tui.app import ThesisWatchApp, make_app


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio (the anyio pytest plugin drives the async tests)."""
    return "asyncio"


@pytest.fixture
def store() -> Iterator[Store]:
    with Store.memory() as memory:
        yield fill(memory)


@pytest.fixture
def app(store: Store) -> ThesisWatchApp:
    return make_app(None, store=store, watchlist=WATCHLIST, clock=clock)
