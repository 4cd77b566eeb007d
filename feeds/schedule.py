"""When to poll a source next: interval with jitter, server hints, adaptive slow-down, backoff.

Pure functions over numbers and datetimes; ``feeds.fetch`` calls them with what a response
said. The rules:

- success: ``max(floor, source interval, Cache-Control max-age, <ttl>, adaptive)``, where
  server hints and the adaptive estimate are bounded by ``ceiling``; plus up to ``jitter`` of
  that (never less), so sources configured alike drift apart;
- adaptive: a feed whose entries arrive rarely (judged from the entries' own dates) is polled
  less, at most every ``ceiling``; a busy feed falls back to its configured interval;
- 429/503 with Retry-After: wait what the server asked, at most ``retry_after_cap``;
- any other failure: ``backoff_base * 2**(failures-1)`` capped at ``backoff_cap``; never
  gives up, so a source that recovers is picked up again.

>>> policy = SchedulePolicy(jitter=0.0)
>>> backoff_delay(1, policy), backoff_delay(3, policy), backoff_delay(50, policy)
(60.0, 240.0, 3600.0)
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "SchedulePolicy",
    "adaptive_interval",
    "backoff_delay",
    "failure_delay",
    "parse_max_age",
    "parse_retry_after",
    "success_interval",
]


@dataclass(frozen=True, kw_only=True)
class SchedulePolicy:
    """Bounds of the schedule, in seconds."""

    floor: float = 30.0  # never poll a source more often than this (config.MIN_INTERVAL)
    ceiling: float = 6 * 3600.0  # server hints and the adaptive estimate never stretch past this
    jitter: float = 0.1  # add up to this fraction of the interval
    backoff_base: float = 60.0
    backoff_cap: float = 3600.0
    retry_after_cap: float = 6 * 3600.0
    blocked_min_delay: float = 600.0  # after an anti-bot / rate-limit page (SEC locks for 10 min)
    adaptive_divisor: float = 4.0  # poll about this many times per typical gap between entries
    adaptive_factor: float = 4.0  # a quiet feed is polled at most this many times less often


_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def parse_max_age(cache_control: str | None) -> float | None:
    """Seconds from a Cache-Control header (``s-maxage`` wins over ``max-age``), or None.

    >>> parse_max_age("public, max-age=300"), parse_max_age("no-store"), parse_max_age(None)
    (300.0, None, None)
    """
    if not cache_control:
        return None
    found = {name.lower(): float(value) for name, value in _MAX_AGE.findall(cache_control)}
    value = found.get("s-maxage", found.get("max-age"))
    return value


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None.

    >>> parse_retry_after("120", datetime(2025, 1, 1, tzinfo=UTC))
    120.0
    >>> parse_retry_after("Wed, 01 Jan 2025 00:02:00 GMT", datetime(2025, 1, 1, tzinfo=UTC))
    120.0
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def adaptive_interval(
    published: Iterable[datetime | None], now: datetime, base: float, policy: SchedulePolicy
) -> float:
    """How often a feed deserves polling, judged from its entries' dates.

    The typical gap is the larger of the mean gap between the newest entries and the age of
    the newest one (a feed that has been silent for a week is not busy, whatever its history);
    the interval is that gap over ``adaptive_divisor``, within ``[base, adaptive_factor x base]``
    (and never past ``ceiling``): a quiet source still gets polled often enough that a sudden
    burst of news about it alerts within minutes, not hours. A feed without dated entries
    keeps ``base``.

    >>> now = datetime(2025, 1, 10, tzinfo=UTC)
    >>> weekly = [now - timedelta(days=7 * i + 1) for i in range(5)]
    >>> adaptive_interval(weekly, now, 600, SchedulePolicy())
    2400.0
    >>> busy = [now - timedelta(minutes=5 * i) for i in range(20)]
    >>> adaptive_interval(busy, now, 600, SchedulePolicy())
    600.0
    """
    base = float(max(base, policy.floor))
    dates = sorted(
        (d for d in published if d is not None and d <= now + timedelta(hours=1)), reverse=True
    )
    if not dates:
        return base
    newest = dates[:10]
    age = max(0.0, (now - newest[0]).total_seconds())
    mean_gap = (
        (newest[0] - newest[-1]).total_seconds() / (len(newest) - 1) if len(newest) > 1 else age
    )
    gap = max(mean_gap, age)
    stretch = max(base, min(policy.ceiling, base * policy.adaptive_factor))
    return min(max(base, gap / policy.adaptive_divisor), stretch)


def _jittered(interval: float, policy: SchedulePolicy, rng: random.Random) -> float:
    return interval + rng.uniform(0.0, policy.jitter * interval) if policy.jitter > 0 else interval


def success_interval(
    *,
    base: float,
    policy: SchedulePolicy,
    max_age: float | None = None,
    ttl_minutes: float | None = None,
    adaptive: float | None = None,
    rng: random.Random,
) -> tuple[float, float]:
    """``(interval in force, delay until the next poll)`` after a good response (200 or 304).

    The interval in force (without jitter) is what the store keeps as ``FetchState.interval``.

    >>> success_interval(base=600, policy=SchedulePolicy(jitter=0), max_age=10**9, rng=random.Random(0))
    (21600.0, 21600.0)
    """
    interval = max(policy.floor, float(base))
    bound = max(interval, policy.ceiling)
    for hint in (max_age, ttl_minutes * 60 if ttl_minutes else None, adaptive):
        if hint is not None and hint > interval:
            interval = min(hint, bound)
    return interval, _jittered(interval, policy, rng)


def backoff_delay(failures: int, policy: SchedulePolicy) -> float:
    """Exponential backoff after ``failures`` consecutive failures (>= 1), capped."""
    exponent = min(max(failures, 1) - 1, 30)
    return float(min(policy.backoff_cap, policy.backoff_base * (2**exponent)))


def failure_delay(
    failures: int,
    policy: SchedulePolicy,
    *,
    retry_after: float | None = None,
    blocked: bool = False,
    rng: random.Random,
) -> float:
    """Delay until the next attempt after a failure.

    Retry-After (capped) is honoured when given; otherwise exponential backoff. A source that
    answered an anti-bot or rate-limit page waits at least ``blocked_min_delay``. Never less
    than ``floor``.
    """
    delay = backoff_delay(failures, policy)
    if retry_after is not None:
        delay = max(min(retry_after, policy.retry_after_cap), policy.floor)
        return delay  # the server said when; no jitter needed, and none before that moment
    if blocked:
        delay = max(delay, policy.blocked_min_delay)
    return max(policy.floor, _jittered(delay, policy, rng))
