"""What the rules read: the new items (``NewItem``) and the past (``History``), the latter
through ``HistorySource``, a typed protocol the store implements (``thesiswatch.store.Store``).
No SQL here: the statements live with the schema, in the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from thesiswatch.alerts.settings import DEFAULT_COOLDOWNS, RuleSettings
from thesiswatch.clock import as_utc
from thesiswatch.records import Alert
from thesiswatch.signals.models import Sentiment, Tags

if TYPE_CHECKING:
    from thesiswatch.store.models import StoredItem


class HistorySource(Protocol):
    """The statistics the rules need, as the store answers them (``thesiswatch.store.Store``)."""

    def recent_alerts(self, since: datetime, *, limit: int = ...) -> Sequence[Alert]: ...

    def mention_counts(self, start: datetime, end: datetime) -> Mapping[str, int]: ...

    def hourly_mention_counts(
        self, start: datetime, end: datetime
    ) -> Sequence[tuple[str, int, int]]: ...

    def first_fetched(self) -> datetime | None: ...

    def thesis_daily_net(self, since: date) -> Mapping[str, Mapping[str, float]]: ...

    def muted_tickers(self, now: datetime | None = None) -> Mapping[str, datetime | None]: ...


@dataclass(frozen=True, kw_only=True)
class NewItem:
    """An item just stored, with its tags and story cluster."""

    id: str
    title: str
    url: str = ""
    source: str = ""
    lang: str = "en"
    published: datetime
    tags: Tags
    cluster_id: str
    summary: str = ""

    @classmethod
    def from_stored(cls, stored: StoredItem) -> NewItem:
        """From a stored item, e.g. to ``replay`` history."""
        sentiment = stored.sentiment or Sentiment(label="neu", score=0.0)
        lang = stored.lang or "en"
        return cls(
            id=stored.id,
            title=stored.title,
            summary=stored.summary or "",
            url=stored.url or "",
            source=stored.sources[0] if stored.sources else "",
            lang=lang,
            published=as_utc(stored.published or stored.fetched),
            tags=Tags(
                lang=lang,
                tickers=tuple(stored.mentions),
                theses=tuple(stored.stances),
                sentiment=sentiment,
                events=tuple(stored.events),
                relevance=tuple(stored.relevance.items()),
                by_ticker=tuple(stored.by_ticker.items()),
            ),
            cluster_id=stored.cluster_id or stored.id,
        )


@dataclass(frozen=True, kw_only=True)
class History:
    """What the rules need to know about the past, as plain data read from the store.

    ``recent_alerts``: alerts of at least the longest cooldown (and a day or two) back, for
    cooldown and "already raised".
    ``mentions_window``: per ticker, items mentioning it in ``(now - spike window, now]``.
    ``mentions_hourly``: per ticker, items per hour for the ``baseline_hours`` hours before that
    window, oldest first (missing tickers and missing leading hours count as zero).
    ``thesis_daily``: per thesis, per UTC day (``date`` or ``"YYYY-MM-DD"``), net evidence =
    supporting minus challenging items, covering at least ``drift_window_days + 1`` days.
    ``muted``: tickers muted by the user, with the end of the mute (None = until unmuted).
    ``includes_items``: True when the counts above already include the items being
    evaluated (the pipeline stores items before it runs the rules); they are then taken out
    for "before" and not counted twice.
    """

    recent_alerts: Sequence[Alert] = ()
    mentions_window: Mapping[str, int] = field(default_factory=dict)
    mentions_hourly: Mapping[str, Sequence[int]] = field(default_factory=dict)
    baseline_hours: int = 0
    thesis_daily: Mapping[str, Mapping[date | str, float]] = field(default_factory=dict)
    muted: Mapping[str, datetime | None] = field(default_factory=dict)
    includes_items: bool = False

    @classmethod
    def empty(cls) -> History:
        return cls()

    @classmethod
    def from_store(cls, store: HistorySource, *, now: datetime, settings: RuleSettings) -> History:
        """Read the statistics the rules need from the store (which already holds the items
        about to be evaluated: ``includes_items=True``); see ``read_history``."""
        return read_history(store, now=now, settings=settings)


def read_history(source: HistorySource, *, now: datetime, settings: RuleSettings) -> History:
    """One read of each statistic (the store already holds the items about to be evaluated:
    ``includes_items=True``)."""
    now = as_utc(now)
    longest = max([*settings.cooldown_minutes.values(), *DEFAULT_COOLDOWNS.values()])
    recent = source.recent_alerts(now - timedelta(minutes=longest) - timedelta(days=2), limit=2000)
    window_start = now - timedelta(minutes=settings.spike_window_minutes)
    base_start = window_start - timedelta(hours=settings.spike_baseline_hours)
    mentions_window = dict(source.mention_counts(window_start, now))
    hours = settings.spike_baseline_hours
    hourly: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    for ticker, ago, n in source.hourly_mention_counts(base_start, window_start):
        if 0 <= ago < hours:
            hourly[ticker][hours - 1 - ago] += n
    first = source.first_fetched()
    watched = (window_start - as_utc(first)).total_seconds() / 3600 if first else 0
    first_day = now.date() - timedelta(days=settings.drift_window_days + 1)
    daily: dict[str, dict[date | str, float]] = {
        thesis: {day: net for day, net in days.items()}
        for thesis, days in source.thesis_daily_net(first_day).items()
    }
    return History(
        recent_alerts=list(recent),
        mentions_window=mentions_window,
        mentions_hourly=dict(hourly),
        baseline_hours=max(0, min(hours, int(watched))),
        thesis_daily=daily,
        muted=dict(source.muted_tickers(now)),
        includes_items=True,
    )
