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
"""

from __future__ import annotations

import argparse
import importlib.util
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.db, args.db.with_suffix(".acks"), args.round, args.batch)
        return 0
    with tempfile.TemporaryDirectory(prefix="tw-crash-") as tmp:
        db = args.db or Path(tmp) / "crash.db"
        ok = run(args.rounds, db, batch=args.batch)
    print("crash test:", "PASSED" if ok else "FAILED", f"({args.rounds} rounds)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
