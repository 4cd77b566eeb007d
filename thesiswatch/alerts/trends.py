"""Trend rules over history: ``spike`` (mentions far above their trailing baseline) and
``drift`` (a thesis's net evidence flips or crosses a threshold)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from thesiswatch.alerts.history import History, NewItem
from thesiswatch.alerts.ledger import AlertLedger, alert_id, all_muted, unique
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.clock import as_utc, iso_seconds
from thesiswatch.records import Alert, Severity


def spike_alerts(
    items: Sequence[NewItem], history: History, s: RuleSettings, ledger: AlertLedger, now: datetime
) -> list[Alert]:
    if history.baseline_hours < s.spike_min_baseline_hours:
        return []
    start = now - timedelta(minutes=s.spike_window_minutes)
    in_window: dict[str, list[NewItem]] = defaultdict(list)
    for it in items:
        if start < min(as_utc(it.published), now) <= now:
            for t in it.tags.ticker_ids:
                in_window[t].append(it)
    out = []
    for ticker, new in in_window.items():
        if all_muted((ticker,), history, now):
            continue
        count = history.mentions_window.get(ticker, 0)
        if not history.includes_items:
            count += len(new)
        hourly = list(history.mentions_hourly.get(ticker, ()))[-history.baseline_hours :]
        hourly = [0] * (history.baseline_hours - len(hourly)) + hourly
        scale = s.spike_window_minutes / 60
        median = statistics.median(hourly) if hourly else 0.0
        mad = statistics.median([abs(h - median) for h in hourly]) if hourly else 0.0
        spread = max(1.4826 * mad, 1.0)
        threshold = max(float(s.spike_min_count), (median + s.spike_factor * spread) * scale)
        if count < threshold:
            continue
        sev: Severity = (
            "critical" if count >= 2 * threshold and count >= 3 * s.spike_min_count else "warning"
        )
        if ledger.cooled("spike", (ticker,), None, sev):
            continue
        bucket = now.replace(minute=0, second=0, microsecond=0)
        latest = max(new, key=lambda it: it.published)
        alert = Alert(
            id=alert_id("spike", "", f"{ticker}:{bucket.isoformat()}"),
            created=iso_seconds(now),
            rule="spike",
            severity=sev,
            title=f"{ticker}: {count} mentions in the last {s.spike_window_minutes} min",
            message=(
                f"spike: {count} items about {ticker} in the last {s.spike_window_minutes} min; "
                f"threshold {threshold:.1f} = max(min count {s.spike_min_count}, "
                f"median {median:g}/h + {s.spike_factor:g} x max(1.4826 x MAD {mad:g}, 1)) "
                f"over the previous {history.baseline_hours} h. Latest: {latest.title}"
                + (f" ({latest.source})" if latest.source else "")
            ),
            url=latest.url,
            tickers=(ticker,),
            item_ids=tuple(it.id for it in new),
        )
        if alert.id in ledger.severity_by_id:
            continue
        ledger.add(alert)
        out.append(alert)
    return out


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def drift_alerts(
    items: Sequence[NewItem], history: History, s: RuleSettings, ledger: AlertLedger, now: datetime
) -> list[Alert]:
    today = now.date()
    new_by_thesis: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    touched: dict[str, list[NewItem]] = defaultdict(list)
    for it in items:
        day = min(as_utc(it.published), now).date()
        for st in it.tags.theses:
            new_by_thesis[st.thesis][day] += 1.0 if st.stance == "support" else -1.0
            touched[st.thesis].append(it)
    out = []
    for thesis, new in new_by_thesis.items():
        before: dict[date, float] = defaultdict(float)
        for key, net in history.thesis_daily.get(thesis, {}).items():
            before[_day(key)] += net
        if history.includes_items:
            for day, net in new.items():
                before[day] -= net
        after = defaultdict(float, before)
        for day, net in new.items():
            after[day] += net

        def window(daily: Mapping[date, float], end: date) -> float:
            first = end - timedelta(days=s.drift_window_days - 1)
            return sum(v for d, v in daily.items() if first <= d <= end)

        ref = window(before, today - timedelta(days=1))
        prev = window(before, today)
        cur = window(after, today)
        event = None
        if (
            ref != 0
            and cur * ref < 0
            and abs(cur) >= s.drift_min_net
            and not (prev * cur > 0 and abs(prev) >= s.drift_min_net)
        ):
            event = "flip"
        elif abs(prev) < s.drift_threshold <= abs(cur):
            event = "cross"
        if event is None:
            continue
        negative = cur < 0
        bad = not negative if thesis == "risk" else negative
        sev: Severity = "warning" if bad else "info"
        if ledger.cooled("drift", (), thesis, sev):
            continue
        direction = "negative" if negative else "positive"
        what = (
            f"flipped {direction} against yesterday's window ({ref:+g})"
            if event == "flip"
            else f"crossed {'-' if negative else '+'}{s.drift_threshold:g}"
        )
        contributors = touched[thesis]
        alert = Alert(
            id=alert_id("drift", "", f"{thesis}:{event}:{direction}:{today.isoformat()}"),
            created=iso_seconds(now),
            rule="drift",
            severity=sev,
            title=f"Thesis {thesis}: net evidence {what} ({prev:+g} -> {cur:+g})",
            message=(
                f"drift: net evidence on {thesis} (supporting minus challenging items over "
                f"{s.drift_window_days} days) went {prev:+g} -> {cur:+g} and {what}. "
                f"Latest: {contributors[-1].title}"
            ),
            url=contributors[-1].url,
            tickers=unique(t for it in contributors for t in it.tags.ticker_ids),
            thesis=thesis,
            stance="challenge" if negative else "support",
            item_ids=tuple(dict.fromkeys(it.id for it in contributors)),
        )
        if alert.id in ledger.severity_by_id:
            continue
        ledger.add(alert)
        out.append(alert)
    return out
