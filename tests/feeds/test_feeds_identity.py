"""Canonical URLs, stable ids, dedup keys, plain text; ids stable across sources and restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import NOW, RSS_TYPE, fetcher, rss, run
from loopback import LoopbackServer, Reply

from thesiswatch.feeds.models import Source
from thesiswatch.feeds.normalize import (
    canonical_url,
    clean_text,
    item_id,
    plain_text,
    title_key,
    url_key,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://ex.com/a?utm_source=rss&utm_medium=feed&id=7", "https://ex.com/a?id=7"),
        ("HTTPS://EX.com:443/a#comments", "https://ex.com/a"),
        ("http://ex.com:8080/a?b=2&a=1", "http://ex.com:8080/a?a=1&b=2"),
        ("https://ex.com/a?fbclid=x&gclid=y&mc_cid=z&spm=a.b", "https://ex.com/a"),
        (
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=AB12&url=https%3a%2f%2fwww.reuters.com%2ftech%2fnvidia-2025%2f%3futm_source%3dbing&c=123&mkt=en-us",
            "https://www.reuters.com/tech/nvidia-2025/",
        ),
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://ex.com/story&ct=ga",
            "https://ex.com/story",
        ),
        (
            "https://news.google.com/rss/articles/CBMiXkFV?oc=5&hl=en-US&gl=US&ceid=US:en",
            "https://news.google.com/rss/articles/CBMiXkFV",
        ),
        (
            "https://news.google.com/articles/CBMiXkFV?hl=zh-CN",
            "https://news.google.com/rss/articles/CBMiXkFV",
        ),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=abc&chksm=zz&scene=21#wechat_redirect",
            "https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=1&sn=abc",
        ),
        (
            "https://finance.sina.com.cn/stock/中文.shtml",
            "https://finance.sina.com.cn/stock/%E4%B8%AD%E6%96%87.shtml",
        ),
        ("  not a url  ", "not a url"),
        ("javascript:alert(1)", "javascript:alert(1)"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(canonical_url(raw)) == canonical_url(raw)  # idempotent


def test_url_key_folds_scheme_www_and_trailing_slash() -> None:
    assert url_key("http://www.ex.com/a/") == url_key("https://ex.com/a") == "https://ex.com/a"


def test_item_id_is_stable_and_prefers_the_url() -> None:
    a = item_id(url="https://ex.com/a?utm_source=x", guid="1", source_id="s1", title="Title")
    assert a == item_id(
        url="http://www.ex.com/a#top", guid="other", source_id="s2", title="Edited title"
    )
    assert a != item_id(url="https://ex.com/b", guid="1", source_id="s1", title="Title")
    by_guid = item_id(url=None, guid="urn:x:1", source_id="s1", title="Title")
    assert by_guid == item_id(url=None, guid="urn:x:1", source_id="s1", title="Edited")
    assert by_guid != item_id(url=None, guid="urn:x:1", source_id="s2", title="Title")
    by_title = item_id(url=None, guid=None, source_id="s1", title="Nvidia falls - Reuters")
    assert by_title == item_id(url=None, guid=" ", source_id="s1", title="NVIDIA  falls")
    assert len({a, by_guid, by_title}) == 3


def test_item_ids_do_not_depend_on_the_process() -> None:
    code = "from thesiswatch.feeds.normalize import item_id; print(item_id(url='https://ex.com/x', guid=None, source_id='s', title='t'))"
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        outputs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert len(outputs) == 1
    assert outputs.pop().strip() == item_id(
        url="https://ex.com/x", guid=None, source_id="s", title="t"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nvidia shares plunge 17% - Reuters", "NVIDIA shares plunge 17%"),
        ("英伟达股价大跌17% - 新浪财经", "英伟达股价大跌 17%"),
        ("英伟达股价大跌17%_新浪财经_新浪网", "英伟达股价大跌17%"),
        ("ＤｅｅｐＳｅｅｋ发布新模型", "DeepSeek发布新模型"),
        (
            "Apple | Nvidia rally continues as chips rebound | Bloomberg",
            "Apple | Nvidia rally continues as chips rebound",
        ),
    ],
)
def test_title_key_folds_publisher_suffix_width_and_case(a: str, b: str) -> None:
    assert title_key(a) == title_key(b)


def test_title_key_keeps_meaningful_dashes() -> None:
    assert title_key("Nvidia - the AI giant") != title_key("Nvidia")
    assert title_key("10-K - TESORO CORP") != title_key("10-K")


def test_plain_text_and_clean_text() -> None:
    assert plain_text("<p>A&amp;B</p><style>p{}</style><script>bad()</script><p>C</p>") == "A&B C"
    assert plain_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"
    assert plain_text("x\x1b[31my\x1b]0;title\x07z") == "xyz"
    assert clean_text("a\u202eb\u200bc\x00d\x9b1me\x85") == "abcde"
    assert clean_text("  多   空\u3000格 ") == "多 空 格"
    assert plain_text("") == "" and clean_text("") == ""


def test_same_story_in_two_sources_and_after_a_restart_has_one_id() -> None:
    """Dedup is the store's job; it keys on these ids, so they must agree across sources,
    polls and fresh fetchers (a restart)."""
    one = rss(3, prefix="https://news.example.com/story").encode()
    other = rss(
        3,
        prefix="http://www.news.example.com/story",
        title="Another aggregator",
        item_title="Edited {n}",
    ).encode()
    with LoopbackServer(
        {"/a": Reply(body=one, headers=RSS_TYPE), "/b": Reply(body=other, headers=RSS_TYPE)}
    ) as server:
        src_a = Source(name="a", url=server.url("/a"))
        src_b = Source(name="b", url=server.url("/b"))

        async def poll() -> tuple:
            f = fetcher()
            a = await f.fetch(src_a, None)
            b = await f.fetch(src_b, None)
            await f.aclose()
            return a, b

        first_a, first_b = run(poll())
        again_a, _ = run(poll())  # a new Fetcher, as after a restart
    ids_a = [i.id for i in first_a.items]
    assert ids_a == [i.id for i in first_b.items] == [i.id for i in again_a.items]
    assert len(set(ids_a)) == 3
    assert first_a.items[0].source_id != first_b.items[0].source_id
    assert all(i.fetched == NOW for i in first_a.items)
