"""The headless daemon: the pipeline forever (or ``--once``), with signals, a lock and logs.

- SIGINT/SIGTERM: stop scheduling, let the write in progress finish, close, exit 0.
- SIGHUP: reload the config file (sources, sinks, rules) without losing state.
- SIGINT/SIGTERM give deliveries in flight at most ``[alerts] shutdown_grace_seconds``
  (10 s); what is left stays in the outbox and is sent at the next start.
- A lock keyed by the database file's identity (device and inode, whatever path, symlink or
  hard link, names it) keeps two daemons from writing one database. The daemon touches the
  lock file every ``HEARTBEAT_SECONDS`` (its mtime is a heartbeat) and stops, with one line,
  when its database file is deleted or replaced.
- Logs go to stderr as ``time level event key=value ...`` lines (structured, grep-able).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from thesiswatch.errors import StoreError, ThesiswatchError

if TYPE_CHECKING:
    from thesiswatch.pipeline import CycleReport, Pipeline
    from thesiswatch.session import Session

log = logging.getLogger("thesiswatch.daemon")
_background: set[asyncio.Task[None]] = set()


class KeyValueFormatter(logging.Formatter):
    """``2025-01-27T14:30:00Z INFO cycle.done sources=3 new=12 alerts=2``."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{k}={_quote(v)}" for k, v in fields.items())
        line = f"{when} {record.levelname} {record.getMessage()}"
        return f"{line} {extra}" if extra else line


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return text


def setup_logging(stream: TextIO = sys.stderr, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("thesiswatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def event(name: str, level: int = logging.INFO, **fields: object) -> None:
    log.log(level, name, extra={"fields": fields})


HEARTBEAT_SECONDS = 2.0
"""How often the daemon touches its lock file and checks that its database is still there."""

LOCK_DIR_NAME = "thesiswatch-locks"


def db_identity(db_path: Path) -> tuple[int, int] | None:
    """The database file's (device, inode) through any path (symlinks followed), or None
    when there is no file there."""
    try:
        st = os.stat(db_path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def lock_path_for(db_path: Path) -> Path | None:
    """The daemon's lock file for a database: named by the file's identity, in a shared
    folder of the temporary directory, so every path to one file (a symlink, a hard link, a
    relative path) finds the same lock. None when the database does not exist."""
    identity = db_identity(db_path)
    if identity is None:
        return None
    return Path(tempfile.gettempdir()) / LOCK_DIR_NAME / f"{identity[0]}-{identity[1]}.lock"


@contextlib.contextmanager
def daemon_lock(db_path: Path) -> Iterator[Path]:
    """Hold an exclusive lock on the database's identity lock file for the daemon's
    lifetime (the database file is created empty if missing: SQLite takes an empty file as a
    new database)."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # Held open for the lock's lifetime: the inode cannot be reused while it is open, so
        # a new file at the path always has another identity. Closed only after the store
        # (closing a descriptor of the file drops this process's SQLite locks on it).
        db_fd = os.open(db_path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{db_path}: cannot create the database file: {exc.strerror}") from exc
    try:
        yield from _lock_identity(db_path)
    finally:
        os.close(db_fd)


def _lock_identity(db_path: Path) -> Iterator[Path]:
    lock_path = lock_path_for(db_path)
    if lock_path is None:
        raise StoreError(f"{db_path}: the database file vanished while taking the lock")
    try:
        folder = lock_path.parent
        if not folder.is_dir():
            folder.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):  # shared by every user, like /tmp itself
                folder.chmod(0o1777)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:  # another user's lock file: a read-only descriptor locks too
            fd = os.open(lock_path, os.O_RDONLY)
    except OSError as exc:
        raise StoreError(
            f"{lock_path}: cannot create the daemon lock file: {exc.strerror}"
        ) from exc
    try:
        try:
            _flock_retrying(fd)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise ThesiswatchError(
                f"{db_path}: another daemon (pid {holder}) is already writing this database"
            ) from None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield lock_path
    finally:
        os.close(fd)


def _flock_retrying(fd: int, attempts: int = 5) -> None:
    """``flock(LOCK_EX | LOCK_NB)``, tried a few times over 0.2 s: a TUI's
    :func:`daemon_running` probe holds the lock for a few microseconds."""
    for attempt in range(attempts):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
        else:
            return


def daemon_running(db_path: Path) -> bool:
    """True while a process (a daemon, or a TUI polling itself) holds the database's lock.

    A probe: take a shared lock without waiting and release it at once; taking it means
    nobody holds the lock. The kernel releases a lock when its holder dies, however it dies,
    so this notices a killed daemon at the next probe; a database deleted or replaced under
    the daemon has another identity (or none), so the probe answers False for it too.
    """
    lock_path = lock_path_for(db_path)
    if lock_path is None:
        return False
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def daemon_heartbeat(db_path: Path) -> datetime | None:
    """When the daemon last touched its lock file (every ``HEARTBEAT_SECONDS``), or None."""
    lock_path = lock_path_for(db_path)
    try:
        return datetime.fromtimestamp(os.stat(lock_path).st_mtime, UTC) if lock_path else None
    except OSError:
        return None


def print_cycle(report: CycleReport, out: TextIO) -> None:
    for line in sorted((s.line() for s in report.sources), key=lambda s: s[14:]):
        out.write(line + "\n")
    ok = sum(1 for s in report.sources if s.status == "ok")
    nm = sum(1 for s in report.sources if s.status == "not_modified")
    out.write(
        f"{len(report.sources)} sources: {ok} ok, {nm} not modified, {report.failed} failed; "
        f"{report.new_items} new items, {len(report.alerts)} new alerts\n"
    )
    out.flush()


def _log_cycle(report: CycleReport) -> None:
    for s in report.sources:
        if s.status == "failed":
            event("source.failed", logging.WARNING, source=s.source.name, error=s.error)
    event(
        "cycle.done",
        sources=len(report.sources),
        new=report.new_items,
        failed=report.failed,
        alerts=len(report.alerts),
        stories=report.stories,
    )


def run_daemon(
    session: Session, *, once: bool, alerts_jsonl: Path | None, demo: bool = False
) -> int:
    """Run the daemon; returns the exit status."""
    setup_logging()
    settings = session.settings()
    watchlist = session.load_watchlist()
    with daemon_lock(settings.db_path) as lock_path, contextlib.ExitStack() as stack:
        identity = db_identity(settings.db_path)
        from thesiswatch.runtime import build_pipeline
        from thesiswatch.store import Store

        store = stack.enter_context(Store.open(settings.db_path))
        sources = None
        if demo:
            from thesiswatch.demo import DemoServer

            sources = stack.enter_context(DemoServer()).sources()
            settings = replace(settings, fetch=replace(settings.fetch, adaptive=False))
        pipeline = build_pipeline(
            settings,
            store,
            watchlist,
            sources=sources,
            alerts_jsonl=alerts_jsonl,
            on_cycle=None if once else _log_cycle,
        )
        event("daemon.start", db=settings.db_path, sources=len(pipeline.sources), once=once)
        if once:
            report = asyncio.run(_once(pipeline))
            print_cycle(report, sys.stdout)
            return 0
        watch = _Watch(settings.db_path, identity, lock_path)
        asyncio.run(_forever(pipeline, session, alerts_jsonl, demo, watch))
        if watch.gone:
            event("daemon.database_gone", logging.ERROR, db=settings.db_path, error=watch.gone)
            return 1
        event("daemon.stop")
        return 0


class _Watch:
    """The daemon's heartbeat (the lock file's mtime) and its check that the database file is
    still the one it locked."""

    def __init__(self, db_path: Path, identity: tuple[int, int] | None, lock_path: Path) -> None:
        self.db_path = db_path
        self.identity = identity
        self.lock_path = lock_path
        self.gone: str | None = None

    def beat(self) -> bool:
        """Touch the lock file; False (with ``gone`` set) when the database was deleted or
        replaced."""
        with contextlib.suppress(OSError):
            os.utime(self.lock_path)
        now = db_identity(self.db_path)
        if now is None:
            self.gone = "the database file was deleted"
        elif now != self.identity:
            self.gone = "the database file was replaced by another file"
        return self.gone is None

    async def run(self, stop: asyncio.Event, interval: float = HEARTBEAT_SECONDS) -> None:
        while not stop.is_set():
            if not self.beat():
                stop.set()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


async def _once(pipeline: Pipeline) -> CycleReport:
    try:
        await _resume(pipeline)
        return await pipeline.poll_once()
    finally:
        await pipeline.aclose()


async def _resume(pipeline: Pipeline) -> None:
    queued = await pipeline.resume_outbox()
    if queued:
        event("outbox.resumed", rows=queued)


async def _forever(
    pipeline: Pipeline,
    session: Session,
    alerts_jsonl: Path | None,
    demo: bool,
    watch: _Watch | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def request_stop(signame: str) -> None:
        event("daemon.signal", signal=signame)
        stop.set()

    def reload() -> None:
        event("daemon.signal", signal="SIGHUP")
        try:
            _reload(pipeline, session, alerts_jsonl, demo)
        except ThesiswatchError as exc:
            event("config.reload_failed", logging.ERROR, error=exc)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop, sig.name)
    loop.add_signal_handler(signal.SIGHUP, reload)
    retention = asyncio.create_task(_retention_loop(pipeline, session, stop))
    heartbeat = asyncio.create_task(watch.run(stop)) if watch is not None else None
    try:
        await _resume(pipeline)
        await pipeline.run_forever(stop)
    finally:
        retention.cancel()
        if heartbeat is not None:
            heartbeat.cancel()
        # at most the grace for deliveries in flight; the rest stays in the outbox
        await pipeline.aclose()


def _reload(pipeline: Pipeline, session: Session, alerts_jsonl: Path | None, demo: bool) -> None:
    from thesiswatch.alerts import RuleSettings
    from thesiswatch.runtime import make_dispatcher, resolve_sources

    settings = session.load_settings()
    rule_settings = RuleSettings.from_config(settings.rules)
    dispatcher = make_dispatcher(settings, pipeline.store, alerts_jsonl=alerts_jsonl)
    session.use(settings)
    if not demo:
        pipeline.replace_sources(resolve_sources(settings, session.load_watchlist()))
    pipeline.rule_settings = rule_settings
    old, pipeline.dispatcher = pipeline.dispatcher, dispatcher

    async def swap() -> None:
        # The old dispatcher stops at once (its unconfirmed rows are still pending in the
        # outbox); the new one drops the rows of removed destinations and sends the rest.
        if old is not None:
            await old.aclose(grace=0)
        await _resume(pipeline)

    _background.add(task := asyncio.get_running_loop().create_task(swap()))
    task.add_done_callback(_background.discard)
    event(
        "config.reloaded",
        sources=len(pipeline.sources),
        sinks=len(dispatcher.sinks) if dispatcher else 0,
    )


async def _retention_loop(pipeline: Pipeline, session: Session, stop: asyncio.Event) -> None:
    """Prune once a day when ``[retention] days`` is set."""
    while not stop.is_set():
        days = session.settings().retention_days
        if days:
            # No VACUUM here: it would hold up writes on a large file; freed pages are reused.
            result = pipeline.store.prune(older_than=timedelta(days=days), vacuum=False)
            event("retention.pruned", items=result.items_deleted, days=days)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=86400)
