"""Bytes of a response -> frozen ``Item`` records; the only module that touches feedparser.

``parse_feed`` gives feedparser the raw bytes together with the response headers, lower-cased
(feedparser 6.0.x only matches lower-case keys) plus ``content-location`` so relative links
resolve. Before that, legacy Chinese encodings are settled here, because feedparser alone
gets them wrong in common cases: GB2312/GBK declared or detected is decoded as GB18030 (its
superset), Big5 as cp950 then Big5-HKSCS, and a feed with no declaration at all that is not
UTF-8 is identified with chardet. Traditional Chinese is kept as published.

What is not a feed raises ``NotAFeed`` (a ``FeedError``) with a one-line reason: an HTML page
(consent, anti-bot challenge, rate-limit or error page), plain text, JSON that is no JSON Feed,
or a document with zero entries and a parse error. A well-formed feed with zero entries is
"no news", not an error.

The body is wrapped in ``BytesIO`` on purpose: ``feedparser.parse(bytes)`` treats bytes that
name an existing path as a file to open, which a hostile server could exploit.
"""

from __future__ import annotations

import calendar
import html
import io
import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser

from thesiswatch.errors import FeedError
from thesiswatch.feeds.models import Item, Source
from thesiswatch.feeds.normalize import canonical_url, clean_text, item_id, plain_text, url_key

__all__ = ["NotAFeed", "lower_headers", "parse_feed"]

MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 1000
FUTURE_TOLERANCE = timedelta(hours=1)


class NotAFeed(FeedError):
    """What the source answered is not a feed. ``blocked`` is True for consent, anti-bot and
    rate-limit pages (the scheduler then waits longer before asking again)."""

    def __init__(self, message: str, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.blocked = blocked


def lower_headers(headers: Mapping[str, str], url: str | None = None) -> dict[str, str]:
    """Header names lower-cased (feedparser needs that) and ``content-location`` set to the
    URL the body came from, unless the server sent one."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if url and "content-location" not in lowered:
        lowered["content-location"] = url
    return lowered


# ---------------------------------------------------------------------------------------------
# encodings

_GB = ("gb18030",)
_BIG5 = ("cp950", "big5hkscs")
_FAMILIES: dict[str, tuple[str, ...]] = {
    "gb2312": _GB,
    "gbk": _GB,
    "x-gbk": _GB,
    "cp936": _GB,
    "ms936": _GB,
    "windows-936": _GB,
    "gb18030": _GB,
    "euc-cn": _GB,
    "euccn": _GB,
    "csgb2312": _GB,
    "gb_2312-80": _GB,
    "chinese": _GB,
    "big5": _BIG5,
    "big-5": _BIG5,
    "csbig5": _BIG5,
    "x-x-big5": _BIG5,
    "cp950": _BIG5,
    "ms950": _BIG5,
    "big5-hkscs": _BIG5,
    "big5hkscs": _BIG5,
    "x-big5": _BIG5,
}
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(
    rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""", re.IGNORECASE
)
_TAGS = re.compile(rb"<[^<>]*>")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _family(charset: str | None) -> tuple[str, ...] | None:
    return _FAMILIES.get(charset.strip().lower()) if charset else None


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _guess_cjk(body: bytes) -> tuple[str, ...] | None:
    import chardet  # imported here: only feeds with no usable declaration pay for it

    # Markup dilutes the statistics (a short Chinese feed is mostly ASCII tags and was read as
    # ISO-8859-13); '<' and '>' never occur inside a GBK or Big5 character, so drop the tags.
    text = _TAGS.sub(b" ", body[:131072])[:32768]
    guess = chardet.detect(text).get("encoding")
    return _family(guess)


def _transcoded(body: bytes, headers: dict[str, str], text: str) -> tuple[bytes, dict[str, str]]:
    text = re.sub(
        r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""", r'\1"utf-8"', text, count=1
    )
    new_headers = dict(headers)
    ctype = headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip() or "application/xml"
    new_headers["content-type"] = f"{media}; charset=utf-8"
    return text.encode("utf-8"), new_headers


def settle_encoding(
    body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str], str | None]:
    """Re-encode a legacy-Chinese body as UTF-8 when feedparser would get it wrong.

    Returns ``(body, headers, encoding used or None when left to feedparser)``.
    """
    if body.startswith(_BOMS) or body[:4] in (
        b"\x00<\x00?",
        b"<\x00?\x00",
        b"\x00\x00\x00<",
        b"<\x00\x00\x00",
    ):
        return body, headers, None
    http_charset = None
    match = _CHARSET.search(headers.get("content-type", ""))
    if match:
        http_charset = match.group(1)
    decl = _XML_DECL.match(body[:512])
    xml_charset = decl.group(1).decode("ascii", "replace") if decl else None
    declared = [c for c in (http_charset, xml_charset) if c]
    cjk_declared: tuple[str, ...] | None = None
    for charset in declared:
        family = _family(charset)
        if family:
            cjk_declared = cjk_declared or family
            for codec in family:
                if _decodes(body, codec):
                    return (*_transcoded(body, headers, body.decode(codec)), codec)
        elif _decodes(body, charset):
            return body, headers, None  # a declaration that holds: feedparser follows it
    if _decodes(body, "utf-8"):
        if declared:  # declared something that does not hold, but it is plain UTF-8
            return (*_transcoded(body, headers, body.decode("utf-8")), "utf-8")
        return body, headers, None
    family = cjk_declared or _guess_cjk(body)
    if not family:
        return body, headers, None
    for codec in family:
        if _decodes(body, codec):
            return (*_transcoded(body, headers, body.decode(codec)), codec)
    # Mostly right with a few bad bytes: keep the text, mark the damage.
    return (*_transcoded(body, headers, body.decode(family[0], errors="replace")), family[0])


# ---------------------------------------------------------------------------------------------
# recognising what is not a feed

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|script|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_PAGE_KINDS: tuple[tuple[str, bool, tuple[bytes, ...]], ...] = (
    (
        "an anti-bot challenge page",
        True,
        (
            b"just a moment",
            b"cf-chl",
            b"challenge-platform",
            b"attention required",
            b"cf-browser-verification",
            b"captcha",
            b"are you a robot",
            b"ddos-guard",
            b"_incapsula_",
            b"\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81",
        ),
    ),
    (
        "a consent page",
        True,
        (b"before you continue", b"consent.google", b"consent.yahoo", b"cookie consent", b"gdpr"),
    ),
    (
        "a rate-limit page",
        True,
        (
            b"request rate threshold exceeded",
            b"too many requests",
            b"rate limit",
            b"max requests limit exceeded",
            b"declare your traffic",
        ),
    ),
    ("an access-denied page", True, (b"access denied", b"403 forbidden", b"forbidden")),
)


def _describe_non_feed(body: bytes, headers: Mapping[str, str]) -> NotAFeed | None:
    """A ``NotAFeed`` when the body is clearly a web page or plain text, else None."""
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    head = body[:65536]
    lowered = head.lower()
    if not body.strip():
        return NotAFeed("answered an empty body, not a feed")
    if _HTML_START.match(head) or (
        ctype in ("text/html", "application/xhtml+xml")
        and b"<rss" not in lowered
        and b"<feed" not in lowered
        and b"<rdf" not in lowered
    ):
        title_match = _TITLE.search(head)
        title = ""
        if title_match:
            title = clean_text(html.unescape(title_match.group(1).decode("utf-8", "replace")))[:60]
        shown = f' ("{title}")' if title else ""
        for kind, blocked, markers in _PAGE_KINDS:
            if any(marker in lowered for marker in markers):
                return NotAFeed(f"answered HTML, not a feed: {kind}{shown}", blocked=blocked)
        return NotAFeed(f"answered HTML, not a feed{shown}")
    if ctype == "text/plain" and not lowered.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        # XML served as text/plain (GitHub raw, misconfigured servers) goes on to feedparser.
        snippet = clean_text(head[:200].decode("utf-8", "replace"))[:60]
        blocked = (
            any(m in lowered for _, _, markers in _PAGE_KINDS for m in markers)
            or b"restrict access" in lowered
        )
        return NotAFeed(f'answered plain text, not a feed ("{snippet}")', blocked=blocked)
    return None


# feedparser's bozo notes that do not mean the document is broken.
_BENIGN: tuple[type[BaseException], ...] = tuple(
    cls
    for cls in (
        getattr(feedparser, "CharacterEncodingOverride", None),
        getattr(feedparser, "NonXMLContentType", None),
    )
    if isinstance(cls, type)
)


def _looks_like_json(body: bytes, headers: Mapping[str, str]) -> bool:
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start in (b"{", b"[") or ctype.endswith("json")


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = clean_text(str(exc)) or type(exc).__name__
    return text[:120]


# ---------------------------------------------------------------------------------------------
# entries -> items


def _to_datetime(parsed: Any) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


_ZONE_AT_END = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|UT|[ECMP][SD]T|[A-Z]{3,4}))\s*$")


def _published(entry: Any, utc_offset: str | None) -> datetime | None:
    """The entry's date in UTC. feedparser reads a date without a zone as UTC; for sources
    known to write local time without saying so (cninfo, szse at UTC+8), ``utc_offset``
    corrects that."""
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict maps a missing updated_parsed to published_parsed, with a
        # DeprecationWarning on every entry.
        parsed = _to_datetime(dict.get(entry, f"{key}_parsed"))
        if parsed is None:
            continue
        raw = str(dict.get(entry, key) or "")
        if utc_offset and raw and not _ZONE_AT_END.search(raw.strip()):
            from thesiswatch.feeds.jsonapi import offset_of

            parsed -= offset_of(utc_offset)
        return parsed
    return None


_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


def _get(entry: Any, key: str) -> Any:
    """``entry[key]`` or None, without FeedParserDict's key mapping (3x slower, and it maps
    missing keys to others with a DeprecationWarning). Only for keys stored under their own
    name by feedparser."""
    return dict.get(entry, key)


def _text_of(entry: Any, key: str) -> str:
    value = _get(entry, key)
    if not value:
        return ""
    detail = _get(entry, f"{key}_detail") or {}
    default = "text/html" if key == "summary" else "text/plain"  # descriptions are HTML in practice
    kind = detail.get("type", default) if hasattr(detail, "get") else default
    if "html" in kind:
        return plain_text(str(value))
    text = str(value)
    if _ENTITY.search(text):  # double-escaped entities are common in the wild
        text = html.unescape(text)
    return clean_text(text)


def _lang_hint(source: Source, entry: Any, feed: Any) -> str | None:
    if source.lang:
        return source.lang
    for candidate in (
        (_get(entry, "title_detail") or {}).get("language"),
        feed.get("language"),
        (feed.get("title_detail") or {}).get("language"),
    ):
        if candidate:
            primary = str(candidate).strip().lower().replace("_", "-").split("-", 1)[0]
            if primary.isalpha() and 2 <= len(primary) <= 3:
                return primary
    return None


def _publisher(entry: Any) -> str | None:
    source = _get(entry, "source")
    if source and hasattr(source, "get") and source.get("title"):
        return clean_text(str(source.get("title")))[:200] or None
    for key in ("news_source", "dc_publisher", "publisher"):
        if _get(entry, key):
            return clean_text(str(_get(entry, key)))[:200] or None
    return None


def _safe_link(link: str, base: str) -> str:
    link = link.strip()
    if (
        link
        and not link.lower().startswith(("http://", "https://"))
        and ":" not in link.split("/", 1)[0]
    ):
        try:
            link = urljoin(base, link)  # a relative link feedparser was not asked to resolve
        except ValueError:
            return ""
    if link.lower().startswith(("http://", "https://")):
        return canonical_url(link)
    return ""


# Does the document hold relative links or xml:base that feedparser should resolve? Telling
# feedparser the base URL makes it join every element's base (a third of its parse time),
# so it is told only when the document needs it.
_NEEDS_BASE = re.compile(
    rb"""xml:base|<link[^>]*?\shref\s*=\s*["'](?!\s*(?:https?:|mailto:|urn:))|<link>\s*(?!https?:)""",
    re.IGNORECASE,
)


_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)
_NESTED_ENTITY = re.compile(
    rb"""<!ENTITY\s+%?\s*[\w.:-]+\s+(?:"[^"]*[&%][^"]*"|'[^']*[&%][^']*'|SYSTEM|PUBLIC)""",
    re.IGNORECASE,
)


def _defuse_entities(body: bytes) -> bytes:
    """Drop an internal DTD subset whose entities refer to other entities or to outside
    files: the "billion laughs" pattern. expat stops it only after expanding megabytes (about
    2 s of CPU in feedparser's callbacks); plain entity declarations are left alone."""
    head = body[:65536]
    match = _DOCTYPE_SUBSET.search(head)
    if match is None or not _NESTED_ENTITY.search(match.group(1)):
        return body
    return body[: match.start()] + body[match.end() :]


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source: Source,
    *,
    fetched: datetime | None = None,
) -> list[Item]:
    """Parse one response body into items (RSS 0.9x-2.0, RDF, Atom 0.3/1.0, JSON Feed).

    ``headers`` are the response headers (any case); ``url`` is the URL the body came from
    (relative links resolve against it). Raises ``NotAFeed`` (a ``FeedError``) when the body
    is not a feed. Entries without a title, link or summary are skipped; one id per entry in
    the result (repeats within a feed are dropped).
    """
    fetched = fetched or datetime.now(UTC)
    lowered = lower_headers(headers, url)
    if source.kind == "json":
        from thesiswatch.feeds.jsonapi import parse_json_api

        return parse_json_api(body, source, fetched=fetched)
    non_feed = _describe_non_feed(body, lowered)
    if non_feed is not None:
        raise non_feed
    if _looks_like_json(body, lowered):
        from thesiswatch.feeds.jsonapi import parse_json_feed

        return parse_json_feed(body, source, url=url, fetched=fetched)
    body, lowered, _encoding = settle_encoding(body, lowered)
    body = _defuse_entities(body)
    for_parser = lowered
    if not _NEEDS_BASE.search(body):
        for_parser = {k: v for k, v in lowered.items() if k != "content-location"}
    try:
        # No sanitising or URI rewriting inside HTML content: every text field is reduced to
        # plain text below (script/style dropped with their content), so that work is wasted
        # (it was 40% of parse time). Entry links are still resolved against content-location.
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=for_parser,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser is meant not to raise; a crash is still "not a feed"
        raise NotAFeed(f"feed could not be parsed: {type(exc).__name__}: {_short(exc)}") from exc
    entries = result.get("entries") or []
    version = result.get("version") or ""
    if not entries:
        problem = result.get("bozo_exception") if result.get("bozo") else None
        if problem is not None and not isinstance(problem, _BENIGN):
            raise NotAFeed(f"not a feed: {_short(problem)}")
        if not version:
            raise NotAFeed("not a feed: no RSS, Atom or RDF root element")
        return []
    return _items(
        entries, result.get("feed") or {}, source, fetched, lowered.get("content-location", url)
    )


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _items(
    entries: list[Any], feed: Any, source: Source, fetched: datetime, base: str
) -> list[Item]:
    site_key = url_key(str(feed.get("link") or "")) if feed.get("link") else None
    links = [_safe_link(str(_get(e, "link") or ""), base) for e in entries]
    # A link shared by entries with different guids (a home page, a live page) does not
    # identify an entry: those fall back to their guid. Without guids, one link is one entry.
    guids_by_link: dict[str, set[str]] = defaultdict(set)
    for entry, link in zip(entries, links, strict=True):
        if link:
            guids_by_link[url_key(link)].add(str(_get(entry, "id") or ""))
    shared = {key for key, guids in guids_by_link.items() if len(guids - {""}) > 1}
    items: list[Item] = []
    seen: set[str] = set()
    for entry, link in zip(entries, links, strict=True):
        title = _text_of(entry, "title")[:MAX_TITLE_CHARS]
        summary = _text_of(entry, "summary")
        if not summary and _get(entry, "content"):
            first = entry["content"][0]
            summary = plain_text(str(first.get("value") or ""))
        summary = summary[:MAX_SUMMARY_CHARS]
        publisher = _publisher(entry)
        if publisher and title.endswith(f" - {publisher}") and len(title) > len(publisher) + 3:
            title = title[: -(len(publisher) + 3)].rstrip()
        if (
            title
            and summary
            and _squash(summary) in (_squash(title), _squash(f"{title}{publisher or ''}"))
        ):
            summary = ""  # aggregators repeat the headline (and the outlet) as the description
        if not title:
            title = summary[:120]
        if not title and not link:
            continue
        guid = clean_text(str(_get(entry, "id") or ""))[:500] or None
        key = url_key(link) if link else ""
        id_url = link if link and key not in shared and key != site_key else None
        the_id = item_id(url=id_url, guid=guid, source_id=source.id, title=title or link)
        if the_id in seen:
            continue
        seen.add(the_id)
        published = _published(entry, source.utc_offset)
        if published is not None and published > fetched + FUTURE_TOLERANCE:
            published = fetched  # a clock far ahead would pin the entry to the top for ever
        author = clean_text(str(_get(entry, "author") or ""))[:200] or None
        items.append(
            Item(
                id=the_id,
                source_id=source.id,
                title=title,
                summary=summary if summary != title else "",
                url=link,
                guid=guid,
                author=author or publisher,
                published=published,
                fetched=fetched,
                lang=_lang_hint(source, entry, feed),
                publisher=publisher,
            )
        )
    return items


def feed_ttl_minutes(body: bytes) -> float | None:
    """The RSS ``<ttl>`` (minutes) of a feed body, if any, cheaply (no full parse)."""
    match = re.search(rb"<ttl>\s*(\d{1,6})\s*</ttl>", body[:65536], re.IGNORECASE)
    return float(match.group(1)) if match else None
