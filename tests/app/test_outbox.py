"""Alerts never lost, never sent twice: fault injection at every commit boundary of the
pipeline (after items, after alerts, after the commit, mid-delivery), then a restart; the
outbox's per-destination state, giving up, reloads and a bounded shutdown.

No wall-clock limits: the clock is injected and crashes are raised by hooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FixtureServer
from thesiswatch.alerts.dispatch import Dispatcher
from thesiswatch.alerts.sinks import Delivery, JsonlSink
from thesiswatch.alerts.sinks.base import deliveries
from thesiswatch.config import load_settings
from thesiswatch.feeds.models import Source
from thesiswatch.output import write_dead_deliveries
from thesiswatch.records import Alert
from thesiswatch.runtime import build_pipeline
from thesiswatch.store import Store
from thesiswatch.watchlists import load_watchlist

NOW = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
WATCHLIST = load_watchlist()

ENTRIES = [
    ("Nvidia shares plunge 17% as DeepSeek rattles the AI trade", "https://wire.example.com/a"),
    ("TSMC cuts its full-year revenue guidance", "https://wire.example.com/b"),
    ("Xiaomi recalls 30,000 SU7 cars over a braking fault", "https://wire.example.com/c"),
    ("英伟达股价大跌17%", "https://wire.example.com/d"),
    ("US tightens export controls on Nvidia H20 chips to China", "https://wire.example.com/e"),
]


def rss(entries: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>Mon, 27 Jan 2025 14:{i:02d}:00 +0000</pubDate></item>"
        for i, (title, link) in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://wire.example.com/</link>{items}</channel></rss>"
    ).encode()


class Crash(BaseException):
    """What kill -9 does to the code after the hook: nothing more runs (the open transaction
    is rolled back, as SQLite does for an uncommitted one)."""


class Receiver:
    """A destination that records every alert it is sent (a de-duplicating receiver keeps
    the set of ids); ``fail`` makes every attempt a retryable failure."""

    def __init__(self, name: str = "rec", *, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.received: list[str] = []

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if self.fail:
            return deliveries(alerts, self.name, "failed", error="HTTP 503", retryable=True)
        self.received.extend(a.id for a in alerts)
        return deliveries(alerts, self.name, "sent")


def run_once(
    db: Path,
    server: FixtureServer,
    jsonl: Path,
    receiver: Receiver,
    *,
    crash_at: str | None = None,
) -> None:
    """One life of the daemon: resume the outbox, poll once, close; ``crash_at`` raises
    ``Crash`` at that point (the process dies there)."""
    store = Store.open(db)
    settings = load_settings(db_path=db, env={})
    source = Source(name="Wire", url=server.url("wire.xml"), interval=600)
    pipeline = build_pipeline(
        settings,
        store,
        WATCHLIST,
        sources=[source],
        alerts_jsonl=jsonl,
        extra_sinks=[receiver],
        clock=lambda: NOW,
    )
    assert pipeline.dispatcher is not None
    pipeline.dispatcher.backoff = 0.001

    def hook(point: str) -> None:
        if point == crash_at:
            raise Crash(point)

    pipeline.fault = hook
    pipeline.dispatcher.fault = hook

    async def life() -> None:
        try:
            await pipeline.resume_outbox()
            await pipeline.poll_once()
        finally:
            # a crash mid-delivery leaves the worker dead: close without waiting for it
            await pipeline.aclose(grace=0.0 if crash_at else None)

    try:
        asyncio.run(life())
    except Crash:
        pass
    finally:
        store.close()


def jsonl_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def check(db: Path, jsonl: Path, receiver: Receiver, expected: set[str]) -> None:
    with Store.open(db) as store:
        ids = [a.id for a in store.alerts(include_hidden=True, limit=1000)]
        assert sorted(ids) == sorted(expected)  # every alert raised exactly once
        assert store.outbox() == []  # nothing owed
        assert store.outbox(status="dead") == []
        assert store.query("PRAGMA integrity_check")[1] == [("ok",)]
    written = jsonl_ids(jsonl)
    assert sorted(written) == sorted(expected)  # the JSONL sink de-duplicates itself
    assert set(receiver.received) == expected  # every destination: each at least once


@pytest.fixture
def wire(feed_server: FixtureServer) -> FixtureServer:
    feed_server.overrides["wire.xml"] = (200, "application/rss+xml", rss(ENTRIES))
    return feed_server


@pytest.fixture
def clean(tmp_path: Path, wire: FixtureServer) -> set[str]:
    """The alerts of a run that was never interrupted."""
    receiver = Receiver()
    run_once(tmp_path / "clean.db", wire, tmp_path / "clean.jsonl", receiver)
    with Store.open(tmp_path / "clean.db") as store:
        ids = {a.id for a in store.alerts(include_hidden=True, limit=1000)}
    assert len(ids) >= 2
    assert sorted(receiver.received) == sorted(ids)
    return ids


@pytest.mark.parametrize("point", ["items", "alerts", "committed", "delivered"])
def test_a_crash_at_any_boundary_loses_and_duplicates_nothing(
    tmp_path: Path, wire: FixtureServer, clean: set[str], point: str
) -> None:
    db, jsonl, receiver = tmp_path / "tw.db", tmp_path / "alerts.jsonl", Receiver()
    run_once(db, wire, jsonl, receiver, crash_at=point)
    with Store.open(db) as store:
        raised = {a.id for a in store.alerts(include_hidden=True, limit=1000)}
        pending = store.outbox()
    if point in ("items", "alerts"):
        assert raised == set() and pending == []  # the whole batch rolled back
    else:
        assert raised == clean and pending  # committed, owed to the destinations
    run_once(db, wire, jsonl, receiver)  # the restart
    check(db, jsonl, receiver, clean)
    if point == "delivered":  # sent once before the crash, once after: the receiver dedups
        assert len(receiver.received) >= len(clean)


def test_one_dead_destination_neither_repeats_nor_blocks_another(tmp_path: Path) -> None:
    good, dead = Receiver("good"), Receiver("dead", fail=True)
    alerts = [alert(i) for i in range(3)]
    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts(alerts, destinations=["good", "dead"])
        d = Dispatcher(
            [good, dead], ledger=store.record_delivery, backoff=0.001, retries=4, wait=True
        )
        asyncio.run(d.dispatch(alerts))
        assert sorted(good.received) == sorted(a.id for a in alerts)  # once each
        by_status = {(e.destination, e.status) for e in store.outbox(status="delivered")}
        assert by_status == {("good", "delivered")}
        gone = store.outbox(status="dead")
        assert {(e.destination, e.attempts) for e in gone} == {("dead", 5)}
        assert all(e.error == "HTTP 503" for e in gone)


def alert(i: int) -> Alert:
    return Alert(
        id=f"alert{i}",
        created="2025-01-27T15:00:00+00:00",
        rule="event:guidance_cut",
        severity="critical",
        title=f"Alert {i}",
        message="why",
    )


def test_rows_give_up_after_the_age_limit_on_the_injected_clock(tmp_path: Path) -> None:
    now = [NOW]
    dead = Receiver("dead", fail=True)
    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts([alert(1)], destinations=["dead"])
        attempts: list[int] = []

        def ledger(**kw: object) -> None:
            attempts.append(int(kw["attempt"]))  # type: ignore[call-overload]
            now[0] += timedelta(hours=13)  # each attempt "takes" 13 hours
            store.record_delivery(**kw)  # type: ignore[arg-type]

        d = Dispatcher([dead], ledger=ledger, backoff=0.001, clock=lambda: now[0], wait=True)
        [final] = asyncio.run(d.dispatch([alert(1)]))
        assert final.status == "failed"
        assert attempts == [1, 2, 3]  # 0 h, 13 h, 26 h >= 24 h: given up, not 20 attempts
        [row] = store.outbox(status="dead")
        out = __import__("io").StringIO()
        write_dead_deliveries([row], out)
        assert "1 deliveries given up (dead)" in out.getvalue() and "dead" in out.getvalue()


def test_pending_rows_are_sent_after_a_restart_and_removed_destinations_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, wire: FixtureServer
) -> None:
    db = tmp_path / "tw.db"
    with Store.open(db) as store:
        store.save_alerts([alert(1), alert(2)], destinations=["rec", "gone"])
    receiver = Receiver()
    caplog.set_level("WARNING", logger="thesiswatch.pipeline")
    run_once(db, wire, tmp_path / "a.jsonl", receiver)
    assert {"alert1", "alert2"} <= set(receiver.received)
    assert "outbox.dropped destination=gone rows=2" in caplog.text
    assert "outbox.dropped destination=jsonl" not in caplog.text
    with Store.open(db) as store:
        assert store.outbox() == []
        # the JSONL sink was added after alert1 and alert2 were raised: it gets only new ones
        assert not {"alert1", "alert2"} & set(jsonl_ids(tmp_path / "a.jsonl"))


def test_shutdown_grace_leaves_a_long_retry_after_in_the_outbox(tmp_path: Path) -> None:
    class Throttled(Receiver):
        async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
            return deliveries(
                alerts, self.name, "failed", http_status=429, retryable=True, retry_after=120.0
            )

    sink = Throttled("hook")
    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts([alert(1)], destinations=["hook"])
        d = Dispatcher([sink], ledger=store.record_delivery, wait=False, grace=0.2)

        async def life() -> float:
            await d.dispatch([alert(1)])
            loop = asyncio.get_running_loop()
            start = loop.time()
            await d.aclose()
            return loop.time() - start

        took = asyncio.run(life())
        assert took < 60  # bounded by the grace (0.2 s), never the 120 s Retry-After
        [row] = store.outbox()
        assert row.destination == "hook" and row.attempts == 1 and row.http_status == 429


def test_jsonl_sink_writes_each_alert_id_once(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    asyncio.run(JsonlSink(path).deliver([alert(1), alert(2)]))
    asyncio.run(JsonlSink(path).deliver([alert(2), alert(3), alert(3)]))  # a restart
    assert jsonl_ids(path) == ["alert1", "alert2", "alert3"]


def test_a_reload_drops_the_rows_of_a_removed_destination(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from thesiswatch import daemon
    from thesiswatch.session import Session

    cfg = tmp_path / "my.toml"
    hook = '[[alerts.webhooks]]\nurl = "http://127.0.0.1:9/hook"\nname = "ops"\n'
    cfg.write_text(f'[alerts]\njsonl = "a.jsonl"\n\n{hook}', encoding="utf-8")
    session = Session()
    session.config, session.db = str(cfg), str(tmp_path / "tw.db")
    settings = session.settings()
    caplog.set_level("INFO", logger="thesiswatch")
    with Store.open(settings.db_path) as store:
        pipeline = build_pipeline(settings, store, WATCHLIST, sources=[])
        assert pipeline.dispatcher is not None
        assert pipeline.dispatcher.destinations == ["jsonl", "webhook:ops"]
        store.save_alerts([alert(1)], destinations=pipeline.dispatcher.destinations)

        async def life() -> None:
            cfg.write_text('[alerts]\njsonl = "a.jsonl"\n', encoding="utf-8")
            daemon._reload(pipeline, session, None, False)
            await asyncio.gather(*daemon._background)
            await pipeline.aclose(grace=5)

        asyncio.run(life())
        assert store.outbox() == []
        assert [(e.destination, e.alert.id) for e in store.outbox(status="delivered")] == [
            ("jsonl", "alert1")
        ]
    assert "outbox.dropped destination=webhook:ops rows=1" in caplog.text
    assert jsonl_ids(tmp_path / "a.jsonl") == ["alert1"]


def test_shutdown_waits_for_deliveries_in_flight_within_the_grace(tmp_path: Path) -> None:
    class Slow(Receiver):
        async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
            for a in alerts:  # one request per alert, as the webhook does
                await asyncio.sleep(0.05)
                self.received.append(a.id)
            return deliveries(alerts, self.name, "sent")

    sink = Slow("slow")
    alerts = [alert(i) for i in range(6)]
    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts(alerts, destinations=["slow"])
        d = Dispatcher([sink], ledger=store.record_delivery, wait=False, grace=60)

        async def life() -> None:
            await d.dispatch(alerts)
            await d.aclose()

        asyncio.run(life())
        assert sorted(sink.received) == sorted(a.id for a in alerts)
        assert store.outbox() == []


def test_outbox_settings_and_distinct_destination_names() -> None:
    from thesiswatch.alerts.sinks import build_sinks, dispatcher_options
    from thesiswatch.errors import ConfigError

    options = dispatcher_options({"give_up_hours": 2, "shutdown_grace_seconds": 0})
    assert options == {"give_up_after": 7200.0, "grace": 0.0}
    with pytest.raises(ConfigError, match=r"alerts.shutdown_grace_seconds: expected"):
        dispatcher_options({"shutdown_grace_seconds": -1})
    with pytest.raises(ConfigError, match=r"alerts.give_up_hours: expected"):
        dispatcher_options({"give_up_hours": 0})
    hooks = [{"url": "https://h.example.com/a/secret1"}, {"url": "https://h.example.com/b/secret2"}]
    names = [s.name for s in build_sinks({"webhooks": hooks})]
    assert names[0] == "webhook:h.example.com" and names[1].startswith("webhook:h.example.com#")
    assert "secret" not in names[1]


def test_shutdown_gives_a_hanging_receiver_only_the_grace(tmp_path: Path) -> None:
    class Hanging(Receiver):
        async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
            await asyncio.Event().wait()  # never answers
            return []

    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts([alert(1)], destinations=["hang"])
        d = Dispatcher([Hanging("hang")], ledger=store.record_delivery, wait=False, grace=0.2)

        async def life() -> None:
            await d.dispatch([alert(1)])
            await d.aclose()  # returns after the grace: no wall-clock assertion needed

        asyncio.run(life())
        [row] = store.outbox()
        assert row.destination == "hang" and row.attempts == 0
