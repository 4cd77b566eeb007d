"""``evaluate``: every enabled rule over newly stored items, one alert per story."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from thesiswatch.alerts.history import History, NewItem
from thesiswatch.alerts.ledger import AlertLedger, all_muted
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.alerts.story import story_alert, story_time
from thesiswatch.alerts.trends import drift_alerts, spike_alerts
from thesiswatch.clock import as_utc
from thesiswatch.records import SEVERITY_RANK, Alert


def evaluate(
    items: Sequence[NewItem], history: History, settings: RuleSettings, *, now: datetime
) -> list[Alert]:
    """Run every enabled rule over newly stored items; return the alerts to raise (most
    severe first). Deterministic: the same inputs give the same alerts and ids."""
    now = as_utc(now)
    ledger = AlertLedger(history.recent_alerts, settings, now)
    horizon = (
        now - timedelta(hours=settings.max_item_age_hours)
        if settings.max_item_age_hours > 0
        else datetime.min.replace(tzinfo=UTC)
    )
    items = list({it.id: it for it in items}.values())
    alerts: list[Alert] = []

    clusters: dict[str, list[NewItem]] = {}
    for it in sorted(items, key=lambda i: as_utc(i.published)):
        if as_utc(it.published) < horizon or all_muted(it.tags.ticker_ids, history, now):
            continue
        clusters.setdefault(it.cluster_id or it.id, []).append(it)
    for cluster_id, group in clusters.items():
        alert = story_alert(cluster_id, group, settings, history, ledger, now)
        if alert is not None and alert.id not in ledger.severity_by_id:
            ledger.add(alert, start=story_time(group, now))
            alerts.append(alert)
    if "spike" in settings.enabled:
        alerts.extend(spike_alerts(items, history, settings, ledger, now))
    if "drift" in settings.enabled:
        alerts.extend(drift_alerts(items, history, settings, ledger, now))
    order = {a.id: i for i, a in enumerate(alerts)}
    return sorted(alerts, key=lambda a: (-SEVERITY_RANK[a.severity], order[a.id]))
