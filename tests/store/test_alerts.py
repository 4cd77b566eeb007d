"""Alerts: stored once, hidden by the user's state, the delivery ledger, meta."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.store.sample import T0, make_alert
from thesiswatch.errors import StoreError
from thesiswatch.store import Store

FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def visible(store: Store, **kwargs: object) -> list[str]:
    return [a.id for a in store.alerts(**kwargs)]  # type: ignore[arg-type]


def test_save_alerts_returns_only_new_ones(store: Store) -> None:
    a1, a2 = make_alert("a1"), make_alert("a2", created=T0 + timedelta(minutes=1))
    assert store.save_alerts([a1, a1]) == [a1]
    assert store.save_alerts([a1, a2]) == [a2]
    assert visible(store) == ["a2", "a1"]
    assert store.alerts()[0].alert == a2
    assert store.alerts()[0].to_dict()["tickers"] == ["NVDA.US"]


def test_filters(store: Store) -> None:
    store.save_alerts(
        [
            make_alert("a1", tickers=("NVDA.US",), thesis="compute"),
            make_alert("a2", tickers=("1810.HK",), thesis="edge", created=T0 + timedelta(hours=1)),
        ]
    )
    assert visible(store, ticker="1810.HK") == ["a2"]
    assert visible(store, thesis="compute") == ["a1"]
    assert visible(store, since=T0 + timedelta(minutes=30)) == ["a2"]
    assert visible(store, limit=1) == ["a2"]


def test_ack_snooze_false_positive_hide(store: Store) -> None:
    store.save_alerts([make_alert("a1"), make_alert("a2"), make_alert("a3"), make_alert("a4")])
    store.set_alert_state("a1", acked=True)
    store.set_alert_state("a2", snoozed_until=FAR_FUTURE)
    store.set_alert_state("a3", false_positive=True)
    assert visible(store) == ["a4"]
    everything = {a.id: a for a in store.alerts(include_hidden=True)}
    assert everything["a1"].acked and everything["a3"].false_positive
    assert everything["a2"].snoozed_until == FAR_FUTURE
    store.set_alert_state("a1", acked=False)
    store.set_alert_state("a2", snoozed_until=None)  # unsnooze
    store.set_alert_state("a3", acked=True)  # leaves false_positive as it is
    assert visible(store) == ["a4", "a2", "a1"] or set(visible(store)) == {"a1", "a2", "a4"}
    assert store.alerts(include_hidden=True, thesis="compute")[0].id
    store.set_alert_state("a4", snoozed_until=LONG_AGO)  # a snooze that ended
    assert "a4" in visible(store)


def test_snooze_survives_an_ack_change(store: Store) -> None:
    store.save_alerts([make_alert("a1")])
    store.set_alert_state("a1", snoozed_until=FAR_FUTURE)
    store.set_alert_state("a1", acked=True)
    store.set_alert_state("a1", acked=False)
    assert store.alerts(include_hidden=True)[0].snoozed_until == FAR_FUTURE


def test_unknown_alert_state_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no alert"):
        store.set_alert_state("missing", acked=True)


def test_mute_hides_alerts_whose_tickers_are_all_muted(store: Store) -> None:
    store.save_alerts(
        [
            make_alert("only-nvda", tickers=("NVDA.US",)),
            make_alert("both", tickers=("NVDA.US", "AMD.US")),
            make_alert("none", tickers=()),
        ]
    )
    store.mute_ticker("NVDA.US", None)
    assert set(visible(store)) == {"both", "none"}
    assert store.muted_tickers() == {"NVDA.US": None}
    store.mute_ticker("NVDA.US", LONG_AGO)  # a mute that ended
    assert set(visible(store)) == {"only-nvda", "both", "none"}
    assert store.muted_tickers() == {}
    store.mute_ticker("NVDA.US", FAR_FUTURE)
    assert store.muted_tickers(LONG_AGO) == {"NVDA.US": FAR_FUTURE}
    store.unmute_ticker("NVDA.US")
    assert len(visible(store)) == 3


def test_delivery_ledger(store: Store) -> None:
    store.save_alerts([make_alert("a1")])
    store.record_delivery(
        alert_id="a1",
        channel="webhook:ops",
        status="failed",
        attempt=1,
        http_status=500,
        error="HTTP 500",
    )
    store.record_delivery(
        alert_id="a1",
        channel="webhook:ops",
        status="sent",
        attempt=2,
        http_status=200,
        vendor_code="ok",
    )
    ledger = store.deliveries("a1")
    assert [(d["status"], d["attempt"], d["http_status"]) for d in ledger] == [
        ("failed", 1, 500),
        ("sent", 2, 200),
    ]


def test_meta(store: Store) -> None:
    assert store.meta_get("last_seen_alerts") is None
    store.meta_set("last_seen_alerts", "x")
    store.meta_set("last_seen_alerts", "y")
    assert store.meta_get("last_seen_alerts") == "y"


def test_export_alerts(store: Store) -> None:
    store.save_alerts([make_alert("a1"), make_alert("a2", created=T0 - timedelta(days=1))])
    exported = list(store.export_alerts())
    assert [a["id"] for a in exported] == ["a2", "a1"]
    assert set(exported[0]) >= {
        "id",
        "created",
        "rule",
        "severity",
        "title",
        "message",
        "url",
        "tickers",
        "thesis",
        "stance",
        "item_ids",
    }
    assert [a["id"] for a in store.export_alerts(since=T0)] == ["a1"]
