"""Robustness run: every file of a feed corpus served over loopback through Fetcher + parse_feed.

    python bench/feed_corpus.py PATH [--show-failures N] [--timeout SECONDS]

PATH is a copy of feedparser's test data (../shared/data/feed-corpus: ``tests/`` plus
``_history/``, with ``MANIFEST.jsonl`` files). Each file is served by a loopback HTTP server:
files feedparser served over HTTP get their ``Header:`` lines as response headers (``Status``
becomes the status code, ``Location`` is pointed at this server), ``_history`` compression
files get ``Content-Encoding`` from their extension, everything else is served bare. Every URL
is fetched once through ``Fetcher`` (so decompression, redirects, limits and parsing are the
production path) and the result counted:

- files, parsed (ok / not modified), failed by reason;
- entries: what feedparser itself finds in the same bytes, what we produced, and how many
  distinct ids a store would keep (the same entry in several files is stored once);
- crashes (an outcome of ``unexpected error`` or an exception escaping ``fetch``) and hangs
  (a fetch still running well past the total timeout): both must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "feeds"))

SKIP_NAMES = {"README.md", "MANIFEST.jsonl", "LICENSE.feedparser"}
ENCODING_BY_SUFFIX = {".gz": "gzip", ".z": "deflate"}


def load_manifest(root: Path) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for manifest in root.rglob("MANIFEST.jsonl"):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                entries[record["path"]] = record
    return entries


def reason_of(error: str) -> str:
    """Group similar errors: drop quoted snippets, numbers and positions."""
    error = re.sub(r'\(".*?"\)', "(...)", error)
    error = re.sub(r"'.*?'", "'...'", error)
    error = re.sub(r"line \d+, column \d+", "line N, column N", error)
    error = re.sub(r"\d+", "N", error)
    return error[:90]


def build_routes(root: Path, manifest: dict[str, dict], base: list[str]):
    from loopback import Reply, Request

    routes = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIP_NAMES):
        rel = path.relative_to(root).as_posix()
        record = manifest.get(rel, {})
        body = path.read_bytes()
        headers: dict[str, str] = {}
        status = 200
        for name, value in (record.get("headers") or {}).items():
            if name.lower() == "status":
                status = int(value)
            elif name.lower() == "location":
                target = re.sub(r"^http://localhost:8097/", "", value)
                if target.startswith("tests/http/"):
                    target = "_history/" + target
                headers["Location"] = "/" + target
            else:
                headers[name] = value
        if not any(k.lower() == "content-type" for k in headers):
            # feedparser's harness: text/xml for its HTTP files; files it read from disk get
            # the neutral application/xml (the document's own declaration decides).
            headers["Content-Type"] = "text/xml" if record.get("http") else "application/xml"
        if path.suffix in ENCODING_BY_SUFFIX and rel.startswith("_history/tests/compression"):
            headers["Content-Encoding"] = ENCODING_BY_SUFFIX[path.suffix]
        routes["/" + rel] = Reply(status=status, body=body, headers=headers)
    routes["/-/return-304.xml"] = Reply(status=304)

    def fallback(request: Request) -> Reply:
        return Reply(status=404, body=b"not found")

    return routes, fallback


def feedparser_entries(body: bytes, headers: dict[str, str], url: str) -> tuple[int, int]:
    """Entries feedparser finds in ``body``, and how many of them carry any text or link."""
    import feedparser

    from thesiswatch.feeds.normalize import plain_text

    lowered = {k.lower(): v for k, v in headers.items()}
    lowered.setdefault("content-location", url)
    entries = feedparser.parse(io.BytesIO(body), response_headers=lowered).entries
    with_text = [
        e
        for e in entries
        if plain_text(str(e.get("title") or ""))
        or plain_text(str(e.get("summary") or ""))
        or str(e.get("link") or "").startswith(("http://", "https://"))
    ]
    return len(entries), len(with_text)


async def run(urls: list[str], timeout: float) -> tuple[list, int, int]:
    from thesiswatch.feeds.fetch import Fetcher, FetchSettings
    from thesiswatch.feeds.models import Source

    settings = FetchSettings(
        total_timeout=timeout,
        read_timeout=timeout,
        connect_timeout=timeout,
        per_host_limit=16,
        per_host_spacing=0.0,
    )
    fetcher = Fetcher(settings=settings)
    gate = asyncio.Semaphore(32)
    crashes = 0
    hangs = 0

    async def one(url: str):
        nonlocal crashes, hangs
        async with gate:
            source = Source(name=url.rsplit("/", 1)[-1], url=url)
            try:
                return await asyncio.wait_for(fetcher.fetch(source, None), timeout + 5)
            except TimeoutError:
                hangs += 1
                return None
            except Exception as exc:  # must never happen: fetch promises not to raise
                crashes += 1
                print(f"CRASH {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
                return None

    outcomes = await asyncio.gather(*(one(u) for u in urls))
    await fetcher.aclose()
    return outcomes, crashes, hangs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--show-failures", type=int, default=0, help="list N failing files with their error"
    )
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    root: Path = args.path
    if not root.is_dir():
        raise SystemExit(f"{root}: not a directory")
    from loopback import LoopbackServer

    manifest = load_manifest(root)
    base: list[str] = []
    routes, fallback = build_routes(root, manifest, base)
    files = [r for r in routes if r != "/-/return-304.xml"]
    with LoopbackServer(routes, default=fallback) as server:
        urls = [server.url(r) for r in files]
        started = time.perf_counter()
        outcomes, crashes, hangs = asyncio.run(run(urls, args.timeout))
        wall = time.perf_counter() - started

    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    examples: list[str] = []
    produced = 0
    raw_entries = 0
    text_entries_of_ok = 0
    store: dict[str, set[str]] = {}
    for route, url, outcome in zip(files, urls, outcomes, strict=True):
        reply = routes[route]
        if outcome is None:
            statuses["no outcome"] += 1
            continue
        statuses[outcome.status] += 1
        if outcome.status == "failed":
            error = outcome.error or ""
            if error.startswith("unexpected error"):
                crashes += 1
            reasons[reason_of(error)] += 1
            if len(examples) < args.show_failures:
                examples.append(f"  {route}: {error}")
        if reply.status == 200 and "Content-Encoding" not in dict(reply.headers):
            found, with_text = feedparser_entries(reply.body, dict(reply.headers), url)
            raw_entries += found
            if outcome.status == "ok":
                text_entries_of_ok += with_text
        produced += len(outcome.items)
        for item in outcome.items:
            store.setdefault(item.id, set()).add(item.source_id)
        ids = [i.id for i in outcome.items]
        if len(ids) != len(set(ids)):
            crashes += 1
            print(f"DUPLICATE ids within one outcome: {route}", file=sys.stderr)

    print(f"corpus: {root}")
    print(f"files served      : {len(files)}  (wall {wall:.1f} s)")
    print(f"parsed            : {statuses['ok']} ok, {statuses['not_modified']} not modified")
    print(f"failed            : {statuses['failed']}")
    for reason, count in reasons.most_common():
        print(f"  {count:5d}  {reason}")
    print(
        f"entries           : feedparser finds {raw_entries} in the plain 200 files; "
        f"{text_entries_of_ok} of those in files we parsed carry a title, text or link"
    )
    print(
        f"items produced    : {produced} (entries without title, text or link are skipped; "
        "repeats of one entry within a file are merged)"
    )
    print(
        f"stored once       : {len(store)} distinct ids "
        f"({sum(1 for s in store.values() if len(s) > 1)} ids carried by more than one file)"
    )
    print(f"crashes           : {crashes}")
    print(f"hangs             : {hangs}")
    if examples:
        print("failures:")
        print("\n".join(examples))
    if crashes or hangs:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
