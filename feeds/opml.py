"""OPML 1.0/2.0 import and export of the source list.

Standard attributes carry the usual fields (``text``/``title`` = name, ``xmlUrl`` = URL,
``type``, ``language``); thesiswatch's own fields travel as extra attributes that other
readers ignore (``interval``, ``tickers``, ``userAgent``, ``kind`` and ``json*`` for a JSON
news API's field mapping), so an export read back gives the same sources. Folders
(outlines without ``xmlUrl``) are walked; their names are not kept. A file that is not OPML
raises ``FeedError`` with one line naming what is wrong.

>>> from thesiswatch.feeds.models import Source
>>> src = [Source(name="A & B", url="https://ex.com/feed?a=1&b=2", interval=900, lang="zh")]
>>> read_opml(write_opml(src)) == src
True
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from thesiswatch.errors import FeedError
from thesiswatch.feeds.models import JsonMapping, Source, source_id_for
from thesiswatch.feeds.normalize import clean_text

__all__ = ["read_opml", "write_opml"]

_JSON_FIELDS = ("items", "title", "url", "summary", "published", "id", "utc_offset")
_MAX_OPML_BYTES = 10 * 1024 * 1024


def _json_attr(field: str) -> str:
    return "json" + "".join(part.capitalize() for part in field.split("_"))


def write_opml(sources: Sequence[Source], *, title: str = "thesiswatch sources") -> str:
    """The sources as an OPML 2.0 document (UTF-8 text)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for source in sources:
        attrs = {
            "text": source.name,
            "title": source.name,
            "type": "json" if source.kind == "json" else "rss",
            "xmlUrl": source.url,
            "interval": str(source.interval),
        }
        if source.kind != "feed":
            attrs["kind"] = source.kind
        if source.lang:
            attrs["language"] = source.lang
        if source.tickers:
            attrs["tickers"] = ",".join(source.tickers)
        if source.user_agent:
            attrs["userAgent"] = source.user_agent
        if source.utc_offset:
            attrs["utcOffset"] = source.utc_offset
        if source.id != source_id_for(source.url):
            attrs["id"] = source.id
        if source.json is not None:
            for field in _JSON_FIELDS:
                value = getattr(source.json, field)
                if value is not None:
                    attrs[_json_attr(field)] = value
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _outlines(element: ET.Element) -> Iterator[ET.Element]:
    for child in element:
        if child.tag == "outline":
            yield child
            yield from _outlines(child)


def _fail(message: str) -> FeedError:
    return FeedError(f"OPML: {clean_text(message)[:200]}")


def read_opml(text: str) -> list[Source]:
    """The subscriptions of an OPML document (duplicates by URL dropped, first kept)."""
    if len(text) > _MAX_OPML_BYTES:
        raise _fail("file over 10 MB")
    if "<!ENTITY" in text:
        raise _fail("entity declarations are not allowed")
    try:
        root = ET.fromstring(text.lstrip("\ufeff").encode("utf-8"))
    except ET.ParseError as exc:
        raise _fail(f"not well-formed XML ({exc})") from exc
    if root.tag != "opml":
        raise _fail(f"not an OPML document (root element is <{root.tag}>)")
    body = root.find("body")
    if body is None:
        raise _fail("no <body> element")
    sources: list[Source] = []
    seen: set[str] = set()
    for number, outline in enumerate(_outlines(body), start=1):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or outline.get("url") or "").strip()
        if not url:
            continue  # a folder
        if not url.lower().startswith(("http://", "https://")):
            raise _fail(f"outline {number}: xmlUrl {url[:80]!r} is not an http(s) URL")
        if url in seen:
            continue
        seen.add(url)
        name = clean_text(outline.get("text") or outline.get("title") or "") or url
        interval_text = (outline.get("interval") or "").strip()
        interval = 600
        if interval_text:
            try:
                interval = int(float(interval_text))
            except ValueError:
                raise _fail(
                    f"outline {name!r}: interval {interval_text!r} is not a number of seconds"
                ) from None
            if interval <= 0:
                raise _fail(f"outline {name!r}: interval must be positive, got {interval}")
        kind = (
            outline.get("kind") or ("json" if outline.get("type") == "json" else "feed")
        ).strip()
        if kind not in ("feed", "json"):
            raise _fail(f"outline {name!r}: kind {kind!r} is not 'feed' or 'json'")
        mapping = None
        if kind == "json":
            values = {field: outline.get(_json_attr(field)) for field in _JSON_FIELDS}
            if not values["items"] or not values["title"]:
                raise _fail(f"outline {name!r}: a JSON source needs jsonItems and jsonTitle")
            mapping = JsonMapping(**values)  # type: ignore[arg-type]
        tickers = tuple(t.strip() for t in (outline.get("tickers") or "").split(",") if t.strip())
        lang = (outline.get("language") or "").strip() or None
        sources.append(
            Source(
                name=name,
                url=url,
                kind=kind,  # type: ignore[arg-type]
                interval=interval,
                lang=lang,
                user_agent=(outline.get("userAgent") or "").strip() or None,
                tickers=tickers,
                json=mapping,
                id=(outline.get("id") or "").strip(),
                utc_offset=(outline.get("utcOffset") or "").strip() or None,
            )
        )
    return sources
