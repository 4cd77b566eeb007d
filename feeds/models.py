"""Records that cross the feeds boundary: sources, fetch state and outcomes, and items.

A ``FeedParserDict`` never leaves ``feeds.parse``; what leaves this package is one of these
frozen dataclasses. Times are timezone-aware UTC ``datetime`` objects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SourceKind = Literal["feed", "json"]
FetchStatus = Literal["ok", "not_modified", "failed"]


def source_id_for(url: str) -> str:
    """Stable id of a source: a short hash of its URL (the name may be edited freely)."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonMapping:
    """Field mapping for a JSON news API source (``kind = "json"``).

    Each value is a dotted path into the JSON document, e.g. ``items = "data.list"`` and
    ``title = "headline"`` (paths of the entry fields are relative to one entry).
    """

    items: str
    title: str
    url: str | None = None
    summary: str | None = None
    published: str | None = None
    id: str | None = None
    utc_offset: str | None = None  # e.g. "+08:00": the zone of published times that carry none


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One thing to poll. ``id`` is derived from the URL unless given."""

    name: str
    url: str
    kind: SourceKind = "feed"
    interval: int = 600
    lang: str | None = None
    user_agent: str | None = None
    tickers: tuple[str, ...] = ()
    json: JsonMapping | None = None
    id: str = ""
    utc_offset: str | None = None  # e.g. "+08:00": the zone of feed dates that carry none

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", source_id_for(self.url))


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchState:
    """What the poller remembers about a source between polls (kept in the store)."""

    source_id: str
    url: str | None = None  # updated by a permanent redirect
    etag: str | None = None
    last_modified: str | None = None
    consecutive_failures: int = 0
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    next_poll: datetime | None = None
    interval: float | None = None  # the adaptive interval currently in force, seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One normalised feed entry, before tagging.

    ``id`` is stable across polls and sources: derived from the canonical URL when there is
    one, else from the source and the entry's guid, else from the normalised title.
    """

    id: str
    source_id: str
    title: str
    summary: str = ""
    url: str = ""
    guid: str | None = None
    author: str | None = None
    published: datetime | None = None
    fetched: datetime | None = None
    lang: str | None = None  # a hint from the feed or the source config
    publisher: str | None = None  # the outlet behind an aggregator entry (Google News <source>)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOutcome:
    """The result of polling one source once."""

    source_id: str
    status: FetchStatus
    items: tuple[Item, ...] = ()
    http_status: int | None = None
    error: str | None = None  # one line, for users; None when status != "failed"
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None  # set when a permanent redirect moved the source
    latency: float = 0.0  # seconds
    bytes: int = 0
    started: datetime | None = None
    next_poll: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)
    interval: float | None = None  # the adaptive interval in force (FetchState.interval)
    items_seen: int = 0  # entries in the response (0 for a 304 or a failure)
    consecutive_failures: int = 0  # including this attempt (0 after a success or a 304)
    retry_after: float | None = None  # seconds the server asked us to wait (429/503), uncapped
