"""Per-URL Apprise delivery (a dead URL never repeats or blocks a good one) and the daemon's
lock by the database file's identity (symlinks, hard links, a deleted database)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.app.test_outbox import alert
from thesiswatch.alerts.dispatch import Dispatcher
from thesiswatch.alerts.sinks import build_sinks
from thesiswatch.daemon import _Watch, daemon_lock, daemon_running, db_identity
from thesiswatch.errors import ThesiswatchError
from thesiswatch.store import Store

apprise = pytest.importorskip("apprise")  # the test extra installs it


class Receiver:
    """A JSON receiver on 127.0.0.1: ``/good`` answers 200, ``/dead`` 500."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes]] = {"/good": [], "/dead": []}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.bodies.setdefault(self.path, []).append(body)
                self.send_response(200 if self.path == "/good" else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_apprise_delivers_per_url(tmp_path: Path, receiver: Receiver) -> None:
    urls = [
        f"json://127.0.0.1:{receiver.port}/good",
        f"json://127.0.0.1:{receiver.port}/dead",
        "nosuchscheme://whatever/secrettoken",
    ]
    sinks = build_sinks({"apprise": urls})
    names = [s.name for s in sinks]
    assert len(set(names)) == 3 and all(n.startswith("apprise:") for n in names)
    assert not any("secrettoken" in n for n in names)
    alerts = [alert(1), alert(2)]
    with Store.open(tmp_path / "tw.db") as store:
        store.save_alerts(alerts, destinations=names)
        d = Dispatcher(sinks, ledger=store.record_delivery, backoff=0.001, retries=3, wait=True)
        asyncio.run(d.dispatch(alerts))
        delivered = {(e.destination, e.alert.id) for e in store.outbox(status="delivered")}
        dead = {(e.destination, e.attempts) for e in store.outbox(status="dead")}
    # the good URL got each alert exactly once (one digest of both), whatever the others did
    assert len(receiver.bodies["/good"]) == 1
    body = receiver.bodies["/good"][0].decode()
    assert "Alert 1" in body and "Alert 2" in body
    assert delivered == {(names[0], "alert1"), (names[0], "alert2")}
    assert len(receiver.bodies["/dead"]) == 4  # the first attempt and 3 retries
    assert dead == {(names[1], 4), (names[2], 1)}  # an unknown scheme is not retried


def test_the_lock_follows_the_file_through_symlinks_and_hard_links(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    Store.open(db).close()
    link = tmp_path / "other" / "link.db"
    link.parent.mkdir()
    link.symlink_to(db)
    hard = tmp_path / "hard.db"
    os.link(db, hard)
    with daemon_lock(db):
        assert daemon_running(link) and daemon_running(hard)
        for path in (link, hard, tmp_path / "." / "tw.db"):
            with pytest.raises(ThesiswatchError, match="another daemon"), daemon_lock(path):
                pass
    assert not daemon_running(link)


def test_the_daemon_notices_its_database_deleted_or_replaced(tmp_path: Path) -> None:
    db = tmp_path / "tw.db"
    with daemon_lock(db) as lock_path:
        watch = _Watch(db, db_identity(db), lock_path)
        assert watch.beat() and watch.gone is None
        db.unlink()
        assert not watch.beat() and watch.gone == "the database file was deleted"
        assert not daemon_running(db)  # an attached TUI sees no daemon on this file
        Store.open(db).close()  # a new file at the same path
        watch.gone = None
        assert not watch.beat() and watch.gone == "the database file was replaced by another file"

    async def stops() -> None:
        stop = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.run(stop, interval=0.01), timeout=5)
        assert stop.is_set()

    asyncio.run(stops())
