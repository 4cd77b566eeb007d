"""``replay`` (``thesiswatch rules test``): what the rules would have raised over stored
items, as if they had arrived in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from thesiswatch.alerts.engine import evaluate
from thesiswatch.alerts.history import History, NewItem
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.clock import as_utc
from thesiswatch.records import Alert


def replay(
    items: Sequence[NewItem],
    settings: RuleSettings,
    *,
    batch: timedelta = timedelta(minutes=10),
    rules: Iterable[str] | None = None,
) -> list[Alert]:
    """What the rules would have raised over stored items, oldest first, as if they had arrived
    in batches of ``batch`` (the poll interval). Mention and evidence statistics are rebuilt
    from the items themselves, so spike and drift replay too. ``rules`` limits the rules run
    (e.g. ``["keyword"]``). Alerts are stamped with the time of their batch."""
    if rules is not None:
        settings = replace(settings, enabled=frozenset(rules))
    ordered = sorted(items, key=lambda it: as_utc(it.published))
    raised: list[Alert] = []
    hourly: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    daily: dict[str, dict[date | str, float]] = defaultdict(lambda: defaultdict(float))
    mentions: list[tuple[datetime, str]] = []
    first: datetime | None = None
    i = 0
    while i < len(ordered):
        start = as_utc(ordered[i].published)
        first = first or start
        end = start + batch
        chunk = []
        while i < len(ordered) and as_utc(ordered[i].published) < end:
            chunk.append(ordered[i])
            i += 1
        now = as_utc(chunk[-1].published)
        window_start = now - timedelta(minutes=settings.spike_window_minutes)
        base_end = window_start.replace(minute=0, second=0, microsecond=0)
        hours = [base_end - timedelta(hours=h) for h in range(settings.spike_baseline_hours, 0, -1)]
        history = History(
            recent_alerts=raised[-500:],
            mentions_window=_count_window(mentions, window_start, now),
            mentions_hourly={t: [hourly[t].get(h, 0) for h in hours] for t in hourly},
            baseline_hours=min(
                settings.spike_baseline_hours, int((window_start - first).total_seconds() // 3600)
            ),
            thesis_daily={t: dict(d) for t, d in daily.items()},
        )
        raised.extend(evaluate(chunk, history, settings, now=now))
        for it in chunk:
            when = as_utc(it.published)
            for t in it.tags.ticker_ids:
                hourly[t][when.replace(minute=0, second=0, microsecond=0)] += 1
                mentions.append((when, t))
            for st in it.tags.theses:
                daily[st.thesis][when.date()] += 1.0 if st.stance == "support" else -1.0
    return raised


def _count_window(
    mentions: Sequence[tuple[datetime, str]], start: datetime, end: datetime
) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for when, ticker in reversed(mentions):
        if when <= start:
            break
        if when <= end:
            counts[ticker] += 1
    return dict(counts)
