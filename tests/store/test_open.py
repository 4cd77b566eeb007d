"""Opening: migrations from the first schema, refusals with one clear line, read-only use,
and one writer with readers at the same time."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.store.sample import SRC_A, T0, make_item, make_tags
from thesiswatch.errors import ReadOnlyQueryError, StoreError
from thesiswatch.store import SCHEMA_VERSION, Store
from thesiswatch.store.schema import MIGRATIONS


def first_schema_db(path: Path) -> None:
    """A database as the first released schema left it, with one item in it."""
    conn = sqlite3.connect(path)
    db = Database(conn)
    MIGRATIONS.apply(db, stop_before="0002_fts")
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO sources (id, name, url, added, updated) VALUES ('s1', 'S', 'u', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO items (key, id, url, title, summary, lang, fetched, ts, label, score) "
        "VALUES (1, 'old', 'https://o', '中芯国际 old news', '', 'zh', "
        "'2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00', 'pos', 0.5)"
    )
    conn.execute("INSERT INTO item_sources VALUES (1, 's1', '2024-01-01T00:00:00+00:00')")
    conn.commit()
    conn.close()


def test_first_schema_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first_schema_db(path)
    with Store.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [i.id for i in store.items(search="中芯国际")] == ["old"]
        assert [i.id for i in store.items(search="中芯")] == ["old"]  # short index backfilled
        assert store.item("old").sources == ("S",)  # type: ignore[union-attr]
        names, _ = store.query("SELECT * FROM ticker_daily_sentiment")
        assert "mean_score" in names
        store.save_items([(make_item("new", "BYD news"), make_tags())])
    applied = [
        r[0]
        for r in sqlite3.connect(path).execute("SELECT name FROM _sqlite_migrations ORDER BY id")
    ]
    assert applied == [
        "0001_initial",
        "0002_fts",
        "0003_views",
        "0004_item_publisher",
        "0005_fts_hashsize",
        "0006_drop_items_url_index",
        "0007_events",
        "0008_outbox",
    ]
    indexes = {
        r[0]
        for r in sqlite3.connect(path).execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
        )
    }
    assert "items_url" not in indexes and "items_ts" in indexes
    hashsize = (
        sqlite3.connect(path)
        .execute("SELECT v FROM items_fts_config WHERE k = 'hashsize'")
        .fetchone()
    )
    assert hashsize == (33554432,)
    with Store.open(path) as again:  # idempotent
        assert again.migrate() == []


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer thesiswatch"):
            Store.open(path, readonly=readonly)


def test_unknown_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('thesiswatch', '0099_future', 'x')"
    )
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="0099_future"):
        Store.open(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some text, long enough to have a header " * 20)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        Store.open(path)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        Store.open(path, readonly=True)


def test_another_applications_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.close()
    with pytest.raises(StoreError, match="another application"):
        Store.open(path)


def test_bad_paths(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(blocker / "sub" / "tw.db")
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)
    with pytest.raises(StoreError, match="no database at"):
        Store.open(tmp_path / "missing.db", readonly=True)


def test_creates_parent_folders_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tw.db"
    with Store.open(path) as store:
        assert store.query("PRAGMA journal_mode")[1] == [("wal",)]
        assert store.query("PRAGMA user_version")[1] == [(SCHEMA_VERSION,)]
    assert path.exists()


def test_readonly_open(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    with Store.open(path) as writer:
        writer.sync_sources([SRC_A])
        writer.save_items([(make_item("n1", "Nvidia"), make_tags())])
    with Store.open(path, readonly=True) as reader:
        assert [i.id for i in reader.items()] == ["n1"]
        with pytest.raises(StoreError, match="read-only"):
            reader.meta_set("k", "v")
        with pytest.raises(ReadOnlyQueryError):
            reader.query("DELETE FROM items")


def test_readonly_open_of_an_old_schema_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first_schema_db(path)
    with pytest.raises(StoreError, match="needs upgrading"):
        Store.open(path, readonly=True)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM items",
        "UPDATE items SET title = 'x'",
        "INSERT INTO meta VALUES ('a', 'b')",
        "DROP TABLE items",
        "CREATE TABLE t (a)",
        "CREATE TEMP TABLE t (a)",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA query_only = 0",
        "PRAGMA journal_mode = delete",
        "BEGIN",
        "VACUUM",
        "REPLACE INTO meta VALUES ('a', 'b')",
        "WITH x AS (SELECT 1) DELETE FROM items",
        "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
    ],
)
def test_query_refuses_writes(store: Store, sql: str) -> None:
    store.save_items([(make_item("n1", "Nvidia"), make_tags())])
    with pytest.raises(ReadOnlyQueryError):
        store.query(sql)
    assert store.query("SELECT count(*) FROM items")[1] == [(1,)]
    store.meta_set("still", "writable")  # the store itself still writes afterwards


def test_query_reads(store: Store) -> None:
    store.save_items([(make_item("n1", "Nvidia"), make_tags(tickers=("NVDA.US",)))])
    columns, rows = store.query(
        "WITH t AS (SELECT ticker FROM item_tickers) SELECT ticker, count(*) AS n FROM t "
        "WHERE ticker = ? GROUP BY ticker",
        ["NVDA.US"],
    )
    assert columns == ["ticker", "n"] and rows == [("NVDA.US", 1)]
    assert store.query("PRAGMA table_info(items)")[1]
    assert store.query("SELECT value FROM json_each('[1,2]')")[1] == [(1,), (2,)]
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELECT * FROM no_such_table")
    with pytest.raises(StoreError):
        store.query("SELECT 1; SELECT 2")


def test_reader_while_writer(tmp_path: Path) -> None:
    """A writer saves batches while a read-only store reads: no 'database is locked', counts
    only grow, and data_version tells the reader when to refresh."""
    path = tmp_path / "tw.db"
    writer = Store.open(path)
    writer.sync_sources([SRC_A])
    reader = Store.open(path, readonly=True)
    version = reader.data_version()
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                writer.save_items(
                    [
                        (
                            make_item(
                                f"b{batch}-{n}",
                                f"DeepSeek 小米 story {batch} {n}",
                                published=T0 + timedelta(minutes=batch),
                            ),
                            make_tags(tickers=("NVDA.US",), theses={"compute": "support"}),
                        )
                        for n in range(50)
                    ]
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    counts: list[int] = []
    while not done.is_set() or len(counts) < 3:
        counts.append(reader.query("SELECT count(*) FROM items")[1][0][0])
        reader.items(ticker="NVDA.US", limit=20)
        reader.items(search="小米", limit=20)
        reader.thesis_summary(T0)
    thread.join()
    assert errors == []
    assert counts == sorted(counts)
    assert reader.query("SELECT count(*) FROM items")[1] == [(2000,)]
    assert reader.data_version() != version
    reader.close()
    writer.close()


def test_two_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "tw.db"
    first, second = Store.open(path), Store.open(path)
    errors: list[BaseException] = []

    def write(store: Store, prefix: str) -> None:
        try:
            for batch in range(20):
                store.save_items(
                    [(make_item(f"{prefix}{batch}-{n}", "x"), make_tags()) for n in range(50)]
                )
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(s, p)) for s, p in ((first, "a"), (second, "b"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert first.query("SELECT count(*) FROM items")[1] == [(2000,)]
    first.close()
    second.close()


def test_every_table_and_view_is_readable_by_generic_tools(tmp_path: Path) -> None:
    """sqlite-utils and Datasette list and count every table and view."""
    path = tmp_path / "tw.db"
    with Store.open(path) as store:
        store.save_items([(make_item("n1", "小米 AI"), make_tags(tickers=("1810.HK",)))])
    db = Database(path)
    counts = {t.name: t.count for t in db.tables}
    assert counts["items"] == 1 and counts["items_fts_short"] == 1
    for view in db.views:
        assert isinstance(view.count, int), view.name


def test_connections_are_tuned_for_their_use(tmp_path: Path) -> None:
    from thesiswatch.store import BULK, LEAN, READER

    path = tmp_path / "t.db"

    def pragmas(store: Store) -> tuple[int, int, int, int]:
        names = ("cache_size", "mmap_size", "wal_autocheckpoint", "journal_size_limit")
        values = [store._conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
        return values[0], values[1], values[2], values[3]

    with Store.open(path) as writer:  # a daemon: memory that does not grow with the file
        cache, mmap, checkpoint, limit = pragmas(writer)
        assert (cache, mmap, checkpoint) == (-LEAN.cache_kib, 0, LEAN.checkpoint_pages)
        assert 0 < limit <= 64 << 20
    with Store.open(path, readonly=True) as reader:
        assert pragmas(reader)[:2] == (-READER.cache_kib, READER.mmap_bytes)
    with Store.open(path, tuning=BULK) as bulk:
        cache, mmap, checkpoint, limit = pragmas(bulk)
        assert (cache, checkpoint) == (-BULK.cache_kib, BULK.checkpoint_pages)
        assert limit >= BULK.checkpoint_pages * 4096
