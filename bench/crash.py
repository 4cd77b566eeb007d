"""Crash test: kill -9 a writer during heavy ingest, again and again; nothing acknowledged is lost.

    python bench/crash.py                 # 20 rounds
    python bench/crash.py --rounds 5 --db /tmp/crash.db

Each round starts a child process that opens the store, as the daemon does, and saves batches
of generated items as fast as it can. After every ``save_items`` returns, the child appends
the ids it was told were stored to an acknowledgement file (unbuffered ``os.write``: the
kernel keeps what a killed process wrote). The parent lets it run for a random while, sends
SIGKILL (often in the middle of a transaction or a commit), then checks the database:
``PRAGMA integrity_check`` is ``ok``, both full-text indexes pass FTS5's ``integrity-check``,
every acknowledged id is present, and the store opens and writes again. The next round goes
on writing into the same file. Exit status 0 when every round passed.

    python bench/crash.py --daemon        # 50 random kill points of the real daemon
    python bench/crash.py --daemon --kills 10 --items 800

``--daemon`` kills the real daemon (``daemon --once``, a subprocess) with SIGKILL at random
moments of a heavy ingest (one loopback feed of ``--items`` items, some of which alert),
with three destinations on 127.0.0.1: a webhook, an Apprise ``json://`` receiver and the
JSON Lines sink; then restarts it until a run completes. Each round starts from an empty
database and is compared with a clean run: the alerts raised are the same, no outbox row is
undelivered, every destination received every alert, and after de-duplication by alert id
(the webhook's ``X-Thesiswatch-Delivery``, the ``id`` in Apprise digests, the JSON Lines
``id``) nothing is left twice. It prints the resends that de-duplication absorbed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _bench_store() -> ModuleType:
    """bench/store.py (its generator), loaded by path: its module name would shadow ``store``."""
    spec = importlib.util.spec_from_file_location(
        "bench_store", Path(__file__).with_name("store.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child(db: Path, acks: Path, round_no: int, batch: int) -> None:
    """Ingest until killed; acknowledge each batch after it is committed."""
    from dataclasses import replace
    from datetime import timedelta

    from thesiswatch.store import Store

    gen = _bench_store()
    sources = gen.make_sources(20)
    store = Store.open(db)
    store.sync_sources(sources)
    fd = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    stream = gen.generate(
        10_000_000,
        sources=sources,
        seed=1000 + round_no,
        end=gen.END + timedelta(days=round_no),
        span=timedelta(days=30),
    )
    pending = []
    for item, tags in stream:
        # ids differ per round: the generator derives them from (source, position)
        pending.append((replace(item, id=f"r{round_no}-{item.id}"), tags))
        if len(pending) >= batch:
            result = store.save_items(pending)
            stored = result.new + result.updated + result.seen
            os.write(fd, ("\n".join(stored) + "\n").encode())
            pending = []


def check(db: Path, acks: Path) -> tuple[bool, str]:
    """Integrity, FTS consistency, and every acknowledged id present."""
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            return False, f"integrity_check: {integrity[:3]}"
        for table in ("items_fts", "items_fts_short"):
            try:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                return False, f"{table} integrity-check: {exc}"
        conn.rollback()
        acked = [line for line in acks.read_text().splitlines() if line] if acks.exists() else []
        missing = 0
        for start in range(0, len(acked), 500):
            part = acked[start : start + 500]
            found = conn.execute(
                f"SELECT count(*) FROM items WHERE id IN ({','.join('?' * len(part))})", part
            ).fetchone()[0]
            missing += len(set(part)) - found
        total = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    finally:
        conn.close()
    if missing:
        return False, f"{missing} acknowledged items missing"
    from thesiswatch.store import Store

    with Store.open(db) as store:  # reopens (recovers the WAL) and writes
        store.meta_set("crash_check", "ok")
    return True, f"{len(set(acked)):,} acknowledged, {total:,} stored, integrity ok"


def run(
    rounds: int,
    db: Path,
    *,
    batch: int = 2000,
    seed: int = 1,
    min_wait: float = 0.3,
    max_wait: float = 2.5,
) -> bool:
    rng = random.Random(seed)
    acks = db.with_suffix(".acks")
    acks.unlink(missing_ok=True)
    ok_all = True
    for round_no in range(1, rounds + 1):
        before = acks.stat().st_size if acks.exists() else 0
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                "--db",
                str(db),
                "--round",
                str(round_no),
                "--batch",
                str(batch),
            ],
            cwd=ROOT,
        )
        # wait until the child has committed at least one batch, then a random while more
        deadline = time.monotonic() + 60
        while (acks.stat().st_size if acks.exists() else 0) <= before:
            if proc.poll() is not None or time.monotonic() > deadline:
                print(f"round {round_no:>2}: the writer did not start (exit {proc.poll()})")
                proc.kill()
                return False
            time.sleep(0.05)
        time.sleep(rng.uniform(min_wait, max_wait))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        ok, detail = check(db, acks)
        ok_all &= ok
        print(
            f"round {round_no:>2}: killed -9 after {detail if ok else 'FAILED: ' + detail}",
            flush=True,
        )
        if not ok:
            break
    return ok_all


# -- the daemon: alerts and deliveries across kill -9 ----------------------------------------

COMPANIES = ["Nvidia", "TSMC", "Xiaomi", "Alibaba", "Tencent", "SMIC", "AMD", "Micron"]
EVENTS = [
    "{c} cuts its full-year revenue guidance",
    "{c} recalls {n},000 products over a safety fault",
    "{c} shares plunge {n}% after a profit warning",
    "US adds {c} to the entity list in new export controls",
    "{c} faces an antitrust probe by regulators",
]


def heavy_feed(items: int) -> bytes:
    """One RSS feed: alerting stories (each company and event once) among filler items."""
    entries = [
        ev.format(c=c, n=7 + i % 20)
        for i, (c, ev) in enumerate((c, ev) for ev in EVENTS for c in COMPANIES)
    ]
    entries += [
        f"Market wrap {i}: stocks mixed in quiet trade, volume {i * 7}"
        for i in range(max(0, items - len(entries)))
    ]
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - 600))
    body = "".join(
        f"<item><title>{t}</title><link>https://wire.example.com/{i}</link>"
        f"<pubDate>{now}</pubDate></item>"
        for i, t in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>w</title>'
        f"<link>https://wire.example.com/</link>{body}</channel></rss>"
    ).encode()


class Receivers:
    """The feed, a webhook and an Apprise ``json://`` receiver on 127.0.0.1."""

    def __init__(self, feed: bytes) -> None:
        import re
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.webhook: list[str] = []  # alert ids, one per request
        self.apprise: list[str] = []  # alert ids named in the digests, one per mention
        outer = self
        ids = re.compile(r" · id ([0-9a-z]+)")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(feed)))
                self.end_headers()
                self.wfile.write(feed)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(0.03)  # a receiver's latency: kills land mid-delivery too
                if self.path.startswith("/hook"):
                    outer.webhook.append(self.headers.get("X-Thesiswatch-Delivery", ""))
                else:
                    message = json.loads(body).get("message", "")
                    outer.apprise.extend(ids.findall(message))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a killed daemon resets its connections: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        self.webhook.clear()
        self.apprise.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _daemon(work: Path, port: int) -> subprocess.Popen[bytes]:
    cfg = work / "config.toml"
    if not cfg.exists():
        cfg.write_text(
            f"""
[[sources]]
name = "Heavy Wire"
url = "http://127.0.0.1:{port}/feed.xml"
interval = 600
lang = "en"

[alerts]
jsonl = "{work / "alerts.jsonl"}"
apprise = ["json://127.0.0.1:{port}/apprise"]
backoff_seconds = 0.2

[[alerts.webhooks]]
url = "http://127.0.0.1:{port}/hook"
name = "loopback"
""",
            encoding="utf-8",
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
    env.update(XDG_CONFIG_HOME=str(work / "cfg"), XDG_DATA_HOME=str(work / "data"))
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thesiswatch",
            "--config",
            str(cfg),
            "--db",
            str(work / "tw.db"),
            "daemon",
            "--once",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _outcome(work: Path, net: Receivers) -> dict[str, object]:
    with sqlite3.connect(work / "tw.db") as conn:
        alerts = {r[0] for r in conn.execute("SELECT id FROM alerts")}
        pending = conn.execute("SELECT count(*) FROM outbox WHERE status != 'delivered'")
        undelivered = pending.fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    path = work / "alerts.jsonl"
    lines = [json.loads(x)["id"] for x in path.read_text().splitlines()] if path.exists() else []
    got = {"webhook": net.webhook, "apprise": net.apprise, "jsonl": lines}
    return {
        "alerts": alerts,
        "undelivered": undelivered,
        "integrity": integrity,
        "missing": {k: len(alerts - set(v)) for k, v in got.items()},
        "resent": {k: len(v) - len(set(v)) for k, v in got.items()},
        "jsonl_duplicates": len(lines) - len(set(lines)),
    }


def _count(db: Path, table: str, status: str | None = None) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
            where = f" WHERE status = '{status}'" if status else ""
            return int(conn.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0])
    except sqlite3.Error:
        return 0


def _phase(work: Path) -> str:
    """Where the kill fell: before the items' commit, with deliveries owed, or after."""
    try:
        with sqlite3.connect(work / "tw.db") as conn:
            alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
            owed = conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'")
            pending = owed.fetchone()[0]
    except sqlite3.Error:
        return "before the schema"
    if not alerts:
        return "before the commit"
    return "mid-delivery" if pending else "after delivery"


def run_daemon(kills: int, items: int, seed: int = 1) -> bool:
    import shutil

    rng = random.Random(seed)
    net = Receivers(heavy_feed(items))
    ok_all = True
    resent_total = {"webhook": 0, "apprise": 0, "jsonl": 0}
    phases: dict[str, int] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="tw-crash-daemon-") as tmp:
            clean_dir = Path(tmp) / "clean"
            clean_dir.mkdir()
            start = time.monotonic()
            proc = _daemon(clean_dir, net.port)
            committed = None  # when the alerts appeared: the items' commit
            while proc.poll() is None:
                if committed is None and _count(clean_dir / "tw.db", "alerts"):
                    committed = time.monotonic() - start
                time.sleep(0.02)
            took = time.monotonic() - start
            committed = committed or took / 2
            clean = _outcome(clean_dir, net)
            expected = clean["alerts"]
            assert isinstance(expected, set)
            print(
                f"clean run: {len(expected)} alerts from {items} items in {took:.1f} s "
                f"(committed at {committed:.1f} s); "
                f"undelivered {clean['undelivered']}, missing {clean['missing']}",
                flush=True,
            )
            for kill in range(1, kills + 1):
                net.reset()
                work = Path(tmp) / f"round{kill}"
                work.mkdir()
                # a third anywhere in the run, the rest around the commit and the deliveries
                if kill % 3 == 1:
                    at = rng.uniform(0.2, took)
                else:
                    at = rng.uniform(max(0.2, committed - 0.3), took)
                proc = _daemon(work, net.port)
                time.sleep(at)
                killed = proc.poll() is None
                proc.kill()
                proc.wait()
                phase = _phase(work)
                phases[phase] = phases.get(phase, 0) + 1
                restarts = 0
                while restarts < 5:  # restart until a run completes with nothing owed
                    restarts += 1
                    proc = _daemon(work, net.port)
                    if proc.wait() == 0 and not _count(work / "tw.db", "outbox", "pending"):
                        break
                out = _outcome(work, net)
                resent = out["resent"]
                assert isinstance(resent, dict)
                for k in resent_total:
                    resent_total[k] += resent[k]
                ok = (
                    out["alerts"] == expected
                    and out["undelivered"] == 0
                    and out["integrity"] == "ok"
                    and out["jsonl_duplicates"] == 0
                    and not any(dict(out["missing"]).values())  # type: ignore[call-overload]
                )
                ok_all &= ok
                print(
                    f"kill {kill:>2} at {at:5.2f} s{'' if killed else ' (had exited)'} ({phase}), "
                    f"{restarts} restart{'s' if restarts > 1 else ''}: "
                    f"alerts {len(out['alerts'])}/{len(expected)}, "  # type: ignore[arg-type]
                    f"undelivered {out['undelivered']}, missing {out['missing']}, "
                    f"resends absorbed {resent}, jsonl duplicates {out['jsonl_duplicates']}"
                    f"{'' if ok else '  FAILED'}",
                    flush=True,
                )
                shutil.rmtree(work, ignore_errors=True)
    finally:
        net.close()
    print("kill points:", ", ".join(f"{k} {v}" for k, v in sorted(phases.items())))
    print(
        f"daemon crash test: {kills} kills; alerts equal to the clean run's: "
        f"{'yes' if ok_all else 'NO'}; resends absorbed by de-duplication {resent_total}; "
        "duplicates after de-duplication 0"
        if ok_all
        else "FAILED"
    )
    return ok_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--daemon", action="store_true", help="kill the real daemon (alerts)")
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.db, args.db.with_suffix(".acks"), args.round, args.batch)
        return 0
    if args.daemon:
        return 0 if run_daemon(args.kills, args.items) else 1
    with tempfile.TemporaryDirectory(prefix="tw-crash-") as tmp:
        db = args.db or Path(tmp) / "crash.db"
        ok = run(args.rounds, db, batch=args.batch)
    print("crash test:", "PASSED" if ok else "FAILED", f"({args.rounds} rounds)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
