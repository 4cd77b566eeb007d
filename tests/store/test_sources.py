"""Sources and their health: sync, fetch outcomes, conditional-GET state."""

from __future__ import annotations

from datetime import timedelta

from tests.store.sample import SRC_A, SRC_B, T0, make_item, make_tags
from thesiswatch.feeds.models import FetchOutcome, Source
from thesiswatch.store import Store


def test_sync_marks_dropped_sources_inactive_and_keeps_them(store: Store) -> None:
    renamed = Source(name="Wire A (renamed)", url=SRC_A.url, interval=300, tickers=("NVDA.US",))
    store.sync_sources([renamed])
    health = {h.source_id: h for h in store.source_health()}
    assert health[SRC_A.id].name == "Wire A (renamed)" and health[SRC_A.id].active
    assert not health[SRC_B.id].active and health[SRC_B.id].status == "inactive"
    store.sync_sources([SRC_A, SRC_B])
    assert all(h.active for h in store.source_health())


def test_record_fetch_updates_health_and_state(store: Store) -> None:
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id,
            status="ok",
            http_status=200,
            etag='W/"abc"',
            last_modified="Mon, 27 Jan 2025 14:30:00 GMT",
            latency=0.5,
            bytes=1234,
            started=T0,
            next_poll=T0 + timedelta(minutes=10),
            items=(make_item("x", "t"),),
            interval=600.0,
        )
    )
    state = store.fetch_states()[SRC_A.id]
    assert (state.etag, state.last_modified) == ('W/"abc"', "Mon, 27 Jan 2025 14:30:00 GMT")
    assert state.last_success == T0 and state.next_poll == T0 + timedelta(minutes=10)
    assert state.interval == 600.0 and state.consecutive_failures == 0
    # a 304 without validators keeps them; with new ones, takes them verbatim
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id,
            status="not_modified",
            http_status=304,
            started=T0 + timedelta(minutes=10),
        )
    )
    assert store.fetch_states()[SRC_A.id].etag == 'W/"abc"'
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id,
            status="not_modified",
            http_status=304,
            etag='"new"',
            started=T0 + timedelta(minutes=20),
        )
    )
    assert store.fetch_states()[SRC_A.id].etag == '"new"'
    # failures count up, keep validators, then a permanent redirect moves the URL
    for n in range(2):
        store.record_fetch(
            FetchOutcome(
                source_id=SRC_A.id,
                status="failed",
                error="timed out",
                started=T0 + timedelta(minutes=30 + n),
            )
        )
    state = store.fetch_states()[SRC_A.id]
    assert state.consecutive_failures == 2 and state.last_error == "timed out"
    assert state.etag == '"new"' and state.last_success == T0 + timedelta(minutes=20)
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id,
            status="ok",
            http_status=200,
            final_url="https://a.example/new-rss",
            started=T0 + timedelta(hours=1),
        )
    )
    state = store.fetch_states()[SRC_A.id]
    assert state.url == "https://a.example/new-rss" and state.consecutive_failures == 0
    assert state.last_error is None and state.etag is None
    health = next(h for h in store.source_health() if h.source_id == SRC_A.id)
    assert health.url == "https://a.example/new-rss" and health.items_seen == 1
    assert health.status == "ok"
    assert store.query("SELECT count(*), sum(status = 'failed') FROM fetch_log")[1] == [(6, 2)]


def test_fetcher_failure_count_is_taken_when_given(store: Store) -> None:
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id, status="failed", error="x", consecutive_failures=7, started=T0
        )
    )
    assert store.fetch_states()[SRC_A.id].consecutive_failures == 7


def test_unknown_source_gets_a_placeholder(store: Store) -> None:
    store.save_items(
        [(make_item("x", "t", source=Source(name="?", url="https://c.example")), make_tags())]
    )
    store.record_fetch(FetchOutcome(source_id="zzz", status="ok", started=T0))
    ids = {h.source_id: h for h in store.source_health()}
    assert "zzz" in ids and not ids["zzz"].active


def test_a_source_nobody_polls_reads_overdue_past_twice_its_interval(store: Store) -> None:
    store.record_fetch(
        FetchOutcome(
            source_id=SRC_A.id,
            status="ok",
            http_status=200,
            latency=0.1,
            started=T0,
            next_poll=T0 + timedelta(seconds=600),
            interval=600.0,
        )
    )

    def status(now_after: timedelta) -> str:
        health = {h.source_id: h for h in store.source_health(T0 + now_after)}
        return health[SRC_A.id].status

    assert status(timedelta(seconds=1260)) == "ok"  # 2 x 600 s + 60 s: not yet
    assert status(timedelta(seconds=1261)) == "overdue"
    assert store.overdue_sources(T0 + timedelta(seconds=1261)) == 1
    assert store.stats(T0 + timedelta(seconds=1261)).overdue_sources == 1
    assert {h.status for h in store.source_health()} <= {"ok", "never polled"}  # no clock
