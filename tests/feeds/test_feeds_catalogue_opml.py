"""The built-in catalogue and OPML import/export."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from thesiswatch.errors import FeedError
from thesiswatch.feeds.catalogue import (
    BROWSER_USER_AGENT,
    builtin_sources,
    google_news,
    rsshub,
    sec_edgar,
    yahoo_finance,
)
from thesiswatch.feeds.models import JsonMapping, Source
from thesiswatch.feeds.opml import read_opml, write_opml


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    name_zh: str = ""
    listings: tuple[str, ...] = ()


COMPANIES = [
    Company("2330.TT", "TSMC", "台积电", ("2330.TT", "TSM.US")),
    Company("NVDA.US", "NVIDIA", "英伟达", ("NVDA.US",)),
    Company("1810.HK", "Xiaomi", "小米集团", ("1810.HK",)),
    Company("285.HK", "BYD Electronic", "比亚迪电子", ("285.HK",)),
    Company("DEEPSEEK", "DeepSeek", "深度求索"),
]


def test_google_news_locales_are_consistent() -> None:
    zh = parse_qs(urlsplit(google_news("台积电", "zh").url).query)
    assert zh == {"q": ["台积电"], "hl": ["zh-CN"], "gl": ["CN"], "ceid": ["CN:zh-Hans"]}
    en = parse_qs(urlsplit(google_news("BYD Electronic", "en").url).query)
    assert en == {"q": ['"BYD Electronic"'], "hl": ["en-US"], "gl": ["US"], "ceid": ["US:en"]}
    with pytest.raises(ValueError, match="unknown Google News locale"):
        google_news("x", "fr")


def test_builders() -> None:
    y = yahoo_finance("NVDA")
    assert y.url == "https://feeds.finance.yahoo.com/rss/2.0/headline?s=NVDA&region=US&lang=en-US"
    assert y.user_agent == BROWSER_USER_AGENT and "Mozilla/5.0" in y.user_agent
    s = sec_edgar("1045810", "8-K", contact="ops@example.org")
    query = parse_qs(urlsplit(s.url).query)
    assert (
        query["CIK"] == ["0001045810"] and query["type"] == ["8-K"] and query["output"] == ["atom"]
    )
    assert (s.user_agent or "").endswith("ops@example.org")
    r = rsshub("http://127.0.0.1:1200/", "/gelonghui/keyword/小米集团")
    assert r.url == "http://127.0.0.1:1200/gelonghui/keyword/%E5%B0%8F%E7%B1%B3%E9%9B%86%E5%9B%A2"


def test_builtin_sources() -> None:
    sources = builtin_sources(COMPANIES)
    urls = [s.url for s in sources]
    assert len(urls) == len(set(urls))  # no duplicates
    assert not any("rsshub" in s.name.lower() for s in sources)
    by_name = {s.name: s for s in sources}
    assert by_name["Google News: 台积电 (zh)"].tickers == ("2330.TT",)
    assert by_name["Google News: 台积电 (zh)"].lang == "zh"
    assert by_name["Google News: TSMC (en)"].lang == "en"
    yahoo = [s for s in sources if "finance.yahoo.com" in s.url]
    assert sorted(parse_qs(urlsplit(s.url).query)["s"][0] for s in yahoo) == [
        "NVDA",
        "TSM",
    ]  # US listings only
    sec = [s for s in sources if "sec.gov" in s.url]
    assert {parse_qs(urlsplit(s.url).query)["CIK"][0] for s in sec} == {"0001046179", "0001045810"}
    assert all("@" in (s.user_agent or "") for s in sec)
    deepseek = [s for s in sources if s.tickers == ("DEEPSEEK",)]
    assert {s.lang for s in deepseek} == {"zh", "en"} and len(deepseek) >= 3
    with_hub = builtin_sources(COMPANIES, rsshub_base="http://127.0.0.1:1200")
    hub = [s for s in with_hub if s.url.startswith("http://127.0.0.1:1200/")]
    assert "http://127.0.0.1:1200/deepseek/news" in [s.url for s in hub]
    assert all(s.interval >= 60 for s in with_hub)


def test_builtin_sources_for_the_real_watchlist() -> None:
    watchlist = pytest.importorskip("thesiswatch.watchlists").load_watchlist()
    sources = builtin_sources(watchlist.companies)
    assert len(sources) > 40
    assert len({s.url for s in sources}) == len(sources)


def test_opml_round_trip() -> None:
    sources = [
        *builtin_sources(COMPANIES, rsshub_base="http://127.0.0.1:1200")[:6],
        Source(
            name='Odd <name> & "quotes"',
            url="https://ex.com/feed?a=1&b=2",
            interval=1234,
            lang="zh",
            tickers=("A.US", "B.HK"),
        ),
        Source(name="custom id", url="https://ex.com/x", id="my-id"),
        Source(
            name="API",
            url="https://api.example.com/news?x=1",
            kind="json",
            json=JsonMapping(
                items="data.list", title="title", url="link", published="ts", utc_offset="+08:00"
            ),
        ),
    ]
    text = write_opml(sources)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert read_opml(text) == sources


def test_read_opml_from_other_readers() -> None:
    text = """<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0"><head><title>Subscriptions</title></head><body>
  <outline text="Tech" title="Tech">
    <outline type="rss" text="IT之家" title="IT之家" xmlUrl="https://www.ithome.com/rss/" htmlUrl="https://www.ithome.com"/>
    <outline type="rss" title="No text" xmlUrl="https://ex.com/b.xml"/>
  </outline>
  <outline type="rss" text="dup" xmlUrl="https://www.ithome.com/rss/"/>
</body></opml>"""
    sources = read_opml(text)
    assert [(s.name, s.url, s.interval) for s in sources] == [
        ("IT之家", "https://www.ithome.com/rss/", 600),
        ("No text", "https://ex.com/b.xml", 600),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<opml><body><outline", "OPML: not well-formed XML"),
        ("<html><body/></html>", "OPML: not an OPML document (root element is <html>)"),
        ("<opml version='2.0'><head/></opml>", "OPML: no <body> element"),
        (
            "<opml><body><outline text='x' xmlUrl='file:///etc/passwd'/></body></opml>",
            "OPML: outline 1: xmlUrl",
        ),
        (
            "<opml><body><outline text='x' xmlUrl='https://e.com/' interval='often'/></body></opml>",
            "OPML: outline 'x': interval 'often'",
        ),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>',
            "OPML: entity declarations are not allowed",
        ),
    ],
)
def test_bad_opml_is_one_line_feed_error(text: str, message: str) -> None:
    with pytest.raises(FeedError) as info:
        read_opml(text)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
