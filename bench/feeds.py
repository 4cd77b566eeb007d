"""Benchmark: one poll cycle over 200 loopback feeds, against a naive feedparser loop.

200 feeds of 20 entries each are served on loopback by a separate process, each on its own
address (127.0.0.2 ... 127.0.0.201, so per-host politeness does not serialise them), and every
response, 304s included, is delayed 200 ms. Printed:

- the first cycle (all 200 fetched and parsed) and an all-304 second cycle, wall time;
- the single slowest response and the total parse time, for the target
  "first cycle within 3x the single slowest response plus parse time";
- a naive sequential ``feedparser.parse(url)`` loop over the same feeds, and the ratio.

    python bench/feeds.py [--feeds 200] [--items 20] [--delay 0.2] [--repeat 3] [--naive-sample N]

``--naive-sample N`` times the naive loop on N feeds only and scales it up (labelled so).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "feeds"))


def feed_body(n: int, items: int) -> bytes:
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><title>Feed {n} story {i}: Nvidia, TSMC and DeepSeek move markets</title>"
        f"<link>https://news{n}.example.com/2025/01/story-{i}.html?utm_source=rss</link>"
        f'<guid isPermaLink="false">feed{n}-story{i}</guid>'
        f"<pubDate>{format_datetime(now - timedelta(minutes=7 * i), usegmt=True)}</pubDate>"
        f"<description>&lt;p&gt;Summary of story {i} in feed {n}, with &lt;b&gt;some&lt;/b&gt; markup "
        f"and a few sentences of text to make it realistic.&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"<link>https://news{n}.example.com/</link><description>bench</description>{entries}</channel></rss>"
    ).encode()


def serve(feeds: int, items: int, delay: float) -> None:
    """Child process: serve the feeds, print the URLs as JSON, run until stdin closes."""
    from loopback import LoopbackServer, Reply, Request

    hosts = [f"127.0.0.{2 + n}" for n in range(feeds)]
    bodies = {host: feed_body(n, items) for n, host in enumerate(hosts)}

    def handler(request: Request) -> Reply:
        etag = f'"{request.host}-v1"'
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag}, delay=delay)
        return Reply(
            body=bodies[request.host],
            headers={"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag},
            delay=delay,
        )

    with LoopbackServer(default=handler, hosts=hosts) as server:
        print(json.dumps([server.url("/feed.xml", host) for host in hosts]), flush=True)
        sys.stdin.read()


cpu_used: list[float] = []  # CPU seconds of this process per cycle (all threads)


async def cycle(fetcher, sources, states):
    from thesiswatch.feeds.fetch import next_state

    start = time.perf_counter()
    cpu = time.process_time()
    outcomes = await asyncio.gather(*(fetcher.fetch(s, states.get(s.id)) for s in sources))
    wall = time.perf_counter() - start
    cpu_used.append(time.process_time() - cpu)
    for source, outcome in zip(sources, outcomes, strict=True):
        states[source.id] = next_state(states.get(source.id), outcome, source)
    return wall, outcomes


async def measure(urls: list[str], items: int, repeat: int) -> dict[str, list[float]]:
    """Each figure ``repeat`` times (a fresh Fetcher and cold caches each time)."""
    import httpx

    from thesiswatch.feeds.fetch import Fetcher, FetchSettings
    from thesiswatch.feeds.models import Source
    from thesiswatch.feeds.normalize import canonical_url, url_key
    from thesiswatch.feeds.parse import parse_feed

    sources = [Source(name=f"bench {n}", url=url) for n, url in enumerate(urls)]
    figures: dict[str, list[float]] = {"first": [], "second": [], "single": [], "parse": []}
    bodies = [feed_body(n, items) for n in range(len(urls))]
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    for _ in range(repeat):
        # the slowest single response, alone (no contention): what one request costs
        async with httpx.AsyncClient() as client:
            single = 0.0
            for url in urls[:5]:
                t0 = time.perf_counter()
                await client.get(url)
                single = max(single, time.perf_counter() - t0)
        figures["single"].append(single)
        canonical_url.cache_clear()
        url_key.cache_clear()
        fetcher = Fetcher(settings=FetchSettings())
        states: dict = {}
        first, outcomes = await cycle(fetcher, sources, states)
        bad = [o for o in outcomes if o.status != "ok" or len(o.items) != items]
        if bad:
            raise SystemExit(f"first cycle: {len(bad)} feeds not ok, e.g. {bad[0].error}")
        second, outcomes = await cycle(fetcher, sources, states)
        bad = [o for o in outcomes if o.status != "not_modified"]
        if bad:
            raise SystemExit(
                f"second cycle: {len(bad)} feeds not 304, e.g. {bad[0].status} {bad[0].error}"
            )
        await fetcher.aclose()
        figures["first"].append(first)
        figures["second"].append(second)
        # parse time: every body parsed once more, sequentially, caches as cold as in cycle 1
        canonical_url.cache_clear()
        url_key.cache_clear()
        t0 = time.perf_counter()
        for source, body in zip(sources, bodies, strict=True):
            parse_feed(body, headers, source.url, source)
        figures["parse"].append(time.perf_counter() - t0)
    return figures


def naive(urls: list[str]) -> float:
    import feedparser

    start = time.perf_counter()
    for url in urls:
        result = feedparser.parse(url)
        if not result.entries:
            raise SystemExit(f"naive loop: no entries from {url}: {result.get('bozo_exception')}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument(
        "--naive-sample", type=int, default=0, help="time the naive loop on N feeds and scale up"
    )
    parser.add_argument("--repeat", type=int, default=3, help="fetcher runs; medians are printed")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.feeds, args.items, args.delay)
        return
    if not 1 <= args.feeds <= 250:
        raise SystemExit("--feeds must be between 1 and 250 (one loopback address each)")
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--feeds",
            str(args.feeds),
            "--items",
            str(args.items),
            "--delay",
            str(args.delay),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        urls = json.loads(child.stdout.readline())
        m = asyncio.run(measure(urls, args.items, args.repeat))
        sample = urls[: args.naive_sample] if args.naive_sample else urls
        naive_time = naive(sample) * len(urls) / len(sample)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(10)
    med = {k: statistics.median(v) for k, v in m.items()}
    budget = 3 * med["single"] + med["parse"]
    label = f" (scaled from {len(sample)})" if len(sample) != len(urls) else ""
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"

    def spread(key: str) -> str:
        values = m[key]
        return f"{med[key]:.3f} s" + (
            f" (min {min(values):.3f}, max {max(values):.3f})" if len(values) > 1 else ""
        )

    print(
        f"feeds: {len(urls)} x {args.items} entries, every response delayed {args.delay * 1000:.0f} ms, "
        f"one host each; load average {load} on {os.cpu_count()} CPUs; median of {args.repeat} runs"
    )
    print(f"single slowest response alone : {spread('single')}")
    print(f"parse time, all feeds         : {spread('parse')}")
    ok_first = "OK" if med["first"] <= budget else "MISSED"
    print(
        f"first cycle (fetch + parse)   : {spread('first')}   target <= 3 x single + parse = {budget:.3f} s  {ok_first}"
    )
    ok_second = "OK" if med["second"] < 1 else "MISSED"
    print(f"second cycle (all 304)        : {spread('second')}   target < 1 s  {ok_second}")
    firsts, seconds = cpu_used[0::2], cpu_used[1::2]
    print(
        f"CPU of this process per cycle : {statistics.median(firsts):.3f} s first, "
        f"{statistics.median(seconds):.3f} s second"
    )
    print(f"naive feedparser.parse(url)   : {naive_time:.3f} s{label}")
    ratio = naive_time / med["first"]
    ok_ratio = "OK" if ratio >= 20 else "MISSED"
    print(f"speed-up vs naive, first cycle: {ratio:.1f}x   target >= 20x  {ok_ratio}")
    print(f"speed-up vs naive, 304 cycle  : {naive_time / med['second']:.1f}x")


if __name__ == "__main__":
    main()
