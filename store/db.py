"""``Store``: the one object that reads and writes the thesiswatch database.

    >>> from thesiswatch.store import Store
    >>> store = Store.memory()
    >>> store.meta_set("last_seen_alerts", "2025-01-27T14:30:00+00:00")
    >>> store.meta_get("last_seen_alerts")
    '2025-01-27T14:30:00+00:00'
    >>> store.close()

How it keeps data safe and readers happy:

- WAL journal, ``synchronous=NORMAL``: a committed transaction survives the process being
  killed; readers (TUIs, sqlite3, Datasette) never block the writer and the writer never
  blocks them.
- Every write method is one short ``BEGIN IMMEDIATE`` transaction (the write lock is taken up
  front, so two writers queue on ``busy_timeout`` instead of failing with "database is locked").
- The connection may be shared by threads (the TUI's workers): a lock serialises calls.
- Every ``sqlite3`` error leaves as a ``StoreError`` with one readable line.

Times go in as aware ``datetime`` (naive ones are taken as UTC) and are stored as UTC
ISO-8601 text with seconds, e.g. ``2025-01-27T14:30:00+00:00``.

The API, by who uses it:

- opening: ``Store.open(path, readonly=False)``, ``Store.memory()``, ``close()``, ``migrate()``
- the poller: ``sync_sources``, ``fetch_states``, ``record_fetch(es)``, ``source_health``
- the pipeline: ``save_items(batch, clusters=...)`` -> ``SaveResult``, ``recent_stories``,
  ``assign_clusters``, ``save_alerts`` (returns the new ones), ``record_delivery``
- the TUI: ``items(...)``, ``item(id)``, ``alerts(...)``, ``set_alert_state``,
  ``mute_ticker`` / ``unmute_ticker`` / ``muted_tickers``, ``thesis_summary``,
  ``ticker_mentions``, ``ticker_daily_sentiment``, ``stats``, ``data_version``, ``meta_get`` /
  ``meta_set``, ``deliveries``
- analysis: ``query(sql, params)`` (read-only), ``export_items``, ``export_alerts``, ``prune``

The tables and views are documented in ``docs/schema.md``.
"""

from __future__ import annotations

import enum
import functools
import gc
import json
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from sqlite_utils import Database

from thesiswatch.errors import ReadOnlyQueryError, StoreError
from thesiswatch.feeds.models import FetchOutcome, FetchState, Item, Source
from thesiswatch.records import Alert
from thesiswatch.signals.models import THESIS_IDS, Tags, ThesisStance, TickerMention
from thesiswatch.store.models import (
    PruneResult,
    SaveResult,
    SourceHealth,
    StoredAlert,
    StoredItem,
    StoreStats,
    ThesisSummary,
)
from thesiswatch.store.schema import MIGRATION_NAMES, MIGRATIONS, SCHEMA_VERSION
from thesiswatch.store.textindex import fts_term, plan_search, short_terms

BUSY_TIMEOUT_MS = 15_000
WAL_SIZE_LIMIT = 64 << 20  # a WAL file that grew past this is cut back after a checkpoint


@dataclass(frozen=True, slots=True)
class Tuning:
    """How much memory and WAL one connection may use.

    ``cache_kib``: SQLite's page cache (it keeps every page it touched, up to this size, so it
    is a floor under a long-running process's resident memory). ``mmap_bytes``: how much of the
    file reads map instead of copying (fast for big queries; mapped pages count as the
    process's resident memory while the kernel keeps them). ``checkpoint_pages``: WAL pages
    written before they are copied back into the database file.
    """

    cache_kib: int
    mmap_bytes: int
    checkpoint_pages: int


LEAN = Tuning(cache_kib=2 * 1024, mmap_bytes=0, checkpoint_pages=1000)
"""The default for writers (the daemon, the own-poll TUI, CLI commands): SQLite's own defaults
(2 MiB of cache, 4 MiB WAL checkpoints), no mapping. A daemon's cache fills with the pages it
writes, so a larger one only makes its memory grow with the database for longer (the soak
showed 8 MiB still filling after 30 minutes); small batches do not need more."""
READER = Tuning(cache_kib=16 * 1024, mmap_bytes=1 << 30, checkpoint_pages=1000)
"""The default for read-only opens (attached TUI, ``query``, ``export``): mapped reads for
searches and lists over a million items."""
BULK = Tuning(cache_kib=128 * 1024, mmap_bytes=1 << 30, checkpoint_pages=65536)
"""For bulk ingest (``bench/store.py``, imports): the hot index pages of a million items stay
cached, and the WAL is checkpointed every 256 MiB rather than 4 MiB, because a batch of
thousands of items dirties index pages all over the file (``items.id`` is a hash) and copying
them back after every commit halved the ingest rate at 1M items."""

_CHUNK = 500  # ids per "IN (...)" lookup, well under SQLite's variable limit
SEARCH_WINDOW = 500  # matches a search sorts by time (see Store.items)


class Unset(enum.Enum):
    """Marks an argument that was left out (where ``None`` has a meaning of its own)."""

    UNSET = 0


P = ParamSpec("P")
R = TypeVar("R")


# --- time helpers ---------------------------------------------------------------------------


def to_iso(value: datetime) -> str:
    """UTC ISO-8601 text with seconds; naive datetimes are taken as UTC."""
    if value.tzinfo is UTC:  # the common case, kept fast for bulk ingest
        # isoformat() without arguments is a third faster, and the same text without microseconds
        return value.isoformat(timespec="seconds") if value.microsecond else value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _day(ts: str) -> str:
    return ts[:10]


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        return json.loads(value)
    except ValueError:
        return default


# --- errors ---------------------------------------------------------------------------------


def _describe(exc: sqlite3.Error, path: Path | None) -> str:
    """One line for a user, naming the file."""
    where = str(path) if path is not None else "the in-memory database"
    text = str(exc)
    if "file is not a database" in text or "not a database" in text:
        return f"{where} is not an SQLite database"
    if "unable to open database file" in text:
        return f"cannot open the database {where}: check that the path exists and is readable"
    if "database is locked" in text or "database is busy" in text:
        return f"the database {where} stayed locked by another process; try again"
    if "readonly database" in text:
        return f"the database {where} is read-only here: {text}"
    if "disk I/O error" in text or "database or disk is full" in text:
        return f"cannot write the database {where}: {text}"
    return f"database error on {where}: {text}"


def _api(method: Callable[P, R]) -> Callable[P, R]:
    """Serialise calls on the store's lock and turn ``sqlite3`` errors into ``StoreError``."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = args[0]
        assert isinstance(store, Store)
        with store._lock:
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(_describe(exc, store.path)) from exc

    return wrapper


# --- the read-only query path ---------------------------------------------------------------

# Pragmas whose argument names what to read (table_info(items)), and pragmas that read only
# without an argument (user_version; user_version = 5 would write).
_READ_PRAGMAS_WITH_ARG = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "integrity_check",
        "quick_check",
        "foreign_key_check",
    }
)
_READ_PRAGMAS = _READ_PRAGMAS_WITH_ARG | frozenset(
    {
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
        "data_version",
        "user_version",
        "schema_version",
        "application_id",
        "page_count",
        "page_size",
        "freelist_count",
        "encoding",
        "journal_mode",
    }
)
_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _read_only_authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        # SQLite itself asks this while a table-valued function (json_each) declares its
        # columns; a user's UPDATE of the schema is refused anyway (query_only, no
        # writable_schema).
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        pragma = (arg1 or "").lower()
        if pragma in _READ_PRAGMAS_WITH_ARG or (arg2 is None and pragma in _READ_PRAGMAS):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


# --- the store ------------------------------------------------------------------------------


class Store:
    """The thesiswatch database. Open with ``Store.open(path)`` or ``Store.memory()``."""

    def __init__(self, conn: sqlite3.Connection, *, path: Path | None, readonly: bool) -> None:
        """Use ``Store.open`` or ``Store.memory``; this wraps an already configured connection."""
        self._conn = conn
        self._db = Database(conn, execute_plugins=False)
        self._lock = threading.RLock()
        self.path = path
        self.readonly = readonly

    # --- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, readonly: bool = False, tuning: Tuning | None = None
    ) -> Store:
        """Open (creating and migrating when needed) the database at ``path``.

        ``readonly=True`` opens an existing database without writing to it (attach mode, the
        query command); it must already have the current schema.
        ``tuning``: memory and WAL settings of the connection; ``READER`` when read-only,
        else ``LEAN`` (see ``BULK`` for bulk ingest).

        Raises ``StoreError`` with one line when the path cannot be used, the file is not an
        SQLite database or not a thesiswatch one, or it was written by a newer thesiswatch.
        """
        path = Path(path).expanduser()
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a database file")
        if readonly:
            if not path.exists():
                raise StoreError(f"no database at {path}")
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder {path.parent} for the database: "
                    f"{exc.strerror or exc}"
                ) from exc
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                uri = path.resolve().as_uri() + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            store = cls(conn, path=path, readonly=readonly)
            store._prepare(tuning or (READER if readonly else LEAN))
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise StoreError(_describe(exc, path)) from exc
        except StoreError:
            if conn is not None:
                conn.close()
            raise
        return store

    @classmethod
    def memory(cls) -> Store:
        """A private in-memory database with the current schema (tests, ``tag``)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(conn, path=None, readonly=False)
        store._prepare()
        return store

    def close(self) -> None:
        """Close the connection (after letting SQLite refresh its planner statistics)."""
        with self._lock:
            try:
                if not self.readonly:
                    self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.path or ':memory:'}{' read-only' if self.readonly else ''}>"

    def _prepare(self, tuning: Tuning = LEAN) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{tuning.cache_kib}")
        conn.execute(f"PRAGMA mmap_size = {tuning.mmap_bytes}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # reads the header
        self._refuse_newer(version)
        if self.readonly:
            if version < SCHEMA_VERSION:
                if not self._has_tables():
                    raise StoreError(f"{self.path} is not a thesiswatch database")
                raise StoreError(
                    f"{self.path} has schema {version} and needs upgrading to {SCHEMA_VERSION}: "
                    "open it once without read-only (e.g. run the daemon)"
                )
            return
        if self.path is not None:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch {self.path} to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {tuning.checkpoint_pages}")
        # A WAL that grew (a bulk ingest, a reader holding an old snapshot) is truncated back
        # once checkpointed, instead of keeping its largest size on disk for ever.
        limit = max(WAL_SIZE_LIMIT, tuning.checkpoint_pages * 4096 * 2)
        conn.execute(f"PRAGMA journal_size_limit = {limit}")
        if version < SCHEMA_VERSION:
            self.migrate()

    def _has_tables(self) -> bool:
        row = self._conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()
        return bool(row[0])

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path or 'the database'} was written by a newer thesiswatch "
                f"(schema {version}; this version knows up to {SCHEMA_VERSION}): "
                "upgrade thesiswatch to open it"
            )

    def migrate(self) -> list[str]:
        """Apply pending migrations in one immediate transaction; return their names."""
        conn = self._conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                self._refuse_newer(version)
                applied = {m.name for m in MIGRATIONS.applied(self._db)}
                unknown = applied - set(MIGRATION_NAMES)
                if unknown:
                    raise StoreError(
                        f"{self.path or 'the database'} has migrations this thesiswatch does not "
                        f"know ({', '.join(sorted(unknown))}): upgrade thesiswatch to open it"
                    )
                if not applied and self._has_tables():
                    raise StoreError(
                        f"{self.path} is an SQLite database of another application, "
                        "not a thesiswatch one"
                    )
                pending = [m.name for m in MIGRATIONS.pending(self._db)]
                MIGRATIONS.apply(self._db)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return pending

    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _write(self, *, check_foreign_keys: bool = True) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taking the write lock up front.

        ``check_foreign_keys=False`` skips SQLite's per-row foreign key checks for this
        transaction only (the pragma cannot change inside one): for writers that create every
        parent row themselves in the same transaction (``save_items``), where the checks cost
        a lookup per tag row and can never fail."""
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only")
        conn = self._conn
        if not check_foreign_keys:
            conn.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if not check_foreign_keys:
                conn.execute("PRAGMA foreign_keys = ON")

    # --- sources and health ----------------------------------------------------------------

    @_api
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Upsert the configured sources; sources no longer configured become inactive."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO sources (id, name, url, kind, lang, interval, tickers, active,
                                     added, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                  name = excluded.name, url = excluded.url, kind = excluded.kind,
                  lang = excluded.lang, interval = excluded.interval,
                  tickers = excluded.tickers, active = 1, updated = excluded.updated
                """,
                [
                    (
                        s.id,
                        s.name,
                        s.url,
                        s.kind,
                        s.lang,
                        s.interval,
                        _json(list(s.tickers)),
                        now,
                        now,
                    )
                    for s in sources
                ],
            )
            ids = [s.id for s in sources]
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _configured (id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM _configured")
            conn.executemany("INSERT OR IGNORE INTO _configured VALUES (?)", [(i,) for i in ids])
            conn.execute(
                "UPDATE sources SET active = 0, updated = ? "
                "WHERE active = 1 AND id NOT IN (SELECT id FROM _configured)",
                (now,),
            )
            conn.execute("DELETE FROM _configured")

    @_api
    def fetch_states(self) -> dict[str, FetchState]:
        """What the poller remembers per source id (conditional GET headers, backoff, ...)."""
        rows = self._conn.execute(
            "SELECT id, fetch_url, etag, last_modified, consecutive_failures, last_attempt, "
            "last_success, last_error, next_poll, poll_interval FROM sources"
        ).fetchall()
        return {
            r[0]: FetchState(
                source_id=r[0],
                url=r[1],
                etag=r[2],
                last_modified=r[3],
                consecutive_failures=r[4],
                last_attempt=from_iso(r[5]),
                last_success=from_iso(r[6]),
                last_error=r[7],
                next_poll=from_iso(r[8]),
                interval=r[9],
            )
            for r in rows
        }

    @_api
    def record_fetch(self, outcome: FetchOutcome) -> None:
        """Update the source's health from one poll and append a ``fetch_log`` row.

        ETag / Last-Modified are stored verbatim: replaced on 200, replaced when a 304
        carries them (kept otherwise), kept on failure.
        """
        self.record_fetches([outcome])

    @_api
    def record_fetches(self, outcomes: Sequence[FetchOutcome]) -> None:
        """``record_fetch`` for several polls in one transaction (in order). The pipeline writes
        the health of a whole cycle this way: one commit instead of one per source keeps the
        disk writes of 200 sources polled every minute small."""
        if not outcomes:
            return
        with self._write() as conn:
            for outcome in outcomes:
                _record_fetch(conn, outcome)

    @_api
    def source_health(self) -> list[SourceHealth]:
        """Every source (active first, then by name) with its health."""
        rows = self._conn.execute(
            """
            SELECT id, name, coalesce(fetch_url, url), active, last_attempt, last_success,
                   last_status, last_http_status, consecutive_failures, last_error,
                   last_latency_ms, next_poll, items_seen, last_items
            FROM sources ORDER BY active DESC, name COLLATE NOCASE, id
            """
        ).fetchall()
        result = []
        for r in rows:
            active = bool(r[3])
            if not active:
                status = "inactive"
            elif r[4] is None:
                status = "never polled"
            elif r[8] > 0:
                status = "failing"
            else:
                status = "ok"
            result.append(
                SourceHealth(
                    source_id=r[0],
                    name=r[1],
                    url=r[2],
                    active=active,
                    status=status,
                    last_attempt=from_iso(r[4]),
                    last_success=from_iso(r[5]),
                    last_status=r[6],
                    http_status=r[7],
                    consecutive_failures=r[8],
                    last_error=r[9],
                    latency=r[10] / 1000 if r[10] is not None else None,
                    next_poll=from_iso(r[11]),
                    items_seen=r[12],
                    last_items=r[13],
                )
            )
        return result

    # --- items -----------------------------------------------------------------------------

    @_api
    def save_items(
        self,
        batch: Sequence[tuple[Item, Tags]],
        *,
        clusters: Mapping[str, str] | None = None,
    ) -> SaveResult:
        """Store a batch of tagged items in one transaction.

        ``clusters`` maps item ids of the batch to story cluster ids (``signals.cluster``).

        An item already stored (same id: ids derive from the URL key, so the same article has
        one id in every source) is stored once and linked to every source that carried it.
        When a source that already carried it sends it with an edited title or summary, the
        text is updated and its tags replaced (``updated``); the same story under another
        source's wording only gains the link (``seen``).
        """
        result = SaveResult()
        if not batch:
            return result
        now = to_iso(_utcnow())
        # Every row this writes refers to an item, source or cluster it writes first in the
        # same transaction, so SQLite's foreign key checks (a lookup per tag row, a tenth of
        # the ingest time) are skipped here; the constraints stay declared and apply to every
        # other write.
        # The writer allocates several small objects per row (tuples, strings) and frees none
        # of them until the batch is written, which sets off the cyclic garbage collector over
        # and over for nothing (in a profile with a large heap, building one dict of the batch
        # took 0.69 s per 200k entries with it, 0.12 s without). It is paused for the batch
        # and resumed as it was afterwards (process-wide; objects are not leaked, only
        # collected after the batch).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with self._write(check_foreign_keys=False) as conn:
                writer = _ItemWriter(conn, now)
                writer.save(batch, result)
                if clusters:
                    _assign_clusters(
                        conn, {writer.stored_id.get(i, i): c for i, c in clusters.items() if c}
                    )
        finally:
            if gc_was_enabled:
                gc.enable()
        return result

    @_api
    def assign_clusters(self, assignments: Mapping[str, str]) -> None:
        """Put stored items in story clusters: ``{item_id: cluster_id}``."""
        if assignments:
            with self._write() as conn:
                _assign_clusters(conn, assignments)

    @_api
    def recent_stories(
        self, *, since: datetime
    ) -> list[tuple[str, str, str, str, tuple[str, ...], datetime]]:
        """Items from ``since`` as ``(item_id, cluster_id or "", title, lang, tickers,
        time)``, oldest first: what ``signals.cluster.StoryClusterer.load`` takes."""
        rows = self._conn.execute(
            "SELECT i.id, coalesce(i.cluster_id, ''), i.title, coalesce(i.lang, ''), i.ts, "
            "(SELECT json_group_array(ticker) FROM item_tickers AS t WHERE t.item_key = i.key) "
            "FROM items AS i WHERE i.ts >= ? ORDER BY i.ts, i.key",
            (to_iso(since),),
        ).fetchall()
        return [
            (r[0], r[1], r[2], r[3], tuple(_loads(r[5], [])), from_iso(r[4]) or _utcnow())
            for r in rows
        ]

    @_api
    def item(self, item_id: str) -> StoredItem | None:
        rows = self._conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items AS i WHERE i.id = ?", (item_id,)
        ).fetchall()
        items = self._load_items(rows)
        return items[0] if items else None

    @_api
    def items(
        self,
        *,
        limit: int = 100,
        ticker: str | None = None,
        thesis: str | None = None,
        lang: str | None = None,
        label: str | None = None,
        source_id: str | None = None,
        search: str | None = None,
        since: datetime | None = None,
    ) -> list[StoredItem]:
        """Items newest first (by published, else fetched), filtered; all filters AND.

        ``search`` finds items whose title or summary contains every space-separated term
        (``"quoted phrase"`` for a phrase), Chinese or English, case-insensitively. When more
        than ``SEARCH_WINDOW`` items match, the result is the newest among the most recently
        stored matches (exact as long as items are stored roughly in time order).
        """
        where: list[str] = []
        args: list[Any] = []
        lookups: list[tuple[str, str]] = []  # (full-text table, MATCH expression)
        likes: tuple[str, ...] = ()
        if search is not None and search.strip():
            plan = plan_search(search)
            if plan.trigram is not None:
                lookups.append(("items_fts", plan.trigram))
            lookups.extend(("items_fts_short", fts_term(term)) for term in plan.short)
            likes = plan.like
        resort = bool(lookups)
        if resort:
            # A search is driven by its first index lookup (newest stored first, see below);
            # every other filter is checked per match through a primary key.
            table, match = lookups.pop(0)
            source = f"{table} AS f JOIN items AS i ON i.key = f.rowid"
            where.append(f"{table} MATCH ?")
            args.append(match)
            order = "f.rowid DESC"
            if ticker is not None:
                where.append(
                    "EXISTS (SELECT 1 FROM item_tickers AS t WHERE t.item_key = i.key "
                    "AND t.ticker = ?)"
                )
                args.append(ticker)
        elif ticker is not None:
            source = "item_tickers AS t JOIN items AS i ON i.key = t.item_key"
            where.append("t.ticker = ?")
            args.append(ticker)
            order = "t.ts DESC"
            if since is not None:
                where.append("t.ts >= ?")
                args.append(to_iso(since))
        elif thesis is not None:
            source = "item_theses AS h JOIN items AS i ON i.key = h.item_key"
            where.append("h.thesis = ?")
            args.append(thesis)
            order = "h.ts DESC"
            if since is not None:
                where.append("h.ts >= ?")
                args.append(to_iso(since))
        else:
            source = "items AS i"
            order = "i.ts DESC"
        if thesis is not None and (resort or ticker is not None):
            where.append(
                "EXISTS (SELECT 1 FROM item_theses AS h WHERE h.item_key = i.key AND h.thesis = ?)"
            )
            args.append(thesis)
        if since is not None:
            where.append("i.ts >= ?")
            args.append(to_iso(since))
        if lang is not None:
            where.append("i.lang = ?")
            args.append(lang)
        if label is not None:
            where.append("i.label = ?")
            args.append(label)
        if source_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM item_sources AS x WHERE x.item_key = i.key "
                "AND x.source_id = ?)"
            )
            args.append(source_id)
        for table, match in lookups:
            where.append(f"i.key IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
            args.append(match)
        for term in likes:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            where.append("(i.title LIKE ? ESCAPE '\\' OR i.summary LIKE ? ESCAPE '\\')")
            args.extend([pattern, pattern])
        condition = (" WHERE " + " AND ".join(where)) if where else ""
        if not resort:
            sql = f"SELECT {_ITEM_COLUMNS} FROM {source}{condition} ORDER BY {order} LIMIT ?"
            return self._load_items(self._conn.execute(sql, [*args, limit]).fetchall())
        # Search: the index yields matches in storing order, newest stored first. Take up to
        # SEARCH_WINDOW of them and sort by item time: exact whenever fewer match, and with
        # more, the newest by time among the most recently stored (bounded cost at 1M items).
        window = max(limit, SEARCH_WINDOW)
        sql = f"SELECT i.key, i.ts FROM {source}{condition} ORDER BY {order} LIMIT ?"
        candidates = self._conn.execute(sql, [*args, window]).fetchall()
        candidates.sort(key=lambda r: (r[1], r[0]), reverse=True)
        keys = [k for k, _ in candidates[:limit]]
        if not keys:
            return []
        rows = self._conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items AS i WHERE i.key IN ({_marks(len(keys))})", keys
        ).fetchall()
        rank = {k: n for n, k in enumerate(keys)}
        rows.sort(key=lambda r: rank[r[_KEY]])
        return self._load_items(rows)

    def _load_items(self, rows: list[tuple[Any, ...]]) -> list[StoredItem]:
        if not rows:
            return []
        keys = [r[_KEY] for r in rows]
        sources: dict[int, list[tuple[str, str]]] = defaultdict(list)
        mentions: dict[int, list[TickerMention]] = defaultdict(list)
        stances: dict[int, list[ThesisStance]] = defaultdict(list)
        scores: dict[int, tuple[str, str, str, str]] = {}
        conn = self._conn
        for part in _chunks(keys):
            marks = _marks(len(part))
            for key, source_id, name in conn.execute(
                f"SELECT x.item_key, x.source_id, s.name FROM item_sources AS x "
                f"JOIN sources AS s ON s.id = x.source_id WHERE x.item_key IN ({marks}) "
                f"ORDER BY x.first_seen, x.source_id",
                part,
            ):
                sources[key].append((source_id, name))
            for key, ticker, spans, matched in conn.execute(
                f"SELECT item_key, ticker, spans, matched FROM item_tickers "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                mentions[key].append(
                    TickerMention(
                        ticker=ticker,
                        spans=tuple(tuple(s) for s in _loads(spans, [])),
                        matched=tuple(_loads(matched, [])),
                    )
                )
            for key, thesis, stance, strength, evidence in conn.execute(
                f"SELECT item_key, thesis, stance, strength, evidence FROM item_theses "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                stances[key].append(
                    ThesisStance(
                        thesis=thesis,
                        stance=stance,
                        strength=strength,
                        evidence=tuple(_loads(evidence, [])),
                    )
                )
            for key, scorer, version, evidence, scored in conn.execute(
                f"SELECT item_key, scorer, scorer_version, evidence, scored FROM sentiments "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                if key not in scores or scored >= scores[key][3]:
                    scores[key] = (scorer, version, evidence, scored)
        order = {t: n for n, t in enumerate(THESIS_IDS)}
        items = []
        for r in rows:
            key = r[_KEY]
            src = sources.get(key, [])
            found = mentions.get(key, [])
            bearing = sorted(
                stances.get(key, []), key=lambda s: (order.get(s.thesis, 99), s.thesis)
            )
            scorer = scores.get(key)
            items.append(
                StoredItem(
                    id=r[_ID],
                    title=r[2],
                    summary=r[3],
                    url=r[4],
                    lang=r[5],
                    published=from_iso(r[6]),
                    fetched=from_iso(r[7]) or _utcnow(),
                    sources=tuple(name for _, name in src),
                    source_ids=tuple(sid for sid, _ in src),
                    label=r[9],
                    score=r[10],
                    evidence=tuple(_loads(scorer[2], [])) if scorer else (),
                    scorer=scorer[0] if scorer else None,
                    scorer_version=scorer[1] if scorer else None,
                    tickers=tuple(m.ticker for m in found),
                    mentions=tuple(found),
                    theses={s.thesis: s.stance for s in bearing},
                    stances=tuple(bearing),
                    cluster_id=r[11],
                    updated=from_iso(r[12]),
                    publisher=r[13],
                )
            )
        return items

    # --- alerts ----------------------------------------------------------------------------

    @_api
    def save_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Store alerts; return only those not stored before (by id), in the given order."""
        if not alerts:
            return []
        now = to_iso(_utcnow())
        fresh: list[Alert] = []
        with self._write() as conn:
            seen: set[str] = set()
            for alert in alerts:
                if alert.id in seen:
                    continue
                seen.add(alert.id)
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO alerts (id, created, rule, severity, title, message, "
                    "url, tickers, thesis, stance, item_ids, stored) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        alert.id,
                        alert.created,
                        alert.rule,
                        alert.severity,
                        alert.title,
                        alert.message,
                        alert.url,
                        _json(list(alert.tickers)),
                        alert.thesis,
                        alert.stance,
                        _json(list(alert.item_ids)),
                        now,
                    ),
                )
                if cursor.rowcount:
                    fresh.append(alert)
        return fresh

    @_api
    def alerts(
        self,
        *,
        limit: int = 100,
        ticker: str | None = None,
        thesis: str | None = None,
        since: datetime | None = None,
        include_hidden: bool = False,
        now: datetime | None = None,
    ) -> list[StoredAlert]:
        """Alerts newest first. Hidden unless ``include_hidden``: acknowledged, snoozed,
        marked false positive, or about tickers that are all muted (snoozes and mutes as of
        ``now``, default the current time)."""
        where: list[str] = []
        args: list[Any] = []
        if since is not None:
            where.append("a.created >= ?")
            args.append(to_iso(since))
        if thesis is not None:
            where.append("a.thesis = ?")
            args.append(thesis)
        if ticker is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(a.tickers) WHERE value = ?)")
            args.append(ticker)
        if not include_hidden:
            at = to_iso(now or _utcnow())
            where.append(_VISIBLE)
            args.extend([at, at])
        return self._select_alerts(where, args, limit)

    def _select_alerts(
        self,
        where: list[str],
        args: list[Any],
        limit: int | None,
        order: str = "a.created DESC, a.id DESC",
    ) -> list[StoredAlert]:
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts AS a LEFT JOIN alert_state AS s ON s.alert_id = a.id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args = [*args, limit]
        return [_stored_alert(r) for r in self._conn.execute(sql, args)]

    @_api
    def set_alert_state(
        self,
        alert_id: str,
        *,
        acked: bool | None = None,
        snoozed_until: datetime | Literal[Unset.UNSET] | None = Unset.UNSET,
        false_positive: bool | None = None,
    ) -> None:
        """Change what the user said about an alert. ``acked`` / ``false_positive``: ``None``
        leaves them as they are; ``snoozed_until``: a time snoozes, ``None`` unsnoozes, left
        out leaves the snooze as it is."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
                raise StoreError(f"no alert with id {alert_id!r}")
            conn.execute(
                "INSERT OR IGNORE INTO alert_state (alert_id, updated) VALUES (?, ?)",
                (alert_id, now),
            )
            conn.execute(
                """
                UPDATE alert_state SET
                  acked = coalesce(?, acked),
                  acked_at = CASE WHEN ? = 1 THEN ? WHEN ? = 0 THEN NULL ELSE acked_at END,
                  snoozed_until = CASE WHEN ? THEN ? ELSE snoozed_until END,
                  false_positive = coalesce(?, false_positive),
                  updated = ?
                WHERE alert_id = ?
                """,
                (
                    _bool_or_none(acked),
                    _bool_or_none(acked),
                    now,
                    _bool_or_none(acked),
                    snoozed_until is not Unset.UNSET,
                    to_iso(snoozed_until) if isinstance(snoozed_until, datetime) else None,
                    _bool_or_none(false_positive),
                    now,
                    alert_id,
                ),
            )

    @_api
    def mute_ticker(self, ticker: str, until: datetime | None) -> None:
        """Hide alerts about ``ticker`` until ``until`` (``None``: until ``unmute_ticker``)."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO muted_tickers (ticker, until, muted_at) VALUES (?, ?, ?) "
                "ON CONFLICT (ticker) DO UPDATE SET until = excluded.until, "
                "muted_at = excluded.muted_at",
                (ticker, to_iso(until) if until is not None else None, now),
            )

    @_api
    def unmute_ticker(self, ticker: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM muted_tickers WHERE ticker = ?", (ticker,))

    @_api
    def muted_tickers(self, now: datetime | None = None) -> dict[str, datetime | None]:
        """Tickers muted at ``now`` (default: the current time) -> until (``None``: indefinitely)."""
        at = to_iso(now or _utcnow())
        return {
            t: from_iso(u)
            for t, u in self._conn.execute(
                "SELECT ticker, until FROM muted_tickers WHERE until IS NULL OR until > ? "
                "ORDER BY ticker",
                (at,),
            )
        }

    @_api
    def record_delivery(
        self,
        *,
        alert_id: str,
        channel: str,
        status: str,
        attempt: int,
        http_status: int | None = None,
        vendor_code: str | None = None,
        error: str | None = None,
    ) -> None:
        """Append one delivery attempt to the ledger (``deliveries``)."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO deliveries (alert_id, channel, status, attempt, http_status, "
                "vendor_code, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (alert_id, channel, status, attempt, http_status, vendor_code, error, now),
            )

    @_api
    def deliveries(self, alert_id: str) -> list[dict[str, object]]:
        """The delivery attempts of one alert, oldest first."""
        cursor = self._conn.execute(
            "SELECT channel, status, attempt, http_status, vendor_code, error, at "
            "FROM deliveries WHERE alert_id = ? ORDER BY id",
            (alert_id,),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    @_api
    def meta_get(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @_api
    def meta_set(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- aggregates for the TUI and the rules ----------------------------------------------

    @_api
    def thesis_summary(self, now: datetime) -> dict[str, ThesisSummary]:
        """Per thesis: support/challenge over the last 24 h and 7 days (up to ``now``), the
        daily net (support - challenge) of the last 14 days, and its latest alert."""
        conn = self._conn
        end = to_iso(now)
        day_start = to_iso(now - timedelta(hours=24))
        week_start = to_iso(now - timedelta(days=7))
        today = now.astimezone(UTC).date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(13, -1, -1)]
        theses = list(THESIS_IDS)
        for (thesis,) in conn.execute(
            "SELECT DISTINCT thesis FROM thesis_daily WHERE day >= ? AND day <= ?",
            (days[0], days[-1]),
        ):
            if thesis not in theses:
                theses.append(thesis)
        result: dict[str, ThesisSummary] = {}
        for thesis in theses:
            counts = {
                ("support", 1): 0,
                ("challenge", 1): 0,
                ("support", 7): 0,
                ("challenge", 7): 0,
            }
            for stance, recent, total in conn.execute(
                "SELECT stance, sum(ts > ?), count(*) FROM item_theses "
                "WHERE thesis = ? AND ts > ? AND ts <= ? GROUP BY stance",
                (day_start, thesis, week_start, end),
            ):
                counts[(stance, 1)] = recent
                counts[(stance, 7)] = total
            net = dict.fromkeys(days, 0)
            for day, value in conn.execute(
                "SELECT day, support - challenge FROM thesis_daily "
                "WHERE thesis = ? AND day >= ? AND day <= ?",
                (thesis, days[0], days[-1]),
            ):
                net[day] = value
            latest = self._select_alerts(["a.thesis = ?", "a.created <= ?"], [thesis, end], 1)
            result[thesis] = ThesisSummary(
                thesis=thesis,
                support_24h=counts[("support", 1)],
                challenge_24h=counts[("challenge", 1)],
                support_7d=counts[("support", 7)],
                challenge_7d=counts[("challenge", 7)],
                daily_net=tuple(net.items()),
                latest_alert=latest[0] if latest else None,
            )
        return result

    # --- what the alert rules read (``thesiswatch.alerts.history.HistorySource``) ------------

    def recent_alerts(self, since: datetime, *, limit: int = 2000) -> list[Alert]:
        """Alerts created from ``since`` on, hidden ones included, newest first."""
        return [a.alert for a in self.alerts(limit=limit, since=since, include_hidden=True)]

    @_api
    def mention_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Items per ticker with ``start < ts <= end``."""
        rows = self._conn.execute(
            "SELECT ticker, count(*) FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker",
            (to_iso(start), to_iso(end)),
        )
        return {t: int(n) for t, n in rows}

    @_api
    def hourly_mention_counts(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(ticker, whole hours before end, items)`` for the items with ``start < ts <= end``."""
        rows = self._conn.execute(
            "SELECT ticker, CAST((julianday(?) - julianday(ts)) * 24 AS INTEGER) AS h, count(*) "
            "FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker, h",
            (to_iso(end), to_iso(start), to_iso(end)),
        )
        return [(t, int(h), int(n)) for t, h, n in rows]

    @_api
    def first_fetched(self) -> datetime | None:
        """When the oldest stored item was fetched (how long this database has watched)."""
        row = self._conn.execute("SELECT min(fetched) FROM items").fetchone()
        return from_iso(row[0]) if row and row[0] else None

    @_api
    def thesis_daily_net(self, since: date) -> dict[str, dict[str, float]]:
        """Per thesis, per UTC day (``"YYYY-MM-DD"``) from ``since`` on: supporting minus
        challenging items (``thesis_daily``, kept when old items are pruned)."""
        daily: dict[str, dict[str, float]] = defaultdict(dict)
        for thesis, day, net in self._conn.execute(
            "SELECT thesis, day, support - challenge FROM thesis_daily WHERE day >= ?",
            (since.isoformat(),),
        ):
            daily[thesis][day] = float(net)
        return dict(daily)

    @_api
    def ticker_mentions(
        self, ticker: str, *, since: datetime, bucket: str = "hour"
    ) -> list[tuple[str, int]]:
        """Items mentioning ``ticker`` per hour (``"2025-01-27T14:00:00+00:00"``) or per day
        (``"2025-01-27"``) from ``since``, oldest first; buckets without items are absent."""
        if bucket == "hour":
            label = "substr(ts, 1, 13) || ':00:00+00:00'"
        elif bucket == "day":
            label = "substr(ts, 1, 10)"
        else:
            raise StoreError(f"bucket must be 'hour' or 'day', not {bucket!r}")
        return [
            (b, n)
            for b, n in self._conn.execute(
                f"SELECT {label} AS bucket, count(*) FROM item_tickers "
                "WHERE ticker = ? AND ts >= ? GROUP BY bucket ORDER BY bucket",
                (ticker, to_iso(since)),
            )
        ]

    @_api
    def ticker_daily_sentiment(
        self, ticker: str, *, days: int, now: datetime
    ) -> list[tuple[str, float, int]]:
        """``(day, mean score, items)`` for the last ``days`` days up to ``now``'s date, oldest
        first; days without items are absent. Kept after prune (from ``ticker_daily``)."""
        last = now.astimezone(UTC).date()
        first = last - timedelta(days=days - 1)
        return [
            (d, round(s / n, 4), n)
            for d, s, n in self._conn.execute(
                "SELECT day, score_sum, items FROM ticker_daily "
                "WHERE ticker = ? AND day >= ? AND day <= ? AND items > 0 ORDER BY day",
                (ticker, first.isoformat(), last.isoformat()),
            )
        ]

    @_api
    def stats(self, now: datetime) -> StoreStats:
        conn = self._conn
        start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        today, tomorrow = to_iso(start), to_iso(start + timedelta(days=1))
        total = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        items_today = conn.execute(
            "SELECT count(*) FROM items WHERE ts >= ? AND ts < ?", (today, tomorrow)
        ).fetchone()[0]
        alerts_today = conn.execute(
            "SELECT count(*) FROM alerts WHERE created >= ? AND created < ?", (today, tomorrow)
        ).fetchone()[0]
        last_poll, failing, active = conn.execute(
            "SELECT max(last_attempt), sum(active = 1 AND consecutive_failures > 0), "
            "sum(active = 1) FROM sources"
        ).fetchone()
        return StoreStats(
            items_total=total,
            items_today=items_today,
            alerts_today=alerts_today,
            last_poll=from_iso(last_poll),
            failing_sources=failing or 0,
            sources_active=active or 0,
        )

    @_api
    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    # --- analysis --------------------------------------------------------------------------

    @_api
    def query(
        self, sql: str, params: Sequence[object] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one read-only SQL statement; return column names and rows.

        Writes, ``ATTACH``, transactions and setting pragmas are refused with
        ``ReadOnlyQueryError`` (an authorizer plus ``PRAGMA query_only``).
        """
        conn = self._conn
        if conn.in_transaction:  # never: every write commits before returning
            raise StoreError("cannot query inside a write")
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_read_only_authorizer)
        try:
            cursor = conn.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall()
        except sqlite3.ProgrammingError as exc:
            raise StoreError(f"query refused: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if any(w in text for w in ("not authorized", "authorization denied", "readonly")):
                raise ReadOnlyQueryError(
                    "the query was refused: only reading statements (SELECT, WITH, read-only "
                    "PRAGMA) are allowed"
                ) from exc
            raise StoreError(f"query failed: {text}") from exc
        except sqlite3.Warning as exc:
            raise StoreError(f"query refused: {exc}") from exc
        finally:
            conn.set_authorizer(None)
            conn.execute("PRAGMA query_only = OFF")
        return columns, rows

    def export_items(self, *, since: datetime | None = None) -> Iterator[dict[str, object]]:
        """Tagged items as DESIGN.md JSON dicts, oldest first, read in pages."""
        cursor = (to_iso(since) if since else "", -1)
        while True:
            with self._lock:
                try:
                    rows = self._conn.execute(
                        f"SELECT {_ITEM_COLUMNS} FROM items AS i "
                        "WHERE (i.ts, i.key) > (?, ?) ORDER BY i.ts, i.key LIMIT 500",
                        cursor,
                    ).fetchall()
                    page = self._load_items(rows)
                except sqlite3.Error as exc:
                    raise StoreError(_describe(exc, self.path)) from exc
            if not rows:
                return
            cursor = (rows[-1][_TS], rows[-1][_KEY])
            for item in page:
                yield item.to_dict()

    def export_alerts(self, *, since: datetime | None = None) -> Iterator[dict[str, object]]:
        """Alerts as DESIGN.md JSON dicts (plus state fields), oldest first."""
        cursor = (to_iso(since) if since else "", "")
        while True:
            with self._lock:
                try:
                    page = self._select_alerts(
                        ["(a.created, a.id) > (?, ?)"],
                        list(cursor),
                        500,
                        order="a.created, a.id",
                    )
                except sqlite3.Error as exc:
                    raise StoreError(_describe(exc, self.path)) from exc
            if not page:
                return
            cursor = (page[-1].created, page[-1].id)
            for alert in page:
                yield alert.to_dict()

    @_api
    def prune(
        self, *, older_than: timedelta, now: datetime | None = None, vacuum: bool = True
    ) -> PruneResult:
        """Remove items (and their tags, links and fetch-log rows) older than ``older_than``,
        in short transactions (readers and other writers interleave), then, when anything was
        removed, compact the full-text index and VACUUM (``vacuum=False`` skips both: the
        freed pages are reused). Alerts, deliveries and the daily aggregates
        (``ticker_daily``, ``thesis_daily``, ``source_daily``) are kept."""
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only")
        conn = self._conn
        cutoff = to_iso((now or _utcnow()) - older_than)
        before = _file_bytes(conn)
        removed = 0
        while True:
            with self._write():
                rows = conn.execute(
                    "SELECT key, title, summary FROM items WHERE ts < ? ORDER BY ts LIMIT 500",
                    (cutoff,),
                ).fetchall()
                if not rows:
                    break
                conn.executemany(
                    "INSERT INTO items_fts_short (items_fts_short, rowid, terms) "
                    "VALUES ('delete', ?, ?)",
                    [(k, short_terms(t, s)) for k, t, s in rows],
                )
                # one statement: the FTS delete trigger runs inside a single savepoint
                conn.execute(
                    f"DELETE FROM items WHERE key IN ({_marks(len(rows))})", [r[0] for r in rows]
                )
                removed += len(rows)
        with self._write():
            log_removed = conn.execute(
                "DELETE FROM fetch_log WHERE started < ?", (cutoff,)
            ).rowcount
            conn.execute(
                "DELETE FROM clusters WHERE NOT EXISTS "
                "(SELECT 1 FROM items WHERE items.cluster_id = clusters.id)"
            )
        if vacuum and (removed or log_removed):
            conn.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
            conn.execute("VACUUM")
            if self.path is not None:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return PruneResult(
            items_deleted=removed,
            fetch_log_deleted=log_removed,
            bytes_before=before,
            bytes_after=_file_bytes(conn),
        )


# --- row helpers ----------------------------------------------------------------------------


def _record_fetch(conn: sqlite3.Connection, outcome: FetchOutcome) -> None:
    """The writes of ``Store.record_fetch`` for one poll, inside the caller's transaction."""
    started = to_iso(outcome.started or _utcnow())
    latency_ms = round(outcome.latency * 1000)
    next_poll = to_iso(outcome.next_poll) if outcome.next_poll else None
    interval = outcome.interval
    if interval is None:
        interval = _float_or_none(outcome.extra.get("interval"))
    items = outcome.items_seen or len(outcome.items)
    ok = outcome.status in ("ok", "not_modified")
    failures = outcome.consecutive_failures if not ok else 0
    if outcome.source_id:
        # a placeholder row (inactive) for a source not synced yet, so the log row's link holds
        conn.execute(
            "INSERT OR IGNORE INTO sources (id, name, url, active, added, updated) "
            "VALUES (?, ?, '', 0, ?, ?)",
            (outcome.source_id, outcome.source_id, started, started),
        )
    if outcome.status == "ok":
        etag_sql, etag_args = (
            "etag = ?, last_modified = ?,",
            [
                outcome.etag,
                outcome.last_modified,
            ],
        )
    elif outcome.status == "not_modified":
        etag_sql = "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
        etag_args = [outcome.etag, outcome.last_modified]
    else:
        etag_sql, etag_args = "", []
    conn.execute(
        f"""
        UPDATE sources SET
          {etag_sql}
          last_attempt = ?,
          last_success = CASE WHEN ? THEN ? ELSE last_success END,
          last_status = ?,
          last_http_status = ?,
          consecutive_failures = CASE WHEN ? THEN 0
                                      WHEN ? > 0 THEN ?
                                      ELSE consecutive_failures + 1 END,
          last_error = ?,
          last_latency_ms = ?,
          next_poll = coalesce(?, next_poll),
          poll_interval = coalesce(?, poll_interval),
          fetch_url = coalesce(?, fetch_url),
          last_items = ?,
          items_seen = items_seen + ?
        WHERE id = ?
        """,
        [
            *etag_args,
            started,
            ok,
            started,
            outcome.status,
            outcome.http_status,
            ok,
            failures,
            failures,
            None if ok else (outcome.error or "failed"),
            latency_ms,
            next_poll,
            interval,
            outcome.final_url,
            items,
            items,
            outcome.source_id,
        ],
    )
    conn.execute(
        "INSERT INTO fetch_log (source_id, started, status, http_status, latency_ms, "
        "bytes, items, error, final_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outcome.source_id,
            started,
            outcome.status,
            outcome.http_status,
            latency_ms,
            outcome.bytes,
            items,
            outcome.error,
            outcome.final_url,
        ),
    )


_ITEM_COLUMNS = (
    "i.key, i.id, i.title, i.summary, i.url, i.lang, i.published, i.fetched, i.ts, "
    "i.label, i.score, i.cluster_id, i.updated, i.publisher"
)
_KEY, _ID, _TS = 0, 1, 8

_ALERT_COLUMNS = (
    "a.id, a.created, a.rule, a.severity, a.title, a.message, a.url, a.tickers, a.thesis, "
    "a.stance, a.item_ids, coalesce(s.acked, 0), s.snoozed_until, "
    "coalesce(s.false_positive, 0), "
    "(SELECT count(DISTINCT x.source_id) FROM item_sources AS x "
    " JOIN items AS i ON i.key = x.item_key"
    " WHERE i.id IN (SELECT value FROM json_each(a.item_ids)))"
)

_VISIBLE = """(
  coalesce(s.acked, 0) = 0
  AND coalesce(s.false_positive, 0) = 0
  AND (s.snoozed_until IS NULL OR s.snoozed_until <= ?)
  AND NOT (
    json_array_length(a.tickers) > 0
    AND NOT EXISTS (
      SELECT 1 FROM json_each(a.tickers) AS j
      WHERE j.value NOT IN (SELECT ticker FROM muted_tickers WHERE until IS NULL OR until > ?)
    )
  )
)"""


def _assign_clusters(conn: sqlite3.Connection, assignments: Mapping[str, str]) -> None:
    cluster_ids = sorted(set(assignments.values()))
    conn.executemany("INSERT OR IGNORE INTO clusters (id) VALUES (?)", [(c,) for c in cluster_ids])
    conn.executemany(
        "UPDATE items SET cluster_id = ? WHERE id = ? AND cluster_id IS NOT ?",
        [(c, i, c) for i, c in assignments.items()],
    )
    conn.executemany(
        """
        UPDATE clusters SET
          size = (SELECT count(*) FROM items WHERE cluster_id = clusters.id),
          first_seen = (SELECT min(ts) FROM items WHERE cluster_id = clusters.id),
          last_seen = (SELECT max(ts) FROM items WHERE cluster_id = clusters.id),
          title = coalesce(title, (SELECT title FROM items WHERE cluster_id = clusters.id
                                    ORDER BY ts LIMIT 1))
        WHERE id = ?
        """,
        [(c,) for c in cluster_ids],
    )


def _stored_alert(r: tuple[Any, ...]) -> StoredAlert:
    return StoredAlert(
        id=r[0],
        created=r[1],
        rule=r[2],
        severity=r[3],
        title=r[4],
        message=r[5],
        url=r[6],
        tickers=tuple(_loads(r[7], [])),
        thesis=r[8],
        stance=r[9],
        item_ids=tuple(_loads(r[10], [])),
        acked=bool(r[11]),
        snoozed_until=from_iso(r[12]),
        false_positive=bool(r[13]),
        source_count=r[14] or 0,
    )


def _bool_or_none(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _file_bytes(conn: sqlite3.Connection) -> int:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_LABEL_SLOT = {"pos": 1, "neg": 2, "neu": 3}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f\u2028\u2029]')


def _spans_json(spans: tuple[tuple[int, int], ...]) -> str:
    if len(spans) == 1:  # the common case
        a, b = spans[0]
        return f"[[{int(a)},{int(b)}]]"
    return "[" + ",".join([f"[{int(a)},{int(b)}]" for a, b in spans]) + "]" if spans else "[]"


def _list_json(values: tuple[str, ...]) -> str:
    """A JSON array of strings; plain strings skip the encoder (the bulk-ingest hot path)."""
    if len(values) == 1:  # the common case
        value = values[0]
        if _NEEDS_ESCAPE.search(value):
            return _encode([value])
        return f'["{value}"]'
    if not values:
        return "[]"
    if _NEEDS_ESCAPE.search("".join(values)):
        return _encode(list(values))
    return '["' + '","'.join(values) + '"]'


class _ItemWriter:
    """The body of ``Store.save_items``: classify a batch against what is stored, then write
    it table by table with ``executemany`` (the hot path of bulk ingest)."""

    def __init__(self, conn: sqlite3.Connection, now: str) -> None:
        self.conn = conn
        self.now = now
        self.ticker_days: dict[tuple[str, str], list[float]] = {}
        self.thesis_days: dict[tuple[str, str], list[int]] = {}
        self.source_days: dict[tuple[str, str], int] = {}
        self.stored_id: dict[str, str] = {}  # incoming item id -> stored item id
        self.tickers: list[tuple[Any, ...]] = []
        self.theses: list[tuple[Any, ...]] = []
        self.sentiments: list[tuple[Any, ...]] = []

    def save(self, batch: Sequence[tuple[Item, Tags]], result: SaveResult) -> None:
        conn = self.conn
        now = self.now
        # What is stored already (an item is identified by its id alone: ids derive from the
        # URL key, see feeds.normalize.item_id).
        stored: dict[str, list[Any]] = {}  # id -> [key, title, summary, ts, label, score, fetched]
        ids = list(dict.fromkeys(item.id for item, _ in batch))
        columns = "id, key, title, summary, ts, label, score, fetched"
        for part in _chunks(ids):
            for row in conn.execute(
                f"SELECT {columns} FROM items WHERE id IN ({_marks(len(part))})", part
            ):
                stored[row[0]] = list(row[1:])
        links: set[tuple[int, str]] = set()
        keys = [row[0] for row in stored.values()]
        for part in _chunks(keys):
            links.update(
                conn.execute(
                    "SELECT item_key, source_id FROM item_sources "
                    f"WHERE item_key IN ({_marks(len(part))})",
                    part,
                ).fetchall()
            )
        source_ids = {item.source_id for item, _ in batch}
        for sid in source_ids:
            # the foreign key of item_sources.source_id (checks are off here, see save_items)
            if (
                not sid
                and not conn.execute("SELECT 1 FROM sources WHERE id = ?", (sid,)).fetchone()
            ):
                raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")
        conn.executemany(
            "INSERT OR IGNORE INTO sources (id, name, url, active, added, updated) "
            "VALUES (?, ?, '', 0, ?, ?)",
            [(sid, sid, now, now) for sid in source_ids if sid],
        )
        next_key = (conn.execute("SELECT max(key) FROM items").fetchone()[0] or 0) + 1

        new_rows: list[tuple[Any, ...]] = []
        new_short: list[tuple[int, str]] = []
        new_links: list[tuple[int, str, str]] = []
        outcome: dict[str, str] = {}  # stored id -> 'new' / 'updated' / 'seen', in first-seen order
        stored_id = self.stored_id
        source_days = self.source_days
        # An item repeated in the batch by the same source: its last version is the one kept.
        last = {(item.id, item.source_id): (item, tags) for item, tags in batch}
        new_text: list[tuple[int, str, str]] = []
        add_tags = self._add_tags
        for item, tags in batch:
            if item.id not in stored:
                item, tags = last[(item.id, item.source_id)]
            fetched = to_iso(item.fetched) if item.fetched else now
            published = to_iso(item.published) if item.published else None
            if item.id not in stored:
                sid = item.id
                key = next_key
                next_key += 1
                ts = min(published, fetched) if published else fetched
                sentiment = tags.sentiment
                title, summary = item.title, item.summary
                new_rows.append(
                    (
                        key,
                        sid,
                        item.url,
                        title,
                        summary,
                        tags.lang or item.lang,
                        published,
                        fetched,
                        ts,
                        item.guid,
                        item.author,
                        getattr(item, "publisher", None),
                        sentiment.label,
                        sentiment.score,
                    )
                )
                new_text.append((key, title, summary))
                new_short.append((key, short_terms(title, summary)))
                stored[sid] = [key, title, summary, ts, sentiment.label, sentiment.score, fetched]
                add_tags(key, ts, tags)
                outcome[sid] = "new"
            else:
                sid = item.id
                row = stored[sid]
                key = row[0]
                summary = item.summary or row[2]
                if (key, item.source_id) in links and (item.title != row[1] or summary != row[2]):
                    self._update(row, item, tags, summary, published)
                    if outcome.get(sid) != "new":
                        outcome[sid] = "updated"
                else:
                    outcome.setdefault(sid, "seen")
            stored_id[item.id] = sid
            if (key, item.source_id) not in links:
                links.add((key, item.source_id))
                new_links.append((key, item.source_id, fetched))
                day_key = (item.source_id, fetched[:10])
                source_days[day_key] = source_days.get(day_key, 0) + 1

        conn.executemany(
            "INSERT INTO items (key, id, url, title, summary, lang, published, fetched, ts, "
            "guid, author, publisher, label, score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_rows,
        )
        conn.executemany("INSERT INTO items_fts (rowid, title, summary) VALUES (?, ?, ?)", new_text)
        conn.executemany("INSERT INTO items_fts_short (rowid, terms) VALUES (?, ?)", new_short)
        conn.executemany(
            "INSERT INTO item_sources (item_key, source_id, first_seen) VALUES (?, ?, ?)",
            new_links,
        )
        conn.executemany(
            "INSERT INTO item_tickers (item_key, ticker, ts, spans, matched) "
            "VALUES (?, ?, ?, ?, ?)",
            self.tickers,
        )
        conn.executemany(
            "INSERT INTO item_theses (item_key, thesis, stance, strength, evidence, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            self.theses,
        )
        conn.executemany(
            "INSERT INTO sentiments (item_key, scorer, scorer_version, label, score, evidence, "
            "scored) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "label = excluded.label, score = excluded.score, evidence = excluded.evidence, "
            "scored = excluded.scored",
            self.sentiments,
        )
        self._write_aggregates()
        for sid, what in outcome.items():
            getattr(result, what).append(sid)

    def _add_tags(self, key: int, ts: str, tags: Tags) -> None:
        """Queue the tag rows of an item and count it in the daily aggregates (inlined: this
        runs for every new item of a bulk ingest)."""
        sentiment = tags.sentiment
        label, score = sentiment.label, sentiment.score
        day = ts[:10]
        slot = _LABEL_SLOT.get(label)
        seen: set[str] = set()
        for m in tags.tickers:
            if m.ticker in seen:
                continue
            seen.add(m.ticker)
            self.tickers.append((key, m.ticker, ts, _spans_json(m.spans), _list_json(m.matched)))
            agg = self.ticker_days.get((m.ticker, day))
            if agg is None:
                agg = self.ticker_days[(m.ticker, day)] = [0, 0, 0, 0, 0.0]
            agg[0] += 1
            if slot is not None:
                agg[slot] += 1
            agg[4] += score
        seen.clear()
        for t in tags.theses:
            if t.thesis in seen:
                continue
            seen.add(t.thesis)
            self.theses.append((key, t.thesis, t.stance, t.strength, _list_json(t.evidence), ts))
            counts = self.thesis_days.get((t.thesis, day))
            if counts is None:
                counts = self.thesis_days[(t.thesis, day)] = [0, 0]
            counts[0 if t.stance == "support" else 1] += 1
        self.sentiments.append(
            (
                key,
                sentiment.scorer,
                sentiment.version,
                label,
                score,
                _list_json(sentiment.evidence),
                self.now,
            )
        )

    def _update(
        self, row: list[Any], item: Item, tags: Tags, summary: str, published: str | None
    ) -> None:
        """An edited item: new text, tags replaced, daily aggregates moved."""
        conn = self.conn
        key, old_title, old_summary, old_ts, old_label, old_score, fetched = row
        old_tickers = [
            t for (t,) in conn.execute("SELECT ticker FROM item_tickers WHERE item_key = ?", (key,))
        ]
        old_theses = conn.execute(
            "SELECT thesis, stance FROM item_theses WHERE item_key = ?", (key,)
        ).fetchall()
        self._count(old_ts, old_tickers, old_theses, old_label, old_score, -1)
        ts = min(published, fetched) if published else old_ts
        conn.execute(
            "UPDATE items SET title = ?, summary = ?, published = coalesce(?, published), "
            "ts = ?, updated = ?, label = ?, score = ?, lang = coalesce(?, lang), "
            "publisher = coalesce(?, publisher) WHERE key = ?",
            (
                item.title,
                summary,
                published,
                ts,
                self.now,
                tags.sentiment.label,
                tags.sentiment.score,
                tags.lang or item.lang,
                getattr(item, "publisher", None),
                key,
            ),
        )
        conn.execute(
            "INSERT INTO items_fts_short (items_fts_short, rowid, terms) VALUES ('delete', ?, ?)",
            (key, short_terms(old_title, old_summary)),
        )
        conn.execute(
            "INSERT INTO items_fts_short (rowid, terms) VALUES (?, ?)",
            (key, short_terms(item.title, summary)),
        )
        conn.execute("DELETE FROM item_tickers WHERE item_key = ?", (key,))
        conn.execute("DELETE FROM item_theses WHERE item_key = ?", (key,))
        # the new tag rows are written with the batch (the deletes above run first)
        self.tickers = [r for r in self.tickers if r[0] != key]
        self.theses = [r for r in self.theses if r[0] != key]
        self._add_tags(key, ts, tags)
        row[1:6] = [item.title, summary, ts, tags.sentiment.label, tags.sentiment.score]

    def _count(
        self,
        ts: str,
        tickers: Iterable[str],
        theses: Iterable[tuple[str, str]],
        label: str | None,
        score: float | None,
        sign: int,
    ) -> None:
        day = ts[:10]
        slot = _LABEL_SLOT.get(label or "")
        ticker_days = self.ticker_days
        for ticker in tickers:
            agg = ticker_days.get((ticker, day))
            if agg is None:
                agg = ticker_days[(ticker, day)] = [0, 0, 0, 0, 0.0]
            agg[0] += sign
            if slot is not None:
                agg[slot] += sign
            agg[4] += sign * (score or 0.0)
        thesis_days = self.thesis_days
        for thesis, stance in theses:
            counts = thesis_days.get((thesis, day))
            if counts is None:
                counts = thesis_days[(thesis, day)] = [0, 0]
            counts[0 if stance == "support" else 1] += sign

    def _write_aggregates(self) -> None:
        conn = self.conn
        conn.executemany(
            "INSERT INTO ticker_daily (ticker, day, items, pos, neg, neu, score_sum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticker, day) DO UPDATE SET "
            "items = items + excluded.items, pos = pos + excluded.pos, "
            "neg = neg + excluded.neg, neu = neu + excluded.neu, "
            "score_sum = score_sum + excluded.score_sum",
            [(t, d, *v) for (t, d), v in self.ticker_days.items()],
        )
        conn.executemany(
            "INSERT INTO thesis_daily (thesis, day, support, challenge) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (thesis, day) DO UPDATE SET support = support + excluded.support, "
            "challenge = challenge + excluded.challenge",
            [(t, d, *v) for (t, d), v in self.thesis_days.items()],
        )
        conn.executemany(
            "INSERT INTO source_daily (source_id, day, items) VALUES (?, ?, ?) "
            "ON CONFLICT (source_id, day) DO UPDATE SET items = items + excluded.items",
            [(sid, d, n) for (sid, d), n in self.source_days.items()],
        )
