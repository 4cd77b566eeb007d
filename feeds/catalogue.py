"""The built-in source catalogue: feed URLs built from a watchlist's companies.

Builders for the source kinds the research found usable (see docs/feeds.md):

- ``google_news(query, lang)``: Google News search RSS, zh-CN / en-US (also zh-HK, zh-TW)
  locales with consistent ``hl``/``gl``/``ceid`` (inconsistent ones return odd or empty
  results); entries link to Google redirect tokens, titles read "headline - Publisher";
- ``yahoo_finance(symbol)``: Yahoo Finance headline RSS; Yahoo answers 429 to an empty or
  bot-like User-Agent, so these sources carry a browser-like one (which still names us);
- ``sec_edgar(cik, form)``: EDGAR company filings Atom; SEC requires a User-Agent with a
  contact address (``sec_contact``) and at most 10 requests/s;
- ``rsshub(base, route)``: a route of a *self-hosted* RSSHub (the public rsshub.app restricts
  feed readers); only used when ``rsshub_base`` is set.

``builtin_sources(companies)`` makes, per company: Google News searches for its Chinese and
English names, Yahoo and SEC feeds for its US listings, and RSSHub routes when a base URL is
given; plus DeepSeek searches. Each source lists the company's ticker id in ``tickers``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from thesiswatch.feeds.models import Source

__all__ = [
    "BROWSER_USER_AGENT",
    "GOOGLE_NEWS_LOCALES",
    "builtin_sources",
    "google_news",
    "rsshub",
    "sec_edgar",
    "sec_user_agent",
    "yahoo_finance",
]

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 thesiswatch/0.1"
)
# hl, gl, ceid per language: they must agree with each other.
GOOGLE_NEWS_LOCALES: dict[str, tuple[str, str, str]] = {
    "zh": ("zh-CN", "CN", "CN:zh-Hans"),
    "zh-CN": ("zh-CN", "CN", "CN:zh-Hans"),
    "zh-HK": ("zh-HK", "HK", "HK:zh-Hant"),
    "zh-TW": ("zh-TW", "TW", "TW:zh-Hant"),
    "en": ("en-US", "US", "US:en"),
    "en-US": ("en-US", "US", "US:en"),
}
GOOGLE_NEWS_INTERVAL = 900  # no documented limit; third parties advise >= 60 s per feed
YAHOO_INTERVAL = 900
SEC_INTERVAL = 1800
RSSHUB_INTERVAL = 600  # RSSHub caches routes for 5 minutes by default
DEEPSEEK_ID = "DEEPSEEK"


class CompanyLike(Protocol):
    id: str
    name: str
    name_zh: str
    listings: Sequence[str]


def _query(text: str) -> str:
    text = text.strip()
    return f'"{text}"' if " " in text and not text.startswith('"') else text


def google_news(
    query: str, lang: str = "en", *, name: str | None = None, tickers: Iterable[str] = ()
) -> Source:
    """A Google News search feed for ``query`` in the locale of ``lang`` ("zh", "en", ...).

    >>> google_news("台积电", "zh").url
    'https://news.google.com/rss/search?q=%E5%8F%B0%E7%A7%AF%E7%94%B5&hl=zh-CN&gl=CN&ceid=CN%3Azh-Hans'
    """
    try:
        hl, gl, ceid = GOOGLE_NEWS_LOCALES[lang]
    except KeyError:
        raise ValueError(
            f"unknown Google News locale {lang!r}; one of {', '.join(GOOGLE_NEWS_LOCALES)}"
        ) from None
    params = urlencode({"q": _query(query), "hl": hl, "gl": gl, "ceid": ceid}, quote_via=quote)
    short = lang.split("-", 1)[0]
    return Source(
        name=name or f"Google News: {query} ({lang})",
        url=f"https://news.google.com/rss/search?{params}",
        interval=GOOGLE_NEWS_INTERVAL,
        lang=short,
        tickers=tuple(tickers),
    )


def yahoo_finance(symbol: str, *, name: str | None = None, tickers: Iterable[str] = ()) -> Source:
    """Yahoo Finance headlines for one symbol (Yahoo's own form: ``NVDA``, ``0981.HK``)."""
    params = urlencode({"s": symbol, "region": "US", "lang": "en-US"})
    return Source(
        name=name or f"Yahoo Finance: {symbol}",
        url=f"https://feeds.finance.yahoo.com/rss/2.0/headline?{params}",
        interval=YAHOO_INTERVAL,
        lang="en",
        user_agent=BROWSER_USER_AGENT,
        tickers=tuple(tickers),
    )


def sec_user_agent(contact: str | None = None) -> str:
    """The User-Agent SEC asks for: who we are and a contact address."""
    return (
        f"thesiswatch/0.1 (+https://github.com/thesiswatch) {contact or 'thesiswatch@example.com'}"
    )


def sec_edgar(
    cik: str,
    form: str = "",
    *,
    name: str | None = None,
    tickers: Iterable[str] = (),
    contact: str | None = None,
) -> Source:
    """EDGAR filings of one company as Atom (``form`` filters: "8-K", "6-K", ...; "" = all)."""
    digits = "".join(ch for ch in cik if ch.isdigit())
    if not digits:
        raise ValueError(f"not a CIK: {cik!r}")
    params = urlencode(
        {
            "action": "getcompany",
            "CIK": digits.zfill(10),
            "type": form,
            "dateb": "",
            "owner": "include",
            "start": "0",
            "count": "40",
            "output": "atom",
        }
    )
    return Source(
        name=name or f"SEC EDGAR: {digits.zfill(10)} {form}".rstrip(),
        url=f"https://www.sec.gov/cgi-bin/browse-edgar?{params}",
        interval=SEC_INTERVAL,
        lang="en",
        user_agent=sec_user_agent(contact),
        tickers=tuple(tickers),
    )


def rsshub(
    base: str,
    route: str,
    *,
    name: str | None = None,
    lang: str | None = "zh",
    tickers: Iterable[str] = (),
) -> Source:
    """A route of a self-hosted RSSHub, e.g. ``rsshub("http://127.0.0.1:1200", "/deepseek/news")``."""
    path = "/".join(quote(part, safe=":@.,-_~") for part in route.strip().lstrip("/").split("/"))
    return Source(
        name=name or f"RSSHub: /{route.strip().lstrip('/')}",
        url=f"{base.rstrip('/')}/{path}",
        interval=RSSHUB_INTERVAL,
        lang=lang,
        tickers=tuple(tickers),
    )


@lru_cache(maxsize=1)
def _sec_table() -> dict[str, dict[str, str]]:
    text = resources.files("thesiswatch.feeds").joinpath("sec_ciks.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _us_symbols(listings: Iterable[str]) -> list[str]:
    symbols = []
    for listing in listings:
        code, _, market = str(listing).rpartition(".")
        if code and market.upper() == "US":
            symbols.append(code.upper())
    return symbols


def _company_sources(
    company: Any, *, rsshub_base: str | None, sec_contact: str | None
) -> list[Source]:
    cid = str(company.id)
    name = str(getattr(company, "name", "") or "").strip()
    name_zh = str(getattr(company, "name_zh", "") or "").strip()
    listings = tuple(getattr(company, "listings", ()) or ())
    tickers = (cid,)
    out: list[Source] = []
    if name_zh:
        out.append(google_news(name_zh, "zh", name=f"Google News: {name_zh} (zh)", tickers=tickers))
    if name:
        out.append(google_news(name, "en", name=f"Google News: {name} (en)", tickers=tickers))
    table = _sec_table()
    own_cik = getattr(company, "cik", None)
    for symbol in _us_symbols(listings):
        out.append(
            yahoo_finance(symbol, name=f"Yahoo Finance: {symbol} ({name or cid})", tickers=tickers)
        )
        entry = table.get(symbol)
        cik = own_cik or (entry or {}).get("cik")
        if cik:
            form = (entry or {}).get("form", "")
            out.append(
                sec_edgar(
                    cik,
                    form,
                    name=f"SEC EDGAR: {name or symbol} {form}".rstrip(),
                    tickers=tickers,
                    contact=sec_contact,
                )
            )
    if rsshub_base and name_zh:
        out.append(
            rsshub(
                rsshub_base,
                f"/gelonghui/keyword/{name_zh}",
                name=f"RSSHub 格隆汇: {name_zh}",
                tickers=tickers,
            )
        )
    return out


def builtin_sources(
    companies: Iterable[Any],
    *,
    rsshub_base: str | None = None,
    sec_contact: str | None = None,
) -> list[Source]:
    """The default sources for a watchlist's companies (objects with ``id``, ``name``,
    ``name_zh`` and ``listings`` such as ``("NVDA.US",)``), plus DeepSeek searches; RSSHub
    routes only when ``rsshub_base`` is set. No two sources share a URL."""
    sources: list[Source] = []
    for company in companies:
        sources.extend(_company_sources(company, rsshub_base=rsshub_base, sec_contact=sec_contact))
    deepseek = (DEEPSEEK_ID,)
    sources += [
        google_news("DeepSeek", "zh", name="Google News: DeepSeek (zh)", tickers=deepseek),
        google_news("DeepSeek", "en", name="Google News: DeepSeek (en)", tickers=deepseek),
        google_news("深度求索", "zh", name="Google News: 深度求索 (zh)", tickers=deepseek),
    ]
    if rsshub_base:
        sources += [
            rsshub(rsshub_base, "/deepseek/news", name="RSSHub: DeepSeek news", tickers=deepseek),
            rsshub(rsshub_base, "/cls/telegraph", name="RSSHub: 财联社电报"),
            rsshub(rsshub_base, "/wallstreetcn/live/global", name="RSSHub: 华尔街见闻 7x24"),
        ]
    unique: dict[str, Source] = {}
    for source in sources:
        unique.setdefault(source.url, source)
    return list(unique.values())
