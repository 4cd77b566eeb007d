"""The connection: opening, pragmas and tuning, migrations, the write transaction, the lock,
and the helpers every storage module shares (time text, JSON, error translation).

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
"""

from __future__ import annotations

import enum
import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeVar

from sqlite_utils import Database

from thesiswatch.errors import StoreError
from thesiswatch.store.schema import MIGRATION_NAMES, MIGRATIONS, SCHEMA_VERSION

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


class Unset(enum.Enum):
    """Marks an argument that was left out (where ``None`` has a meaning of its own)."""

    UNSET = 0


P = ParamSpec("P")

R = TypeVar("R")

# --- time and JSON helpers ------------------------------------------------------------------


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


def _file_bytes(conn: sqlite3.Connection) -> int:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages * size)


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
        assert isinstance(store, StoreBase)
        with store._lock:
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(_describe(exc, store.path)) from exc

    return wrapper


# --- the connection -------------------------------------------------------------------------


class StoreBase:
    """The connection and its life cycle; the storage mixins build on it (see ``db.Store``)."""

    def __init__(self, conn: sqlite3.Connection, *, path: Path | None, readonly: bool) -> None:
        """Use ``Store.open`` or ``Store.memory``; this wraps an already configured connection."""
        self._conn = conn
        self._db = Database(conn, execute_plugins=False)
        self._lock = threading.RLock()
        self._depth = 0  # > 0 inside ``transaction()``: writes join it
        self.path = path
        self.readonly = readonly

    @classmethod
    def open(
        cls, path: str | Path, *, readonly: bool = False, tuning: Tuning | None = None
    ) -> Self:
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
    def memory(cls) -> Self:
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

    def __enter__(self) -> Self:
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
        if self._depth:  # inside ``transaction()``: its commit is this write's commit
            yield conn
            return
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

    @contextmanager
    def transaction(self, *, check_foreign_keys: bool = True) -> Iterator[None]:
        """One write transaction around several write methods: every write inside joins it,
        so they commit together or not at all (the pipeline stores items, their alerts and
        the alerts' outbox rows this way). Holds the store's lock throughout; a
        ``BaseException`` (a crash, a cancellation) rolls everything back."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                with self._write(check_foreign_keys=check_foreign_keys):
                    self._depth = 1
                    try:
                        yield
                    finally:
                        self._depth = 0
            except sqlite3.Error as exc:
                raise StoreError(_describe(exc, self.path)) from exc

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

    @_api
    def data_version(self) -> int:
        """Changes whenever another connection commits (``PRAGMA data_version``)."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
