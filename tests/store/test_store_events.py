"""Events, relevance, per-ticker readings and novelty are stored (migration 7), exported in
the DESIGN.md item shape, replaced when an item is edited, and counted by ``events_daily``."""

from __future__ import annotations

import pytest

from tests.store.sample import T0, make_item
from thesiswatch.signals.sentiment import default_scorer
from thesiswatch.signals.tagger import Tagger
from thesiswatch.store import Store
from thesiswatch.watchlists import load_watchlist


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(), default_scorer())


def test_events_relevance_and_novelty_round_trip(store: Store, tagger: Tagger) -> None:
    title = "Xiaomi integrates DeepSeek into its cars, priced well below an iPhone rival"
    item = make_item("x1", title)
    tags = tagger.tag(title)
    store.save_items([(item, tags)], clusters={"x1": "s1"}, novelty={"x1": 100})
    (exported,) = list(store.export_items())
    assert exported["events"][0]["type"] == "ai_integration"
    assert exported["events"][0]["entities"] == {"1810.HK": "subject", "DEEPSEEK": "counterparty"}
    assert exported["relevance"] == dict(tags.relevance)
    assert exported["relevance"]["AAPL.US"] < 50 and "AAPL.US" not in exported["tickers"]
    assert set(exported["sentiment"]["by_ticker"]) == {"1810.HK", "DEEPSEEK"}
    assert exported["novelty"] == 100
    stored = store.item("x1")
    assert stored is not None and stored.events[0].subjects == ("1810.HK",)


def test_events_daily_counts_per_type_and_ticker(store: Store, tagger: Tagger) -> None:
    titles = ["Nvidia shares fall 17%", "Nvidia shares fall 5% again", "Meta lifts AI capex plan"]
    store.save_items(
        [(make_item(f"e{i}", t), tagger.tag(t)) for i, t in enumerate(titles)],
    )
    _, rows = store.query("SELECT day, type, ticker, n FROM events_daily ORDER BY type, ticker")
    day = T0.date().isoformat()
    assert (day, "shares_down", "NVDA.US", 2) in [tuple(r) for r in rows]
    assert (day, "capex_raise", None, 1) in [tuple(r) for r in rows]


def test_an_edited_item_gets_its_events_replaced(store: Store, tagger: Tagger) -> None:
    first = "TSMC raises full-year guidance"
    store.save_items([(make_item("g1", first), tagger.tag(first))])
    edited = "TSMC cuts full-year guidance"
    result = store.save_items([(make_item("g1", edited), tagger.tag(edited))])
    assert result.updated == ["g1"]
    stored = store.item("g1")
    assert stored is not None
    assert [e.type for e in stored.events] == ["guidance_cut"]
    _, rows = store.query("SELECT count(*) FROM item_events")
    assert rows == [(1,)]
