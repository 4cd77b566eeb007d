"""JSON sources: JSON Feed (jsonfeed.org 1.0/1.1) and JSON news APIs configured by field mapping.

A JSON news API source (``Source(kind="json", json=JsonMapping(...))``) names, as dotted
paths, where the list of entries is and where each entry keeps its title, URL, summary, date
and id, e.g. ``items="data.list"``, ``title="title"``, ``published="ctime"``. Path segments that
are digits index lists (``"data.0.items"``). JSONP (``callback({...});``) is unwrapped. Dates
may be epoch seconds or milliseconds, ISO 8601, RFC 2822, or ``DD/MM/YYYY HH:MM``; a date
without a zone is read in the mapping's ``utc_offset`` (UTC when unset).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from thesiswatch.errors import FeedError
from thesiswatch.feeds.models import Item, JsonMapping, Source
from thesiswatch.feeds.normalize import canonical_url, clean_text, item_id, plain_text

__all__ = ["lookup", "offset_of", "parse_json_api", "parse_json_feed", "parse_time"]

_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$.]*\s*\((.*)\)\s*;?\s*$", re.DOTALL)
_MISSING = object()


def _load(body: bytes) -> Any:
    text = body.decode("utf-8-sig", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        match = _JSONP.match(text)
        if match:
            try:
                return json.loads(match.group(1))
            except ValueError:
                pass
    snippet = clean_text(text[:60])
    raise FeedError(f'answered something that is not JSON ("{snippet}")')


def lookup(document: Any, path: str | None) -> Any:
    """The value at a dotted path, or None.

    >>> lookup({"data": {"list": [{"t": 1}]}}, "data.list.0.t")
    1
    """
    if not path:
        return None
    value = document
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else _MISSING
        else:
            return None
        if value is _MISSING:
            return None
    return value


_DMY = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M",
    "%Y%m%d%H%M%S",
)


def _zone(offset: str | None) -> timezone:
    if not offset:
        return UTC
    match = re.fullmatch(r"(?:UTC)?\s*([+-])(\d{1,2}):?(\d{2})?", offset.strip(), re.IGNORECASE)
    if not match:
        return UTC
    sign = 1 if match.group(1) == "+" else -1
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    return timezone(sign * delta)


def offset_of(offset: str | None) -> timedelta:
    """The ``timedelta`` of a "+08:00"-style offset (zero when absent or unreadable).

    >>> offset_of("+08:00"), offset_of("UTC-5")
    (datetime.timedelta(seconds=28800), datetime.timedelta(days=-1, seconds=68400))
    """
    delta = _zone(offset).utcoffset(None)
    return delta if delta is not None else timedelta(0)


def parse_time(value: Any, *, utc_offset: str | None = None) -> datetime | None:
    """A UTC datetime from what JSON APIs use for dates, or None.

    >>> parse_time(1737988200)
    datetime.datetime(2025, 1, 27, 14, 30, tzinfo=datetime.timezone.utc)
    >>> parse_time("27/01/2025 22:30", utc_offset="+08:00")
    datetime.datetime(2025, 1, 27, 14, 30, tzinfo=datetime.timezone.utc)
    """
    if value is None or isinstance(value, bool):
        return None
    zone = _zone(utc_offset)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{9,13}(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float):
        seconds = float(value) / 1000.0 if value > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        for fmt in _DMY:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _string(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _item(
    *,
    source: Source,
    title: str,
    url: str,
    summary: str,
    guid: str | None,
    published: datetime | None,
    fetched: datetime,
    author: str | None = None,
    lang: str | None = None,
) -> Item | None:
    link = canonical_url(url) if url.lower().startswith(("http://", "https://")) else ""
    title = clean_text(title)[:1000] or summary[:120]
    if not title and not link:
        return None
    if published is not None and published > fetched + timedelta(hours=1):
        published = fetched
    return Item(
        id=item_id(url=link or None, guid=guid, source_id=source.id, title=title or link),
        source_id=source.id,
        title=title,
        summary=summary[:4000] if summary != title else "",
        url=link,
        guid=guid,
        author=author,
        published=published,
        fetched=fetched,
        lang=source.lang or lang,
    )


def parse_json_api(body: bytes, source: Source, *, fetched: datetime) -> list[Item]:
    """Entries of a JSON news API response, following ``source.json``."""
    mapping: JsonMapping | None = source.json
    if mapping is None:
        raise FeedError("JSON source has no field mapping")
    document = _load(body)
    entries = lookup(document, mapping.items) if mapping.items else document
    if not isinstance(entries, list):
        raise FeedError(f"JSON has no list at '{mapping.items}'")
    items: list[Item] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        guid = _string(lookup(entry, mapping.id)).strip() or None
        item = _item(
            source=source,
            title=plain_text(_string(lookup(entry, mapping.title))),
            url=_string(lookup(entry, mapping.url)).strip(),
            summary=plain_text(_string(lookup(entry, mapping.summary))),
            guid=guid,
            published=parse_time(lookup(entry, mapping.published), utc_offset=mapping.utc_offset),
            fetched=fetched,
        )
        if item is not None and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    return items


def parse_json_feed(body: bytes, source: Source, *, url: str, fetched: datetime) -> list[Item]:
    """Entries of a JSON Feed document; anything else JSON raises ``FeedError``."""
    document = _load(body)
    if not isinstance(document, dict) or "jsonfeed.org/version" not in str(
        document.get("version", "")
    ):
        raise FeedError("answered JSON, not a feed (no JSON Feed version)")
    entries = document.get("items")
    if not isinstance(entries, list):
        raise FeedError("JSON Feed has no items list")
    feed_lang = _string(document.get("language")).split("-", 1)[0].lower() or None
    items: list[Item] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        authors = entry.get("authors") or (
            [entry["author"]] if isinstance(entry.get("author"), dict) else []
        )
        author = next(
            (
                clean_text(_string(a.get("name")))
                for a in authors
                if isinstance(a, dict) and a.get("name")
            ),
            None,
        )
        summary = _string(entry.get("summary")) or _string(entry.get("content_text"))
        summary = plain_text(summary) if summary else plain_text(_string(entry.get("content_html")))
        item = _item(
            source=source,
            title=plain_text(_string(entry.get("title"))),
            url=urljoin(url, link)
            if (link := _string(entry.get("url") or entry.get("external_url")).strip())
            else "",
            summary=summary,
            guid=clean_text(_string(entry.get("id")))[:500] or None,
            published=parse_time(entry.get("date_published") or entry.get("date_modified")),
            fetched=fetched,
            author=author,
            lang=_string(entry.get("language")).split("-", 1)[0].lower() or feed_lang,
        )
        if item is not None and item.id not in seen:
            seen.add(item.id)
            items.append(item)
    return items
