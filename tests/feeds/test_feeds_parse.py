"""parse_feed: encodings, not-a-feed detection, untrusted text, entries -> Items; served over loopback
where the HTTP headers matter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import NOW, fetcher, rss, run
from loopback import LoopbackServer, Reply

from thesiswatch.errors import FeedError
from thesiswatch.feeds.models import JsonMapping, Source
from thesiswatch.feeds.parse import NotAFeed, parse_feed

SRC = Source(name="test", url="https://feeds.example.com/rss")

ZH_TITLE = "朱镕基谈英伟达与深度求索 啰嗦 堃"  # 镕, 啰, 堃 are in GBK/GB18030 but not in GB2312
TW_TITLE = "臺積電營收創新高 鴻海"
HK_TITLE = "香港交易所公告 𨋢"  # 𨋢 (lift) is HKSCS-only


def zh_feed(title: str, encoding: str | None) -> str:
    return rss(2, item_title=title + " {n}", encoding=encoding, title="中文")


def parse(body: bytes, content_type: str | None = None, url: str = SRC.url, source: Source = SRC):
    headers = {"Content-Type": content_type} if content_type else {}
    return parse_feed(body, headers, url, source, fetched=NOW)


# -- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared_xml", "http_charset", "codec"),
    [
        ("gbk", None, "gbk"),
        ("gb2312", None, "gbk"),  # declared gb2312, really GBK: common and wrong
        ("GB18030", None, "gb18030"),
        (None, "gbk", "gbk"),
        (None, "gb2312", "gb18030"),
        ("utf-8", "gbk", "gbk"),  # the HTTP charset holds, the declaration does not
        ("gbk", "utf-8", "gbk"),  # the declaration holds, the HTTP charset does not
        (None, None, "gbk"),  # nothing declared at all: detected
        (None, None, "gb18030"),
    ],
)
def test_simplified_chinese_encodings(
    declared_xml: str | None, http_charset: str | None, codec: str
) -> None:
    body = zh_feed(ZH_TITLE, declared_xml).encode(codec)
    ctype = (
        f"application/rss+xml; charset={http_charset}" if http_charset else "application/rss+xml"
    )
    items = parse(body, ctype)
    assert [i.title for i in items] == [f"{ZH_TITLE} 0", f"{ZH_TITLE} 1"]


@pytest.mark.parametrize(
    ("title", "declared", "codec"),
    [
        (TW_TITLE, "big5", "big5"),
        (TW_TITLE, None, "big5"),
        (TW_TITLE, "big5", "cp950"),
        (HK_TITLE, "big5-hkscs", "big5hkscs"),
        (HK_TITLE, "big5", "big5hkscs"),  # declared Big5, carries HKSCS characters
    ],
)
def test_traditional_chinese_is_kept_as_published(
    title: str, declared: str | None, codec: str
) -> None:
    body = zh_feed(title, declared).encode(codec)
    items = parse(body, "text/xml")
    assert items[0].title == f"{title} 0"  # not converted to simplified


def test_gbk_feed_over_http_with_and_without_charset() -> None:
    body = zh_feed(ZH_TITLE, None).encode("gbk")
    declared = zh_feed(ZH_TITLE, "gb2312").encode("gbk")
    routes = {
        "/declared-http": Reply(body=body, headers={"Content-Type": "text/xml; charset=GBK"}),
        "/declared-xml": Reply(body=declared, headers={"Content-Type": "text/xml"}),
        "/undeclared": Reply(body=body, headers={"Content-Type": "application/xml"}),
        "/big5": Reply(
            body=zh_feed(TW_TITLE, None).encode("big5"),
            headers={"Content-Type": "application/rss+xml"},
        ),
    }
    with LoopbackServer(routes) as server:

        async def go() -> dict:
            f = fetcher()
            out = {p: await f.fetch(Source(name=p, url=server.url(p)), None) for p in routes}
            await f.aclose()
            return out

        out = run(go())
    for path in ("/declared-http", "/declared-xml", "/undeclared"):
        assert out[path].status == "ok", out[path].error
        assert out[path].items[0].title == f"{ZH_TITLE} 0", path
    assert out["/big5"].items[0].title == f"{TW_TITLE} 0"


def test_sec_style_iso_8859_1_atom_with_ampersands() -> None:
    atom = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Latest Filings - BB&amp;T CORP</title>
<id>urn:x</id><updated>2025-01-27T10:00:00-05:00</updated>
<entry><title>8-K - BB&amp;T CORP (0000092230) (Filer) caf\xe9</title>
<link rel="alternate" type="text/html" href="http://www.sec.gov/Archives/edgar/data/92230/000009223025000001-index.htm"/>
<summary type="html"> &lt;b&gt;Filed:&lt;/b&gt; 2025-01-27 &lt;b&gt;AccNo:&lt;/b&gt; 0000092230-25-000001</summary>
<updated>2025-01-27T10:00:00-05:00</updated><category scheme="https://www.sec.gov/" label="form type" term="8-K"/>
<id>urn:tag:sec.gov,2008:accession-number=0000092230-25-000001</id></entry></feed>""".encode(
        "latin-1"
    )
    (item,) = parse(atom, "application/atom+xml")
    assert item.title == "8-K - BB&T CORP (0000092230) (Filer) café"
    assert item.summary == "Filed: 2025-01-27 AccNo: 0000092230-25-000001"
    assert item.published == datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
    assert item.guid == "urn:tag:sec.gov,2008:accession-number=0000092230-25-000001"


# -- entries -----------------------------------------------------------------------------------

GOOGLE_NEWS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>"DeepSeek" - Google News</title><link>https://news.google.com/search?q=DeepSeek</link><language>en-US</language>
<item><title>Nvidia shares plunge as DeepSeek rattles AI trade - Reuters</title>
<link>https://news.google.com/rss/articles/CBMiWkFVX3lxTE?oc=5</link>
<guid isPermaLink="false">CBMiWkFVX3lxTE</guid><pubDate>Mon, 27 Jan 2025 14:30:00 GMT</pubDate>
<description>&lt;a href="https://news.google.com/rss/articles/CBMiWkFVX3lxTE?oc=5" target="_blank"&gt;Nvidia shares plunge as DeepSeek rattles AI trade&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color="#6f6f6f"&gt;Reuters&lt;/font&gt;</description>
<source url="https://www.reuters.com">Reuters</source></item></channel></rss>"""

BING = """<?xml version="1.0" encoding="utf-8" ?><rss version="2.0" xmlns:News="http://www.bing.com:80/news/search/">
<channel><title>DeepSeek - Bing News</title><link>https://www.bing.com/news/search?q=DeepSeek</link>
<item><title>DeepSeek shakes markets</title>
<link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=ABC123&amp;url=https%3a%2f%2fwww.example.com%2fmarkets%2fdeepseek%3futm_source%3dbing&amp;c=999&amp;mkt=en-us</link>
<description>DeepSeek's model ...</description><pubDate>Mon, 27 Jan 2025 14:00:00 GMT</pubDate>
<News:Source>Example Times</News:Source></item></channel></rss>"""


def test_google_news_entry() -> None:
    (item,) = parse(GOOGLE_NEWS.encode(), "application/xml")
    assert (
        item.title == "Nvidia shares plunge as DeepSeek rattles AI trade"
    )  # publisher suffix moved out
    assert item.publisher == "Reuters" and item.author == "Reuters"
    assert item.url == "https://news.google.com/rss/articles/CBMiWkFVX3lxTE"
    assert item.published == datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    assert item.lang == "en" and item.fetched == NOW
    assert item.summary == ""  # the description only repeats title and publisher


def test_bing_wrapper_is_unwrapped_and_publisher_kept() -> None:
    (item,) = parse(BING.encode(), "application/rss+xml")
    assert item.url == "https://www.example.com/markets/deepseek"
    assert item.publisher == "Example Times"


def test_atom_rdf_and_relative_links() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">
<title>t</title><id>x</id><updated>2025-01-27T00:00:00Z</updated>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; news</title><link href="/a/1"/><id>e1</id>
<updated>2025-01-27T08:00:00+08:00</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>"""
    (item,) = parse(
        atom, "application/atom+xml", url="https://apple.example.com/newsroom/rss-feed.rss"
    )
    assert item.title == "Bold news" and item.summary == "Body"
    assert item.url == "https://apple.example.com/a/1" and item.lang == "zh"
    assert item.published == datetime(2025, 1, 27, 0, 0, tzinfo=UTC)
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="x"><title>t</title><link>http://ex.com/</link></channel>
<item rdf:about="http://ex.com/1"><title>One</title><link>http://ex.com/1</link></item></rdf:RDF>"""
    assert [i.title for i in parse(rdf, "application/rdf+xml")] == ["One"]


def test_untrusted_text_is_plain_and_safe() -> None:
    body = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Evil\x1b]8;;http://x\x1b\\ link\x1b[2J\x1b[31m red \u202e reversed&amp;amp;co</title>
<link>javascript:alert(1)</link><guid>g1</guid>
<description>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;Hi&lt;/b&gt;\x07 there</description></item>
</channel></rss>""".encode()
    body = body.replace(b"\x1b", b"&#27;").replace(
        b"\x07", b"&#7;"
    )  # as a hostile feed would ship them
    (item,) = parse(body, "application/rss+xml")
    assert item.title == "Evil link red reversed&co"
    assert item.summary == "Hi there"
    assert item.url == ""  # never a javascript: link
    for text in (item.title, item.summary):
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u200b" for c in text)


def test_future_dates_are_clamped_and_items_without_anything_skipped() -> None:
    future = (NOW + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = f"""<rss version="2.0"><channel><title>t</title>
<item><title>From the future</title><link>https://ex.com/f</link><pubDate>{future}</pubDate></item>
<item><description></description></item>
<item><title>Dup</title><link>https://ex.com/d?utm_source=a</link></item>
<item><title>Dup again</title><link>https://ex.com/d?utm_source=b</link></item>
</channel></rss>""".encode()
    items = parse(body, "application/rss+xml")
    assert [i.title for i in items] == ["From the future", "Dup"]
    assert items[0].published == NOW


def test_shared_links_do_not_merge_distinct_entries() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title><link>https://site.example.com/</link>
<item><title>First flash</title><link>https://site.example.com/</link><guid isPermaLink="false">a1</guid></item>
<item><title>Second flash</title><link>https://site.example.com/</link><guid isPermaLink="false">a2</guid></item>
<item><title>Third flash</title><link>https://site.example.com/live</link><guid isPermaLink="false">a3</guid></item>
<item><title>Fourth flash</title><link>https://site.example.com/live</link><guid isPermaLink="false">a4</guid></item>
</channel></rss>"""
    items = parse(body, "application/rss+xml")
    assert len({i.id for i in items}) == 4


def test_not_a_feed_raises_feed_error_with_one_line() -> None:
    with pytest.raises(NotAFeed) as info:
        parse(b"<!doctype html><html><head><title>Access Denied</title></head></html>", "text/html")
    assert isinstance(info.value, FeedError) and info.value.blocked
    assert str(info.value) == 'answered HTML, not a feed: an access-denied page ("Access Denied")'
    with pytest.raises(FeedError, match="not a feed"):
        parse(b"<rss version='2.0'><channel><title>t</title><ite", "application/xml")  # truncated
    # truncated after a complete entry: recoverable, the entry is kept
    partial = b"<rss version='2.0'><channel><title>t</title><item><title>kept</title><link>https://ex.com/k</link></item><item><title>x"
    assert next(i.title for i in parse(partial, "application/xml")) == "kept"


def test_body_naming_a_local_file_is_not_opened(tmp_path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(rss(1))
    with pytest.raises(FeedError):
        parse(str(secret).encode(), "application/xml")


# -- JSON --------------------------------------------------------------------------------------


def test_json_feed() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "x", "language": "en",
      "items": [{"id": "1", "url": "https://ex.com/1?utm_medium=x", "title": "One", "content_html": "<p>Body</p>",
                 "date_published": "2025-01-27T14:30:00Z", "authors": [{"name": "Ann"}]},
                {"id": "2", "content_text": "Untitled but has text", "url": "/2"}]}"""
    items = parse_feed(
        body,
        {"content-type": "application/feed+json"},
        "https://ex.com/feed.json",
        SRC,
        fetched=NOW,
    )
    assert (
        items[0].title == "One"
        and items[0].url == "https://ex.com/1"
        and items[0].summary == "Body"
    )
    assert items[0].author == "Ann" and items[0].published == datetime(
        2025, 1, 27, 14, 30, tzinfo=UTC
    )
    assert items[1].title == "Untitled but has text" and items[1].url == "https://ex.com/2"


def test_json_api_by_field_mapping_with_jsonp_and_local_times() -> None:
    source = Source(
        name="api",
        url="https://api.example.com/news",
        kind="json",
        lang="zh",
        json=JsonMapping(
            items="data.list",
            title="title",
            url="shareurl",
            summary="brief",
            published="ctime",
            id="id",
            utc_offset="+08:00",
        ),
    )
    body = """cb({"data": {"list": [
      {"id": 11, "title": "<b>小米</b>发布新车", "shareurl": "https://ex.cn/11", "brief": "摘要", "ctime": "2025-01-27 22:30:00"},
      {"id": 12, "title": "蔚来", "ctime": 1737988200},
      "junk"]}});""".encode()
    items = parse_feed(
        body, {"Content-Type": "application/javascript"}, source.url, source, fetched=NOW
    )
    assert [i.title for i in items] == ["小米发布新车", "蔚来"]
    assert items[0].published == datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    assert items[1].published == datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    assert items[1].guid == "12" and items[1].url == "" and items[0].lang == "zh"
    with pytest.raises(FeedError, match=r"no list at 'data\.list'"):
        parse_feed(b'{"data": {}}', {}, source.url, source)
    with pytest.raises(FeedError, match="not JSON"):
        parse_feed(b"<html>", {}, source.url, source)


def test_local_times_without_a_zone_follow_the_source_offset() -> None:
    body = b"""<rss version="2.0"><channel><title>cninfo</title>
<item><title>No zone</title><link>https://ex.cn/1</link><pubDate>2025-01-27 22:30:00</pubDate></item>
<item><title>With zone</title><link>https://ex.cn/2</link><pubDate>Mon, 27 Jan 2025 22:30:00 +0800</pubDate></item>
</channel></rss>"""
    shanghai = Source(name="cninfo", url="https://ex.cn/rss", utc_offset="+08:00")
    local, zoned = parse_feed(
        body, {"content-type": "application/rss+xml"}, shanghai.url, shanghai, fetched=NOW
    )
    assert local.published == zoned.published == datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
    (plain, _) = parse(body, "application/rss+xml")
    assert plain.published == NOW  # read as UTC it lies 7.5 h in the future: clamped


def test_entity_expansion_bomb_is_harmless() -> None:
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    body = f"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{entities}]>
<rss version="2.0"><channel><title>&l9;</title><item><title>&l9;</title><link>https://ex.com/a</link></item></channel></rss>""".encode()
    try:
        items = parse(body, "application/rss+xml")
    except FeedError:
        return
    assert all(len(i.title) < 10_000 for i in items)


def test_relative_rss_links_resolve_against_the_response_url() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
<item><title>Relative</title><link>/news/1.html</link></item>
<item><title>Absolute</title><link>https://other.example.com/2</link></item></channel></rss>"""
    items = parse(body, "application/rss+xml", url="https://site.example.com/feeds/rss.xml")
    assert [i.url for i in items] == [
        "https://site.example.com/news/1.html",
        "https://other.example.com/2",
    ]


def test_xml_served_as_text_plain_is_still_parsed() -> None:
    assert [i.title for i in parse(rss(1).encode(), "text/plain; charset=utf-8")] == ["Story 0"]
