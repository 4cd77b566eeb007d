"""Alert latency: from an item appearing on a loopback feed to its line in the alerts JSONL file.

    python bench/alert_latency.py [--interval 60] [--items 50] [--spread 300] [--keep DIR]

Runs the real daemon (``python -m thesiswatch daemon``) as a subprocess against one feed
served on 127.0.0.1 by this script, with a source interval of ``--interval`` seconds and a
keyword rule that fires on every probe item (cooldown 0, so each probe raises its own alert).
Probe items are added to the feed at random moments over ``--spread`` seconds; the script tails
the JSONL file and measures, for each probe, the time from its appearance on the feed to its
alert line. Nothing leaves the machine.

Prints p50 / p95 / max latency, how many probes alerted, and the p95 as a ratio of the target
(``interval + 2 s``, issue 7). The expected latency of a poller is about half an interval on
average and at most one interval (plus jitter) plus processing, so p95 sits near the interval.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "harbour",
    "lantern",
    "meadow",
    "copper",
    "violet",
    "glacier",
    "orchard",
    "summit",
    "canyon",
    "ember",
    "falcon",
    "willow",
    "quartz",
    "beacon",
    "prairie",
    "cobalt",
    "thistle",
    "marble",
    "juniper",
    "tundra",
    "saffron",
    "lagoon",
    "cedar",
    "pebble",
    "aurora",
    "bramble",
    "delta",
    "fjord",
    "garnet",
    "heron",
    "ivory",
    "jasper",
    "kelp",
    "lilac",
    "mesa",
    "nectar",
    "onyx",
    "plume",
]
PROBE = re.compile(r"probe(\d+)x")


class Feed:
    """An RSS feed whose items are added while the daemon polls it."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str, datetime]] = []
        self.lock = threading.Lock()
        self.polls = 0

    def add(self, n: int, rng: random.Random) -> float:
        title = f"probe{n}x " + " ".join(rng.sample(WORDS, 6))
        with self.lock:
            self.items.append((n, title, datetime.now(UTC)))
        return time.monotonic()

    def render(self) -> tuple[bytes, str]:
        with self.lock:
            items = list(self.items)
            self.polls += 1
        entries = "".join(
            f"<item><title>{escape(title)}</title><link>http://127.0.0.1/probe/{n}</link>"
            f"<guid>probe-{n}</guid><pubDate>{format_datetime(when)}</pubDate></item>"
            for n, title, when in reversed(items)
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>latency probe</title><link>http://127.0.0.1/</link>{entries}</channel></rss>"
        ).encode()
        return body, f'"{len(items)}"'


def serve(feed: Feed) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, etag = feed.render()
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return httpd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=int, default=60, help="source interval, seconds")
    parser.add_argument("--items", type=int, default=50, help="probe items")
    parser.add_argument(
        "--spread", type=float, default=300.0, help="seconds over which probes appear"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the database, config and logs here")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tw-latency-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    feed = Feed()
    httpd = serve(feed)
    host, port = str(httpd.server_address[0]), int(httpd.server_address[1])
    alerts = work / "alerts.jsonl"
    config = work / "bench.toml"
    config.write_text(
        f"""
[fetch]
default_interval = {args.interval}

[[sources]]
name = "latency probe"
url = "http://{host}:{port}/feed.xml"
interval = {args.interval}
lang = "en"

[rules]
enabled = ["keyword"]

[rules.cooldown_minutes]
keyword = 0

[[rules.keyword]]
name = "probe"
regex = 'probe\\d+x'
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
    env.update(
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        PYTHONPATH=str(ROOT),
    )
    log = open(work / "daemon.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "thesiswatch", "--config", str(config), "--db", str(work / "bench.db"),
           "daemon", "--alerts-jsonl", str(alerts)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    appeared: dict[int, float] = {}
    alerted: dict[int, float] = {}
    try:
        # Wait for the first poll (the daemon loads the scorer first), then start the clock.
        deadline = time.monotonic() + 120
        while feed.polls == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if feed.polls == 0:
            print("the daemon never polled the feed; see", work / "daemon.log", file=sys.stderr)
            return 1
        start = time.monotonic()
        schedule = sorted(rng.uniform(0, args.spread) for _ in range(args.items))
        offset = 0
        pending = list(enumerate(schedule))
        end = start + args.spread + args.interval * 2 + 10
        while time.monotonic() < end and proc.poll() is None:
            now = time.monotonic()
            while pending and start + pending[0][1] <= now:
                n, _ = pending.pop(0)
                appeared[n] = feed.add(n, rng)
            if alerts.exists():
                with open(alerts, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                complete = chunk[: chunk.rfind(b"\n") + 1]
                offset += len(complete)
                seen = time.monotonic()
                for line in complete.splitlines():
                    m = PROBE.search(json.loads(line)["title"])
                    if m and int(m.group(1)) not in alerted:
                        alerted[int(m.group(1))] = seen
            if not pending and len(alerted) >= len(appeared):
                break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        httpd.shutdown()

    latencies = sorted(alerted[n] - appeared[n] for n in alerted if n in appeared)
    target = args.interval + 2.0
    print(
        f"alert latency, loopback feed, interval {args.interval} s, {len(appeared)} probes over {args.spread:g} s"
    )
    print(f"  alerted      {len(latencies)}/{len(appeared)}")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        print(f"  p50          {statistics.median(latencies):6.2f} s")
        print(f"  p95          {p95:6.2f} s   ({p95 / target:.2f} x target {target:g} s: "
              f"{'met' if p95 <= target else 'missed'})")  # fmt: skip
        print(f"  max          {latencies[-1]:6.2f} s")
        print(
            f"  mean/interval {statistics.fmean(latencies) / args.interval:.2f} (a poller's floor is ~0.5)"
        )
    print(f"  feed polls   {feed.polls}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"  kept         {work}")
    return 0 if latencies and len(latencies) == len(appeared) else 1


if __name__ == "__main__":
    sys.exit(main())
