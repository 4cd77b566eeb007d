"""Saving items: dedup, linking sources, edits, tags, filters and the JSON shape."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.store.sample import SRC_B, T0, make_item, make_tags
from thesiswatch.errors import StoreError
from thesiswatch.store import Store


def test_new_item_is_stored_with_its_tags(store: Store) -> None:
    item = make_item("n1", "Nvidia falls as DeepSeek rattles AI trade", summary="Chips slide.")
    tags = make_tags(
        tickers=("NVDA.US", "DEEPSEEK"), theses={"compute": "challenge"}, label="neg", score=-0.62
    )
    result = store.save_items([(item, tags)])
    assert (result.new, result.updated, result.seen) == (["n1"], [], [])
    stored = store.item("n1")
    assert stored is not None
    assert stored.title == item.title and stored.summary == "Chips slide."
    assert stored.published == T0 and stored.fetched == T0 + timedelta(minutes=5)
    assert set(stored.tickers) == {"NVDA.US", "DEEPSEEK"}
    assert stored.theses == {"compute": "challenge"}
    assert (stored.label, stored.score, stored.scorer, stored.scorer_version) == (
        "neg",
        -0.62,
        "test",
        "1",
    )
    assert stored.evidence == ("word",)
    assert stored.sources == ("Wire A",)
    mention = next(m for m in stored.mentions if m.ticker == "NVDA.US")
    assert mention.spans == ((0, 3),) and mention.matched == ("NVDA",)
    assert stored.stances[0].evidence == ("because",)


def test_to_dict_is_the_design_shape(store: Store) -> None:
    store.save_items(
        [
            (
                make_item("n1", "t"),
                make_tags(tickers=("NVDA.US",), label="pos", score=0.5, theses={"risk": "support"}),
            )
        ]
    )
    data = store.item("n1").to_dict()  # type: ignore[union-attr]
    for key in (
        "id",
        "title",
        "summary",
        "url",
        "source",
        "published",
        "lang",
        "sentiment",
        "tickers",
        "theses",
    ):
        assert key in data
    assert data["published"] == "2025-01-27T14:30:00+00:00"
    assert data["sentiment"] == {"label": "pos", "score": 0.5}
    assert data["tickers"] == ["NVDA.US"] and data["theses"] == {"risk": "support"}
    assert data["source"] == "Wire A"


def test_same_id_from_another_source_is_stored_once_and_linked(store: Store) -> None:
    store.save_items([(make_item("n1", "Story", fetched=T0), make_tags())])
    result = store.save_items(
        [
            (
                make_item(
                    "n1", "Story (B's wording)", source=SRC_B, fetched=T0 + timedelta(hours=1)
                ),
                make_tags(),
            )
        ]
    )
    assert (result.new, result.updated, result.seen) == ([], [], ["n1"])
    stored = store.item("n1")
    assert stored is not None
    assert stored.sources == ("Wire A", "Wire B")
    assert stored.title == "Story"  # another source's wording does not overwrite
    assert store.query("SELECT count(*) FROM items")[1] == [(1,)]


def test_same_item_twice_in_one_batch(store: Store) -> None:
    item = make_item("n1", "Story")
    result = store.save_items([(item, make_tags()), (item, make_tags())])
    assert (result.new, result.seen) == (["n1"], [])
    assert store.query("SELECT count(*) FROM item_sources")[1] == [(1,)]


def test_edited_title_updates_and_replaces_tags(store: Store) -> None:
    store.save_items(
        [
            (
                make_item("n1", "BYD sales rise"),
                make_tags(tickers=("1211.HK",), label="pos", score=0.4),
            )
        ]
    )
    result = store.save_items(
        [
            (
                make_item("n1", "BYD sales rise 20%", summary="Record month."),
                make_tags(tickers=("1211.HK", "285.HK"), label="pos", score=0.7),
            )
        ]
    )
    assert result.updated == ["n1"]
    stored = store.item("n1")
    assert stored is not None and stored.updated is not None
    assert stored.title == "BYD sales rise 20%" and stored.summary == "Record month."
    assert set(stored.tickers) == {"1211.HK", "285.HK"} and stored.score == 0.7
    # aggregates moved, not doubled
    _, rows = store.query("SELECT ticker, items, score_sum FROM ticker_daily ORDER BY ticker")
    assert rows == [("1211.HK", 1, 0.7), ("285.HK", 1, 0.7)]
    assert store.items(search="20%")[0].id == "n1"


def test_entries_sharing_one_link_stay_apart(store: Store) -> None:
    # A live page: every flash links to the same URL and has its own guid, so parsing gives
    # each its own id (feeds.normalize.item_id). The store must not merge them by URL: that
    # overwrote the first flash with the second (and, in one batch, broke the text index).
    live = "https://x.example/live"
    first = make_item("g-flash-1", "Nvidia shares halted", url=live)
    second = make_item("g-flash-2", "TSMC resumes trading", url=live)
    result = store.save_items([(first, make_tags()), (second, make_tags())])
    assert result.new == ["g-flash-1", "g-flash-2"]
    third = make_item("g-flash-3", "SMIC wins order", url=live)
    assert store.save_items([(third, make_tags())]).new == ["g-flash-3"]
    assert {i.title for i in store.items()} == {
        "Nvidia shares halted",
        "TSMC resumes trading",
        "SMIC wins order",
    }
    assert [i.id for i in store.items(search="resumes")] == ["g-flash-2"]
    _, rows = store.query("PRAGMA integrity_check")
    assert rows == [("ok",)]


def test_items_are_newest_first_by_published_else_fetched(store: Store) -> None:
    store.save_items(
        [
            (make_item("old", "a", published=T0 - timedelta(days=2)), make_tags()),
            (
                make_item("undated", "b", published=None, fetched=T0 - timedelta(days=1)),
                make_tags(),
            ),
            (make_item("new", "c", published=T0), make_tags()),
        ]
    )
    assert [i.id for i in store.items()] == ["new", "undated", "old"]
    assert [i.id for i in store.items(limit=2)] == ["new", "undated"]
    assert [i.id for i in store.items(since=T0 - timedelta(days=1, hours=1))] == ["new", "undated"]


def test_future_published_time_does_not_jump_the_queue(store: Store) -> None:
    store.save_items(
        [
            (make_item("liar", "a", published=T0 + timedelta(days=30), fetched=T0), make_tags()),
            (make_item("later", "b", published=T0 + timedelta(hours=1)), make_tags()),
        ]
    )
    assert [i.id for i in store.items()] == ["later", "liar"]
    assert store.item("liar").published == T0 + timedelta(days=30)  # type: ignore[union-attr]


def test_filters(store: Store) -> None:
    store.save_items(
        [
            (
                make_item("a", "Nvidia", published=T0),
                make_tags(tickers=("NVDA.US",), label="neg", theses={"compute": "challenge"}),
            ),
            (
                make_item("b", "小米", published=T0 - timedelta(hours=1), source=SRC_B),
                make_tags(lang="zh", tickers=("1810.HK",), label="pos", theses={"edge": "support"}),
            ),
            (
                make_item("c", "Both", published=T0 - timedelta(hours=2)),
                make_tags(
                    tickers=("NVDA.US", "1810.HK"), label="pos", theses={"compute": "support"}
                ),
            ),
        ]
    )
    ids = lambda items: [i.id for i in items]  # noqa: E731
    assert ids(store.items(ticker="NVDA.US")) == ["a", "c"]
    assert ids(store.items(ticker="1810.HK", label="pos")) == ["b", "c"]
    assert ids(store.items(thesis="compute")) == ["a", "c"]
    assert ids(store.items(ticker="1810.HK", thesis="compute")) == ["c"]
    assert ids(store.items(lang="zh")) == ["b"]
    assert ids(store.items(source_id=SRC_B.id)) == ["b"]
    assert ids(store.items(ticker="NVDA.US", since=T0 - timedelta(minutes=30))) == ["a"]
    assert ids(store.items(thesis="compute", since=T0 - timedelta(minutes=30))) == ["a"]


def test_clusters_and_recent_stories(store: Store) -> None:
    store.save_items(
        [
            (make_item("a", "one", published=T0), make_tags(tickers=("NVDA.US",))),
            (make_item("b", "two", published=T0 + timedelta(hours=1)), make_tags()),
        ],
        clusters={"a": "c1", "b": "c1"},
    )
    assert store.item("a").cluster_id == "c1"  # type: ignore[union-attr]
    _, rows = store.query("SELECT id, size, first_seen, last_seen, title FROM clusters")
    assert rows == [("c1", 2, "2025-01-27T14:30:00+00:00", "2025-01-27T15:30:00+00:00", "one")]
    stories = store.recent_stories(since=T0)
    assert [(s[0], s[1], s[2], s[4]) for s in stories] == [
        ("a", "c1", "one", ("NVDA.US",)),
        ("b", "c1", "two", ()),
    ]


def test_save_is_all_or_nothing(store: Store) -> None:
    bad = make_tags()
    object.__setattr__(bad.sentiment, "label", "terrible")  # violates the CHECK constraint
    good = (make_item("ok", "fine"), make_tags())
    with pytest.raises(StoreError):
        store.save_items([good, (make_item("bad", "x"), bad)])
    assert store.item("ok") is None


def test_save_leaves_foreign_keys_on_and_keeps_their_promise(store: Store) -> None:
    # save_items skips SQLite's per-row foreign key checks for speed: they are back on
    # afterwards, also after a failed batch, and a link to no source still fails.
    def fk_on() -> bool:
        return store._conn.execute("PRAGMA foreign_keys").fetchone() == (1,)

    store.save_items([(make_item("a", "fine"), make_tags(tickers=("NVDA.US",)))])
    assert fk_on()
    bad = make_tags()
    object.__setattr__(bad.sentiment, "label", "terrible")
    with pytest.raises(StoreError):
        store.save_items([(make_item("b", "x"), bad)])
    assert fk_on()
    orphan = make_item("c", "no source")
    object.__setattr__(orphan, "source_id", "")
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.save_items([(orphan, make_tags())])
    assert fk_on() and store.item("c") is None
    assert store.query("PRAGMA foreign_key_check")[1] == []


def test_edit_within_one_batch_keeps_the_last_version(store: Store) -> None:
    result = store.save_items(
        [
            (make_item("n1", "First title"), make_tags(tickers=("NVDA.US",))),
            (make_item("n1", "Edited title"), make_tags(tickers=("NVDA.US",))),
        ]
    )
    assert (result.new, result.updated, result.seen) == (["n1"], [], [])
    assert store.item("n1").title == "Edited title"  # type: ignore[union-attr]
    assert store.query("SELECT items FROM ticker_daily")[1] == [(1,)]


def test_export_items_pages_through_everything_in_time_order(store: Store) -> None:
    store.save_items(
        [
            (make_item(f"n{n:04d}", f"story {n}", published=T0 + timedelta(minutes=n)), make_tags())
            for n in range(1203)
        ]
    )
    exported = list(store.export_items())
    assert [e["id"] for e in exported] == [f"n{n:04d}" for n in range(1203)]
    since = list(store.export_items(since=T0 + timedelta(minutes=1200)))
    assert [e["id"] for e in since] == ["n1200", "n1201", "n1202"]
    assert since[0]["published"] == "2025-01-28T10:30:00+00:00"


def test_prune_without_vacuum_and_nothing_to_prune(store: Store) -> None:
    store.save_items([(make_item("n1", "old", published=T0 - timedelta(days=400)), make_tags())])
    assert store.prune(older_than=timedelta(days=365), now=T0, vacuum=False).items_deleted == 1
    result = store.prune(older_than=timedelta(days=365), now=T0)
    assert (result.items_deleted, result.fetch_log_deleted) == (0, 0)
