"""The headless daemon: the pipeline forever (or ``--once``), with signals, a lock and logs.

- SIGINT/SIGTERM: stop scheduling, let the write in progress finish, close, exit 0.
- SIGHUP: reload the config file (sources, sinks, rules) without losing state.
- A lock file beside the database keeps two daemons from writing one database.
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


@contextlib.contextmanager
def daemon_lock(db_path: Path) -> Iterator[Path]:
    """Hold an exclusive lock on ``<db>.lock`` for the daemon's lifetime."""
    lock_path = lock_path_for(db_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
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


def lock_path_for(db_path: Path) -> Path:
    """The daemon's lock file: ``<db>.lock`` beside the database."""
    return db_path.with_name(db_path.name + ".lock")


def daemon_running(db_path: Path) -> bool:
    """True while a process (a daemon, or a TUI polling itself) holds the database's lock.

    A probe: take a shared lock without waiting and release it at once; taking it means
    nobody holds the lock. The kernel releases a lock when its holder dies, however it dies,
    so this notices a killed daemon at the next probe.
    """
    try:
        fd = os.open(lock_path_for(db_path), os.O_RDONLY)
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
    with daemon_lock(settings.db_path), contextlib.ExitStack() as stack:
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
        asyncio.run(_forever(pipeline, session, alerts_jsonl, demo))
        event("daemon.stop")
        return 0


async def _once(pipeline: Pipeline) -> CycleReport:
    try:
        return await pipeline.poll_once()
    finally:
        await pipeline.aclose()


async def _forever(
    pipeline: Pipeline, session: Session, alerts_jsonl: Path | None, demo: bool
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
    try:
        await pipeline.run_forever(stop)
    finally:
        retention.cancel()
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
    if old is not None:
        asyncio.get_running_loop().create_task(old.aclose())
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
