"""End to end through the real store: the same entries from two sources, polled again after a
restart, are stored once and linked to every source (the store keys on our ids and URLs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import RSS_TYPE, fetcher, rss, run
from loopback import LoopbackServer, Reply

from thesiswatch.feeds.fetch import next_state
from thesiswatch.feeds.models import FetchOutcome, Source

store_module = pytest.importorskip("thesiswatch.store")
signals_models = pytest.importorskip("thesiswatch.signals.models")


def tags() -> object:
    return signals_models.Tags(
        lang="en", sentiment=signals_models.Sentiment(label="neu", score=0.0)
    )


def poll(sources: list[Source], states: dict) -> list[FetchOutcome]:
    async def go() -> list[FetchOutcome]:
        f = fetcher()
        out = [await f.fetch(s, states.get(s.id)) for s in sources]
        await f.aclose()
        return out

    outcomes = run(go())
    for source, outcome in zip(sources, outcomes, strict=True):
        states[source.id] = next_state(states.get(source.id), outcome, source)
    return outcomes


def test_same_entries_from_two_sources_and_a_restart_are_stored_once(tmp_path: Path) -> None:
    wire = rss(3, prefix="https://news.example.com/story").encode()
    # another aggregator: same articles, http + www + other tracking, edited headlines
    aggregator = rss(
        3, prefix="http://www.news.example.com/story", item_title="Edited {n}"
    ).encode()
    routes = {
        "/wire": Reply(body=wire, headers=RSS_TYPE),
        "/agg": Reply(body=aggregator, headers=RSS_TYPE),
    }
    db = tmp_path / "tw.db"
    with LoopbackServer(routes) as server:
        sources = [
            Source(name="Wire", url=server.url("/wire")),
            Source(name="Aggregator", url=server.url("/agg")),
        ]
        states: dict = {}
        store = store_module.Store.open(db)
        store.sync_sources(sources)
        for outcome in poll(sources, states):
            store.record_fetch(outcome)
            store.save_items([(item, tags()) for item in outcome.items])
        stored = store.items(limit=50)
        store.close()
        assert len(stored) == 3
        assert all(set(item.source_ids) == {s.id for s in sources} for item in stored)

        # restart: a new fetcher, the database reopened, validators-less feeds polled again
        store = store_module.Store.open(db)
        results = []
        for outcome in poll(sources, {}):
            results.append(store.save_items([(item, tags()) for item in outcome.items]))
        assert all(not r.new for r in results)
        assert len(store.items(limit=50)) == 3
        store.close()
