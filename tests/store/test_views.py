"""The analysis views and the aggregate methods, on a small data set with known figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.sample import SRC_A, SRC_B, T0, make_alert, make_item, make_tags
from thesiswatch.feeds.models import FetchOutcome
from thesiswatch.store import Store

DAY1 = T0 - timedelta(days=1)  # 2025-01-26


@pytest.fixture
def known(store: Store) -> Store:
    """Day 1: two NVDA items (neg -0.6, pos 0.2); day 2: NVDA neu 0.0 and 1810.HK pos 0.8."""
    store.save_items(
        [
            (
                make_item("d1a", "a", published=DAY1, fetched=DAY1),
                make_tags(
                    tickers=("NVDA.US",), label="neg", score=-0.6, theses={"compute": "challenge"}
                ),
            ),
            (
                make_item(
                    "d1b",
                    "b",
                    published=DAY1 + timedelta(hours=1),
                    fetched=DAY1 + timedelta(hours=2),
                ),
                make_tags(
                    tickers=("NVDA.US",), label="pos", score=0.2, theses={"compute": "support"}
                ),
            ),
            (
                make_item("d2a", "c", published=T0, fetched=T0),
                make_tags(
                    tickers=("NVDA.US",), label="neu", score=0.0, theses={"compute": "challenge"}
                ),
            ),
            (
                make_item("d2b", "d", published=T0, fetched=T0, source=SRC_B),
                make_tags(
                    tickers=("1810.HK",),
                    label="pos",
                    score=0.8,
                    theses={"edge": "support", "compute": "challenge"},
                ),
            ),
        ]
    )
    # d2a also carried by B
    store.save_items([(make_item("d2a", "c", published=T0, fetched=T0, source=SRC_B), make_tags())])
    store.save_alerts(
        [
            make_alert("a1", rule="thesis_challenge", tickers=("NVDA.US",), item_ids=("d2a",)),
            make_alert(
                "a2",
                rule="thesis_challenge",
                tickers=("NVDA.US", "1810.HK"),
                item_ids=("d2b",),
                created=T0 + timedelta(minutes=1),
            ),
            make_alert("a3", rule="mention_spike", tickers=(), thesis=None, created=DAY1),
        ]
    )
    store.set_alert_state("a2", false_positive=True)
    store.record_fetch(
        FetchOutcome(source_id=SRC_A.id, status="ok", http_status=200, latency=0.25, started=T0)
    )
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_B.id, status="failed", error="HTTP 503", http_status=503, started=T0
        )
    )
    return store


def rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    return store.query(sql)[1]


def test_ticker_daily_sentiment_view(known: Store) -> None:
    assert rows(known, "SELECT * FROM ticker_daily_sentiment ORDER BY day, ticker") == [
        ("2025-01-26", "NVDA.US", 2, 1, 1, 0, -0.2),
        ("2025-01-27", "1810.HK", 1, 1, 0, 0, 0.8),
        ("2025-01-27", "NVDA.US", 1, 0, 0, 1, 0.0),
    ]


def test_thesis_evidence_daily_view(known: Store) -> None:
    assert rows(known, "SELECT * FROM thesis_evidence_daily ORDER BY day, thesis") == [
        ("2025-01-26", "compute", 1, 1, 0),
        ("2025-01-27", "compute", 0, 2, -2),
        ("2025-01-27", "edge", 1, 0, 1),
    ]


def test_alerts_by_rule_ticker_view(known: Store) -> None:
    assert rows(
        known,
        "SELECT rule, ticker, alerts, false_positives FROM alerts_by_rule_ticker "
        "ORDER BY rule, ticker",
    ) == [
        ("mention_spike", None, 1, 0),
        ("thesis_challenge", "1810.HK", 1, 1),
        ("thesis_challenge", "NVDA.US", 2, 1),
    ]


def test_source_health_view(known: Store) -> None:
    assert rows(
        known,
        "SELECT name, status, consecutive_failures, last_error, last_http_status, "
        "last_latency_ms FROM source_health ORDER BY name",
    ) == [
        ("Wire A", "ok", 0, None, 200, 250),
        ("Wire B", "failing", 1, "HTTP 503", 503, 0),
    ]


def test_items_per_source_daily_view(known: Store) -> None:
    assert rows(
        known, "SELECT day, source, items FROM items_per_source_daily ORDER BY day, source"
    ) == [
        ("2025-01-26", "Wire A", 2),
        ("2025-01-27", "Wire A", 1),
        ("2025-01-27", "Wire B", 2),
    ]


def test_items_tagged_view(known: Store) -> None:
    assert rows(
        known, "SELECT id, tickers, theses, sources FROM items_tagged WHERE id = 'd2b'"
    ) == [
        ("d2b", "1810.HK", "compute:challenge edge:support", "Wire B"),
    ]


def test_thesis_summary(known: Store) -> None:
    summary = known.thesis_summary(T0 + timedelta(hours=1))
    compute = summary["compute"]
    assert (compute.support_24h, compute.challenge_24h) == (0, 2)
    assert (compute.support_7d, compute.challenge_7d) == (1, 3)
    assert len(compute.daily_net) == 14
    assert compute.daily_net[-2:] == (("2025-01-26", 0), ("2025-01-27", -2))
    assert compute.daily_net[0] == ("2025-01-14", 0)
    assert compute.latest_alert is not None and compute.latest_alert.id == "a2"
    assert summary["edge"].support_24h == 1 and summary["edge"].latest_alert is None
    assert set(summary) >= {"compute", "edge", "localization", "risk"}
    # a fixed clock before the data sees none of it
    early = known.thesis_summary(DAY1 - timedelta(days=1))["compute"]
    assert (early.support_7d, early.challenge_7d, early.latest_alert) == (0, 0, None)


def test_ticker_mentions_and_daily_sentiment(known: Store) -> None:
    assert known.ticker_mentions("NVDA.US", since=DAY1 - timedelta(hours=1)) == [
        ("2025-01-26T14:00:00+00:00", 1),
        ("2025-01-26T15:00:00+00:00", 1),
        ("2025-01-27T14:00:00+00:00", 1),
    ]
    assert known.ticker_mentions("NVDA.US", since=DAY1, bucket="day") == [
        ("2025-01-26", 2),
        ("2025-01-27", 1),
    ]
    assert known.ticker_daily_sentiment("NVDA.US", days=7, now=T0) == [
        ("2025-01-26", -0.2, 2),
        ("2025-01-27", 0.0, 1),
    ]
    assert known.ticker_daily_sentiment("NVDA.US", days=1, now=T0) == [("2025-01-27", 0.0, 1)]


def test_stats(known: Store) -> None:
    stats = known.stats(T0 + timedelta(hours=1))
    assert (stats.items_total, stats.items_today, stats.alerts_today) == (4, 2, 2)
    assert stats.last_poll == T0 and stats.failing_sources == 1 and stats.sources_active == 2


def test_alert_source_count(known: Store) -> None:
    by_id = {a.id: a for a in known.alerts(include_hidden=True)}
    assert by_id["a1"].source_count == 2 and by_id["a2"].source_count == 1
    assert by_id["a3"].source_count == 0


def test_aggregates_survive_prune(known: Store) -> None:
    before = rows(known, "SELECT * FROM ticker_daily_sentiment ORDER BY day, ticker")
    result = known.prune(older_than=timedelta(days=365), now=T0 + timedelta(days=400))
    assert result.items_deleted == 4
    assert rows(known, "SELECT count(*) FROM items") == [(0,)]
    assert rows(known, "SELECT count(*) FROM item_tickers") == [(0,)]
    assert rows(known, "SELECT * FROM ticker_daily_sentiment ORDER BY day, ticker") == before
    assert len(known.alerts(include_hidden=True)) == 3
