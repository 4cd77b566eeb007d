"""Property tests: normalisation invariants, and parse_feed on hostile bytes never raising
anything but FeedError."""

from __future__ import annotations

import contextlib
import unicodedata

from helpers import NOW, rss
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thesiswatch.errors import FeedError
from thesiswatch.feeds.models import Source
from thesiswatch.feeds.normalize import canonical_url, clean_text, item_id, plain_text, title_key
from thesiswatch.feeds.parse import parse_feed

SRC = Source(name="prop", url="https://feeds.example.com/rss")


def _unsafe(text: str) -> list[str]:
    return [
        c
        for c in text
        if (unicodedata.category(c) == "Cc")
        or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x1b"
    ]


@given(st.text())
def test_clean_and_plain_text_are_safe_single_lines(text: str) -> None:
    for out in (clean_text(text), plain_text(text)):
        assert _unsafe(out) == []
        assert out == out.strip() and "  " not in out


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.from_regex(r"[a-z]{1,8}\.(com|cn|hk)", fullmatch=True),
    st.lists(st.from_regex(r"[A-Za-z0-9_%-]{0,8}", fullmatch=True), max_size=4),
    st.lists(
        st.tuples(
            st.sampled_from(["id", "utm_source", "a", "fbclid", "q", "oc"]), st.text(max_size=6)
        ),
        max_size=4,
    ),
)
def test_canonical_url_is_idempotent(
    scheme: str, host: str, path: list[str], query: list[tuple[str, str]]
) -> None:
    from urllib.parse import urlencode

    url = f"{scheme}://{host}/{'/'.join(path)}?{urlencode(query)}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "utm_source" not in once and "fbclid" not in once


@given(st.text(max_size=80), st.text(max_size=20))
def test_ids_are_deterministic(title: str, guid: str) -> None:
    a = item_id(url=None, guid=guid, source_id="s", title=title)
    assert a == item_id(url=None, guid=guid, source_id="s", title=title)
    assert title_key(title) == title_key(title)


BASE = rss(3).encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.integers(min_value=0, max_value=len(BASE)),
    st.integers(min_value=0, max_value=len(BASE)),
    st.binary(max_size=40),
    st.sampled_from(
        [
            "application/rss+xml",
            "text/html",
            "text/plain",
            "application/json",
            "",
            "text/xml; charset=gbk",
        ]
    ),
)
def test_parse_feed_on_mangled_bytes_only_raises_feed_error(
    start: int, end: int, junk: bytes, ctype: str
) -> None:
    start, end = min(start, end), max(start, end)
    body = BASE[:start] + junk + BASE[end:]
    try:
        items = parse_feed(
            body, {"content-type": ctype} if ctype else {}, SRC.url, SRC, fetched=NOW
        )
    except FeedError:
        return
    for item in items:
        assert item.title or item.url
        assert _unsafe(item.title) == [] and _unsafe(item.summary) == []
        assert len({i.id for i in items}) == len(items)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parse_feed_on_random_bytes_only_raises_feed_error(body: bytes) -> None:
    with contextlib.suppress(FeedError):
        parse_feed(body, {"content-type": "application/xml"}, SRC.url, SRC, fetched=NOW)
