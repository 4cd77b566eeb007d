"""Bounded shutdown: SIGTERM while a webhook answers 429 with ``Retry-After: 120``.

    python bench/shutdown.py                  # grace 10 s (the default)
    python bench/shutdown.py --grace 3

Runs the real daemon (a subprocess) against a feed on 127.0.0.1 whose items raise alerts,
with a loopback webhook that answers every request ``429 Too Many Requests`` and
``Retry-After: 120``, and the JSON Lines sink. Once the webhook has been asked once (the
daemon now wants to wait 120 s), it sends SIGTERM and prints the wall time to exit, the exit
status, and the outbox: the webhook's rows must still be ``pending`` (they are sent at the
next start), the JSON Lines file's ``delivered``. Target: exit 0 within grace + 2 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TITLES = [
    "Nvidia shares plunge 17% as DeepSeek rattles the AI trade",
    "TSMC cuts its full-year revenue guidance",
    "Xiaomi recalls 30,000 SU7 cars over a braking fault",
    "US tightens export controls on Nvidia H20 chips to China",
]


def rss() -> bytes:
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    items = "".join(
        f"<item><title>{t}</title><link>https://wire.example.com/{i}</link>"
        f"<pubDate>{now}</pubDate></item>"
        for i, t in enumerate(TITLES)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://wire.example.com/</link>{items}</channel></rss>"
    ).encode()


class Loopback:
    """``/feed.xml`` (the feed) and ``/hook`` (429, Retry-After: 120) on 127.0.0.1."""

    def __init__(self) -> None:
        self.hook_requests = 0
        feed = rss()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(feed)))
                self.end_headers()
                self.wfile.write(feed)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hook_requests += 1
                self.send_response(429)
                self.send_header("Retry-After", "120")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=None, help="shutdown_grace_seconds")
    args = parser.parse_args(argv)
    grace = 10.0 if args.grace is None else args.grace
    net = Loopback()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = work / "config.toml"
        grace_line = "" if args.grace is None else f"shutdown_grace_seconds = {args.grace}\n"
        cfg.write_text(
            f"""
[[sources]]
name = "Loopback Wire"
url = "http://127.0.0.1:{net.port}/feed.xml"
interval = 60
lang = "en"

[alerts]
jsonl = "{work / "alerts.jsonl"}"
{grace_line}
[[alerts.webhooks]]
url = "http://127.0.0.1:{net.port}/hook"
name = "throttled"
""",
            encoding="utf-8",
        )
        db = work / "tw.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
        env.update(XDG_CONFIG_HOME=str(work / "cfg"), XDG_DATA_HOME=str(work / "data"))
        env["PYTHONPATH"] = str(ROOT)
        proc = subprocess.Popen(
            [sys.executable, "-m", "thesiswatch", "--config", str(cfg), "--db", str(db), "daemon"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while net.hook_requests == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if net.hook_requests == 0:
            proc.kill()
            print("the webhook was never called:", proc.communicate()[1][-2000:])
            return 1
        time.sleep(0.5)  # the 429 recorded; the daemon now waits 120 s to retry
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            print("still running 180 s after SIGTERM")
            return 1
        took = time.monotonic() - start
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT destination, status, count(*) FROM outbox GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
        net.close()
    ok = proc.returncode == 0 and took <= grace + 2
    print(f"webhook requests before SIGTERM: {net.hook_requests}")
    print(f"SIGTERM to exit: {took:.2f} s (grace {grace:g} s, target <= {grace + 2:g} s)")
    print(f"exit status: {proc.returncode}")
    for destination, status, n in rows:
        print(f"outbox: {destination} {status} {n}")
    print("ok" if ok else "FAILED")
    if not ok:
        print(err[-3000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
