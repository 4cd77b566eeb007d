"""Records the store hands out: a row dict never leaves ``store``, one of these does.

All frozen dataclasses; times are timezone-aware UTC ``datetime`` objects (alert ``created``
stays the string the rule engine gave). ``to_dict`` gives the JSON shapes of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from thesiswatch.records import Alert
from thesiswatch.signals.models import Event, Sentiment, ThesisStance, TickerMention


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveResult:
    """What ``Store.save_items`` did with a batch, by stored item id.

    ``new``: stored for the first time; ``updated``: already stored, title or summary changed
    (tags replaced); ``seen``: already stored and unchanged (possibly newly linked to another
    source). An item matched by canonical URL under another id is reported by its stored id.
    """

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredItem:
    """One item as stored, with its tags and the sources that carried it."""

    id: str
    title: str
    summary: str
    url: str
    lang: str | None
    published: datetime | None
    fetched: datetime
    sources: tuple[str, ...] = ()  # source names, first carrier first
    source_ids: tuple[str, ...] = ()
    label: str | None = None
    score: float | None = None
    evidence: tuple[str, ...] = ()  # sentiment evidence
    scorer: str | None = None
    scorer_version: str | None = None
    tickers: tuple[str, ...] = ()
    mentions: tuple[TickerMention, ...] = ()  # tickers with spans and matched text
    theses: dict[str, str] = field(default_factory=dict)  # thesis id -> stance
    stances: tuple[ThesisStance, ...] = ()  # theses with strength and evidence
    cluster_id: str | None = None
    updated: datetime | None = None  # last edit of the title or summary
    publisher: str | None = None  # the outlet behind an aggregator entry
    novelty: int | None = None  # 100 for the first item of its story, then 75, 56, ...
    events: tuple[Event, ...] = ()  # main event first
    relevance: dict[str, int] = field(default_factory=dict)  # every covered company named
    by_ticker: dict[str, Sentiment] = field(default_factory=dict)  # reading per tagged ticker

    @property
    def time(self) -> datetime:
        """The item's time: published, else fetched."""
        return self.published or self.fetched

    @property
    def sentiment(self) -> Sentiment | None:
        if self.label is None or self.score is None:
            return None
        return Sentiment(
            label=self.label,  # type: ignore[arg-type]
            score=self.score,
            evidence=self.evidence,
            scorer=self.scorer or "",
            version=self.scorer_version or "",
        )

    def to_dict(self) -> dict[str, object]:
        """The DESIGN.md tagged-item JSON shape, plus ``sources`` and ``fetched``."""
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "url": self.url,
            "source": self.sources[0] if self.sources else "",
            "published": _iso(self.published),
            "lang": self.lang,
            "sentiment": (
                {"label": self.label, "score": round(self.score, 3)}
                | (
                    {"by_ticker": {t: s.to_dict() for t, s in self.by_ticker.items()}}
                    if self.by_ticker
                    else {}
                )
                if self.label is not None and self.score is not None
                else None
            ),
            "tickers": list(self.tickers),
            "theses": dict(self.theses),
            "events": [e.to_dict() for e in self.events],
            "relevance": dict(self.relevance),
            "novelty": self.novelty,
            "sources": list(self.sources),
            "fetched": _iso(self.fetched),
            "publisher": self.publisher,
            "cluster_id": self.cluster_id,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAlert(Alert):
    """An alert as stored, with the user's state and how many sources carried its story."""

    acked: bool = False
    snoozed_until: datetime | None = None
    false_positive: bool = False
    source_count: int = 0

    @property
    def alert(self) -> Alert:
        """The plain alert, without the state (what the rules and the sinks take)."""
        return Alert(
            id=self.id,
            created=self.created,
            rule=self.rule,
            severity=self.severity,
            title=self.title,
            message=self.message,
            url=self.url,
            tickers=self.tickers,
            thesis=self.thesis,
            stance=self.stance,
            item_ids=self.item_ids,
        )

    def to_dict(self) -> dict[str, object]:
        """The DESIGN.md alert shape, plus the state fields and ``source_count``."""
        data = self.alert.to_dict()
        data.update(
            acked=self.acked,
            snoozed_until=_iso(self.snoozed_until),
            false_positive=self.false_positive,
            source_count=self.source_count,
        )
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceHealth:
    """A source's configuration and health, for ``sources list`` and the TUI."""

    source_id: str
    name: str
    url: str  # in use: after a permanent redirect, else configured
    active: bool
    status: str  # 'ok', 'failing', 'never polled', 'inactive'
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: str | None = None
    http_status: int | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    latency: float | None = None  # seconds
    next_poll: datetime | None = None
    items_seen: int = 0
    last_items: int | None = None
    interval: float | None = None  # the poll interval in force (adaptive, else configured), s


@dataclass(frozen=True, slots=True, kw_only=True)
class ThesisSummary:
    """Evidence about one thesis: counts over 24 h and 7 days, a 14-day net series."""

    thesis: str
    support_24h: int = 0
    challenge_24h: int = 0
    support_7d: int = 0
    challenge_7d: int = 0
    daily_net: tuple[tuple[str, int], ...] = ()  # (YYYY-MM-DD, support - challenge), oldest first
    latest_alert: StoredAlert | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreStats:
    """Figures for the status bar."""

    items_total: int
    items_today: int  # items whose time (published, else fetched) is today, UTC
    alerts_today: int
    last_poll: datetime | None
    failing_sources: int
    sources_active: int = 0
    overdue_sources: int = 0  # active sources nobody has polled for over twice their interval


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneResult:
    """What ``Store.prune`` removed; daily aggregates and alerts are kept."""

    items_deleted: int
    fetch_log_deleted: int
    bytes_before: int
    bytes_after: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """One outbox row: an alert still owed to (or given up on for) one destination."""

    alert: Alert
    destination: str
    status: str  # pending | delivered | dead
    attempts: int
    created: datetime
    error: str | None = None
    http_status: int | None = None
