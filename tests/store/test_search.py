"""Full-text search in Chinese and English, kept in sync with edits and pruning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.sample import T0, make_item, make_tags
from thesiswatch.store import Store
from thesiswatch.store.textindex import plan_search, short_terms

ITEMS = {
    "zh1": ("小米汽车SU7交付量创新高", "雷军称供应链已国产化"),
    "zh2": ("中芯国际扩产 7nm 产能", "国产替代加速，芯片自给率提升"),
    "zh3": ("台積電營收超預期", "AI 需求強勁"),
    "en1": ("Nvidia shares plunge 17% as DeepSeek rattles AI trade", "Export controls in focus."),
    "en2": ("BYD EV sales hit a record", "Xiaomi also gains"),
}


@pytest.fixture
def indexed(store: Store) -> Store:
    store.save_items(
        [
            (make_item(k, t, summary=s, published=T0 - timedelta(hours=n)), make_tags())
            for n, (k, (t, s)) in enumerate(ITEMS.items())
        ]
    )
    return store


def found(store: Store, search: str) -> set[str]:
    return {i.id for i in store.items(search=search)}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("中芯国际", {"zh2"}),  # 4 characters: trigram
        ("小米", {"zh1"}),  # 2 characters: short-term index
        ("芯片", {"zh2"}),
        ("国产", {"zh1", "zh2"}),  # in the summary
        ("台積電", {"zh3"}),  # traditional characters as written
        ("國產替代", {"zh2"}),  # typed in traditional, stored in simplified: folded
        ("營收", {"zh3"}),  # 2 traditional characters, as written
        ("國產", {"zh1", "zh2"}),  # 2 characters, folded, through the short-term index
        ("中芯國際 產能", {"zh2"}),
        ("deepseek", {"en1"}),  # case-insensitive
        ("DeepSeek", {"en1"}),
        ("export controls", {"en1"}),  # AND of two words
        ('"export controls"', {"en1"}),  # phrase
        ("ai", {"zh3", "en1"}),  # 2-letter word, in both languages
        ("EV", {"en2"}),
        ("xiaomi 小米", set()),  # every term must match
        ("17%", {"en1"}),  # a 2-char term that is not a word: LIKE
        ("米", {"zh1"}),  # one character: LIKE
        ("nothing-like-this", set()),
        ('"un"balanced"', set()),  # quotes are not FTS syntax errors
    ],
)
def test_search(indexed: Store, search: str, expected: set[str]) -> None:
    assert found(indexed, search) == expected


def test_search_results_newest_first_and_combined_with_filters(indexed: Store) -> None:
    assert [i.id for i in indexed.items(search="国产")] == ["zh1", "zh2"]
    assert [i.id for i in indexed.items(search="国产", limit=1)] == ["zh1"]
    assert {
        i.id for i in indexed.items(search="ai", since=T0 - timedelta(hours=2, minutes=30))
    } == {"zh3"}


def test_edit_and_prune_keep_both_indexes_in_sync(indexed: Store) -> None:
    indexed.save_items(
        [(make_item("zh1", "华为发布新款手机", summary="供应链", published=T0), make_tags())]
    )
    assert found(indexed, "小米") == set()
    assert found(indexed, "华为") == {"zh1"}
    assert found(indexed, "新款手机") == {"zh1"}
    indexed.prune(older_than=timedelta(hours=1), now=T0 + timedelta(minutes=30))
    assert found(indexed, "国产") == set() and found(indexed, "ai") == set()
    assert found(indexed, "华为") == {"zh1"}
    for table in ("items_fts", "items_fts_short"):  # raises when an index disagrees
        indexed._conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")


def test_fts_is_plain_sql_for_analysts(indexed: Store) -> None:
    _, rows = indexed.query(
        "SELECT i.id FROM items_fts JOIN items AS i ON i.key = items_fts.rowid "
        "WHERE items_fts MATCH ? ORDER BY i.id",
        ("中芯国际",),
    )
    assert rows == [("zh2",)]


def test_short_terms_and_plan() -> None:
    assert short_terms("小米汽车", "AI in EV") == "小米 米汽 汽车 ai ev"
    plan = plan_search('中芯国际 小米 "a b" 米 AI')
    assert plan.trigram == '"中芯国际" AND "a b"'
    assert plan.short == ("小米", "ai") and plan.like == ("米",)


def test_short_terms_lowercase_exactly_as_the_text_lowered() -> None:
    """Words are lowered one by one on the hot path; the terms are those of the lowered
    text, including around the two non-ASCII letters whose lower case is ASCII (İ, Kelvin K)."""
    assert short_terms("EV 小米 AI", "Go ev") == "小米 ev ai"  # 'go' is a stopword
    assert short_terms("Xİ AB") == "xi ab"  # 'İ'.lower() == 'i̇': the lowered text has 'xi'
    assert short_terms("\u212aA CD") == "ka cd"  # the Kelvin sign lowers to 'k'
    assert short_terms("ÀB cd éF") == "cd"
    assert short_terms("ＡＩ 全角") == "全角"  # full-width letters are not ASCII words


def test_search_combined_with_ticker_and_thesis(store: Store) -> None:
    store.save_items(
        [
            (
                make_item("a", "小米 price war", published=T0),
                make_tags(tickers=("1810.HK",), theses={"edge": "challenge"}),
            ),
            (
                make_item("b", "NIO price war", published=T0 - timedelta(hours=1)),
                make_tags(tickers=("NIO.US",), theses={"edge": "challenge"}),
            ),
            (
                make_item("c", "NIO price war again", published=T0 - timedelta(hours=2)),
                make_tags(tickers=("NIO.US",), theses={"risk": "support"}),
            ),
            (
                make_item("d", "NIO 100% up", published=T0 - timedelta(hours=3)),
                make_tags(tickers=("NIO.US",)),
            ),
        ]
    )
    ids = lambda **kw: [i.id for i in store.items(**kw)]  # noqa: E731
    assert ids(search="price war", ticker="NIO.US") == ["b", "c"]
    assert ids(search="price war", thesis="edge") == ["a", "b"]
    assert ids(search="price war", ticker="NIO.US", thesis="risk") == ["c"]
    assert ids(search="小米", thesis="edge") == ["a"]
    assert ids(search="%", ticker="NIO.US") == ["d"]  # LIKE wildcards are escaped
    assert ids(search="price war", since=T0 - timedelta(minutes=90)) == ["a", "b"]
