"""Launching the TUI from a session: own-poll mode, attach mode (``--no-poll``), and the demo.

If a daemon already holds the database's lock, the TUI attaches read-only instead of polling
a second time into the same file.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from thesiswatch.errors import ThesiswatchError

if TYPE_CHECKING:
    from thesiswatch.session import Session
    from thesiswatch.store import Store


def _open_for_triage(db_path: Path) -> Store:
    """Attach mode: the app polls nothing, but your triage (ack, snooze, mute, false
    positive) is stored, so it opens read-write when it can (SQLite's WAL lets it write those
    small rows beside a running daemon); a file it may not write is opened read-only."""
    from thesiswatch.store import READER, Store

    try:
        return Store.open(db_path, tuning=READER)
    except ThesiswatchError:
        return Store.open(db_path, readonly=True)


def run_tui(session: Session, *, no_poll: bool, demo: bool) -> None:
    settings = session.settings()
    watchlist = session.load_watchlist()
    from thesiswatch.daemon import daemon_lock
    from thesiswatch.store import Store

    with contextlib.ExitStack() as stack:
        db_path = settings.db_path
        if demo and session.db is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="thesiswatch-demo-"))
            db_path = Path(tmp) / "demo.db"
        pipeline = None
        attached_reason = None
        if no_poll:
            if not db_path.exists():
                raise ThesiswatchError(
                    f"{db_path}: no database to attach to (start `thesiswatch daemon` first)"
                )
            store = stack.enter_context(_open_for_triage(db_path))
            attached_reason = "attached (--no-poll)"
        else:
            try:
                stack.enter_context(daemon_lock(db_path))
            except ThesiswatchError:
                if not db_path.exists():
                    raise
                store = stack.enter_context(_open_for_triage(db_path))
                attached_reason = "attached to the running daemon"
            else:
                store = stack.enter_context(Store.open(db_path))
                from thesiswatch.runtime import build_pipeline

                sources = None
                if demo:
                    from thesiswatch.demo import DemoServer

                    sources = stack.enter_context(DemoServer()).sources()
                    # every demo feed at its 30 s interval, so held-back items arrive on time
                    settings = replace(settings, fetch=replace(settings.fetch, adaptive=False))
                pipeline = build_pipeline(settings, store, watchlist, sources=sources)
        from thesiswatch.daemon import daemon_running
        from thesiswatch.tui.app import make_app

        app = make_app(
            settings,
            store=store,
            watchlist=watchlist,
            pipeline=pipeline,
            daemon_probe=None if pipeline is not None else partial(daemon_running, db_path),
        )
        if attached_reason:
            app.sub_title = attached_reason
        elif demo:
            from thesiswatch.demo.server import POLL_INTERVAL, load_samples

            held = [x.release_after_seconds for x in load_samples() if x.release_after_seconds]
            first, last = (min(held), max(held)) if held else (0.0, 0.0)
            app.startup_notice = (
                f"Sample feeds on 127.0.0.1, polled every {POLL_INTERVAL} s. More news is "
                f"released {first:.0f}-{last:.0f} s after start; it shows up (with its "
                f"alerts) within about {POLL_INTERVAL + 5} s of its release."
            )
        app.run()
