"""Fixtures for store tests: the same tests run on an in-memory and an on-disk database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.sample import SRC_A, SRC_B
from thesiswatch.store import Store


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same tests on an in-memory and an on-disk database."""
    opened = Store.memory() if request.param == "memory" else Store.open(tmp_path / "tw.db")
    opened.sync_sources([SRC_A, SRC_B])
    try:
        yield opened
    finally:
        opened.close()
