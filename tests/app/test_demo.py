"""The demo feed server: loopback only, real feeds, conditional GET, held-back items, encodings."""

from __future__ import annotations

import calendar
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest

from thesiswatch.demo import DemoServer, SampleItem, load_feeds, load_samples
from thesiswatch.feeds.models import Source
from thesiswatch.signals.lang import detect_lang

START = datetime(2025, 1, 27, 14, 30, tzinfo=UTC)

# Every covered ticker with the names a reader would look for (English, simplified,
# traditional); the samples must mention each company by at least one of them.
COVERED_NAMES: dict[str, tuple[str, ...]] = {
    "2330.TT": ("TSMC", "Taiwan Semiconductor", "台积电", "台積電"),
    "NVDA.US": ("Nvidia", "NVIDIA", "英伟达", "輝達"),
    "AMD.US": ("AMD", "Advanced Micro Devices"),
    "AAPL.US": ("Apple Inc.", "Apple edges", "苹果"),
    "1810.HK": ("Xiaomi", "小米汽车", "小米手机", "小米："),
    "285.HK": ("BYD Electronic", "比亚迪电子"),
    "300433.CH": ("Lens Technology", "蓝思科技"),
    "002475.CH": ("Luxshare", "立讯精密"),
    "NIO.US": ("NIO", "蔚来"),
    "XPEV.US": ("XPeng", "小鹏"),
    "LI.US": ("Li Auto", "理想汽车"),
    "9863.HK": ("Leapmotor", "零跑"),
    "1211.HK": ("BYD", "比亚迪"),
    "HSAI.US": ("Hesai", "禾赛"),
    "2498.HK": ("RoboSense", "速腾聚创"),
    "MBLY.US": ("Mobileye",),
    "981.HK": ("SMIC", "中芯国际"),
    "1347.HK": ("Hua Hong", "华虹"),
    "605111.CH": ("NCE Power", "新洁能"),
    "300373.CH": ("Yangjie", "扬杰科技"),
    "688396.CH": ("CR Micro", "China Resources Micro", "华润微"),
    "DEEPSEEK": ("DeepSeek", "深度求索"),
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[DemoServer]:
    with DemoServer(clock=clock) as demo:
        yield demo


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy configured in the environment must not see loopback traffic.
    with httpx.Client(trust_env=False, timeout=5) as http:
        yield http


def fetch(client: httpx.Client, source: Source) -> feedparser.FeedParserDict:
    response = client.get(source.url)
    assert response.status_code == 200
    return feedparser.parse(response.content, response_headers=dict(response.headers))


def entry_time(entry: feedparser.FeedParserDict) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)


def source_named(server: DemoServer, fragment: str) -> Source:
    (source,) = [s for s in server.sources() if fragment in s.name]
    return source


# -- the sample data -------------------------------------------------------------------------


def test_samples_load_as_frozen_records() -> None:
    samples = load_samples()
    assert 60 <= len(samples) <= 90
    assert all(isinstance(item, SampleItem) for item in samples)
    with pytest.raises(AttributeError):
        samples[0].title = "changed"  # type: ignore[misc]
    assert all(item.url.startswith("https://demo.thesiswatch.invalid/") for item in samples)


def test_samples_mix_chinese_and_english_across_feeds() -> None:
    samples = load_samples()
    langs = [detect_lang(item.title + " " + item.summary) for item in samples]
    zh, en = langs.count("zh"), langs.count("en")
    assert zh >= 0.35 * len(samples) and en >= 0.35 * len(samples)
    feeds = load_feeds()
    assert len(feeds) >= 6
    assert {feed.format for feed in feeds} == {"rss", "atom"}
    assert any(feed.encoding.lower() == "gb18030" for feed in feeds)
    assert {item.feed for item in samples} == {feed.slug for feed in feeds}


def test_every_covered_company_appears_in_the_samples() -> None:
    text = "\n".join(item.title + " " + item.summary for item in load_samples())
    missing = [t for t, names in COVERED_NAMES.items() if not any(n in text for n in names)]
    assert missing == []


def test_samples_carry_the_features_the_demo_shows_off() -> None:
    samples = load_samples()
    delayed = [item for item in samples if item.release_after_seconds is not None]
    assert 5 <= len(delayed) <= 12
    assert all(5 <= (item.release_after_seconds or 0) <= 90 for item in delayed)
    bare_urls = [item.url.split("?", 1)[0] for item in samples]
    assert len(set(bare_urls)) < len(bare_urls), "one story should be carried by two feeds"
    titles = " ".join(item.title for item in samples)
    assert "[bold red]" in titles and "<script>" in titles and "\x1b[" in titles
    assert max(len(item.title) for item in samples) > 300
    assert "小米粥" in titles
    assert max(item.minutes_ago for item in samples) <= 7 * 24 * 60


# -- the server ------------------------------------------------------------------------------


def test_serves_on_loopback_with_one_source_per_feed(server: DemoServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    sources = server.sources()
    assert [s.name for s in sources] == [feed.name for feed in load_feeds()]
    assert all(s.url.startswith(server.base_url + "/feeds/") for s in sources)
    assert all(s.interval == 30 and s.lang in ("en", "zh") for s in sources)
    assert len({s.id for s in sources}) == len(sources)


def test_every_feed_parses_with_entries(server: DemoServer, client: httpx.Client) -> None:
    for source in server.sources():
        parsed = fetch(client, source)
        assert parsed.entries, source.name
        feed = next(f for f in load_feeds() if f.name == source.name)
        assert parsed.version == ("atom10" if feed.format == "atom" else "rss20")
        if not feed.malformed:
            assert not parsed.bozo, (source.name, parsed.get("bozo_exception"))
        for entry in parsed.entries:
            assert entry.title and entry.link.startswith("https://demo.thesiswatch.invalid/")
            assert entry.published_parsed is not None


def test_the_malformed_feed_still_yields_its_hostile_titles(
    server: DemoServer, client: httpx.Client
) -> None:
    parsed = fetch(client, source_named(server, "Reader Board"))
    assert parsed.bozo  # raw ANSI escapes are not well-formed XML...
    titles = [entry.title for entry in parsed.entries]
    assert any("\x1b[31m" in title for title in titles)  # ...but a reader recovers them


def test_timestamps_are_relative_to_the_server_start(
    server: DemoServer, client: httpx.Client
) -> None:
    samples = {item.url: item for item in load_samples() if item.feed == "wire"}
    parsed = fetch(client, source_named(server, "Demo Wire"))
    for entry in parsed.entries:
        item = samples[entry.link]
        published = entry_time(entry)
        assert published == (START - timedelta(minutes=item.minutes_ago)).replace(microsecond=0)


def test_repeated_conditional_get_is_not_modified(server: DemoServer, client: httpx.Client) -> None:
    url = server.sources()[0].url
    first = client.get(url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert first.headers["Content-Type"].startswith("application/rss+xml")
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_held_back_items_appear_after_their_release(
    server: DemoServer, client: httpx.Client, clock: FakeClock
) -> None:
    delayed = [item for item in load_samples() if item.release_after_seconds is not None]
    last_release = max(item.release_after_seconds or 0 for item in delayed)
    source_of = {
        feed.slug: source for feed, source in zip(load_feeds(), server.sources(), strict=True)
    }

    def links(slug: str) -> set[str]:
        return {entry.link for entry in fetch(client, source_of[slug]).entries}

    for item in delayed:
        assert item.url not in links(item.feed)

    first = min(delayed, key=lambda item: item.release_after_seconds or 0)
    source = source_of[first.feed]
    before = client.get(source.url)
    clock.advance(first.release_after_seconds or 0)
    assert first.url in links(first.feed)
    # the feed changed, so the old validator no longer matches
    assert (
        client.get(source.url, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    )

    clock.advance(last_release)
    for item in delayed:
        assert item.url in links(item.feed)
    released = {entry.link: entry for entry in fetch(client, source_of[first.feed]).entries}
    published = entry_time(released[first.url])
    assert published == START + timedelta(seconds=first.release_after_seconds or 0)


def test_gb18030_feed_declares_its_charset_and_decodes_to_chinese(
    server: DemoServer, client: httpx.Client
) -> None:
    feed = next(f for f in load_feeds() if f.encoding.lower() == "gb18030")
    source = source_named(server, feed.name)
    response = client.get(source.url)
    assert "charset=gb18030" in response.headers["Content-Type"].lower()
    assert response.content.startswith(b'<?xml version="1.0" encoding="GB18030"?>')
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    parsed = feedparser.parse(response.content, response_headers=dict(response.headers))
    assert not parsed.bozo
    titles = {entry.title for entry in parsed.entries}
    expected = {item.title for item in load_samples() if item.feed == feed.slug}
    assert titles <= expected and "英伟达股价单日重挫17%，市值蒸发规模创纪录" in titles


def test_unknown_paths_are_404(server: DemoServer, client: httpx.Client) -> None:
    assert client.get(server.base_url + "/feeds/nope.xml").status_code == 404
    assert client.get(server.base_url + "/").status_code == 200


def test_stops_cleanly_and_frees_its_threads(client: httpx.Client) -> None:
    before = set(threading.enumerate())
    server = DemoServer(clock=FakeClock(START)).start()
    url = server.sources()[0].url
    assert client.get(url).status_code == 200
    server.stop()
    server.stop()  # idempotent
    assert set(threading.enumerate()) <= before
    with pytest.raises(httpx.ConnectError):
        client.get(url)


def test_injected_samples_and_feeds_are_served(client: httpx.Client) -> None:
    feed = next(f for f in load_feeds() if f.format == "atom")
    items = [
        SampleItem(feed=feed.slug, title="Only item", url="https://demo.thesiswatch.invalid/x")
    ]
    with DemoServer(items, feeds=[feed], clock=FakeClock(START)) as server:
        (source,) = server.sources()
        parsed = fetch(client, source)
    assert [entry.title for entry in parsed.entries] == ["Only item"]
