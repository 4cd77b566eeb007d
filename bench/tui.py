"""Benchmark the TUI on a large database: first paint in attach mode, filter and search latency.

    python bench/tui.py                                  # 1,000,000 items in a temporary file
    python bench/tui.py --db /tmp/tw-bench.db --keep     # keep the database for the next run
    python bench/tui.py --db /tmp/tw-bench.db --reuse    # skip generating when it exists

The database is generated with ``bench/store.py``'s generator (realistic Chinese and English
items over three years, ~60 sources) plus a few thousand alerts. The TUI then runs headless
(Textual's ``run_test``) at 160x50 in attach mode (read-only store, no pipeline) in a fresh
process, and prints:

- launch to first full paint: from the start of the process (before imports) to Textual's
  ``Ready`` event, i.e. the first frame with the board, alerts and news loaded (target 1.5 s);
- applying a ticker filter, a thesis filter and a search, until the next frame (target 150 ms);
- returning to the main screen from the sources screen after new data arrived while it was on
  top: the main screen re-reads and repaints (target 150 ms);
- whether snownlp was imported (it must not be, in attach mode).

Figures are for this machine; nothing here is a pass/fail test.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SIZE = (160, 50)
TICKERS = ["NVDA.US", "1810.HK", "981.HK", "NIO.US", "688396.CH"]
SEARCHES = ["中芯国际", "export controls", "小米", "Nvidia", "季度营收超预期"]
THESES = ["compute", "edge", "localization", "risk"]


def _bench_store_module() -> ModuleType:
    """bench/store.py (its generator), loaded by path: ``store`` is also the package's name."""
    spec = importlib.util.spec_from_file_location("bench_store", ROOT / "bench" / "store.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_database(path: Path, items: int, batch: int) -> datetime:
    """Generate ``items`` entries and ~1 alert per 250 items; return the data's "now"."""
    from thesiswatch.records import Alert
    from thesiswatch.store import BULK, Store

    gen = _bench_store_module()
    with Store.open(path, tuning=BULK) as store:
        sources = gen.make_sources()
        store.sync_sources(sources)
        started = time.perf_counter()
        done = 0
        alerts: list[Alert] = []
        for chunk in gen.batches(gen.generate(items, sources=sources), batch):
            store.save_items(chunk)
            for n, (item, tags) in enumerate(chunk):
                if n % 250 == 0 and tags.theses:
                    stance = tags.theses[0]
                    alerts.append(
                        Alert(
                            id=f"bench-{item.id}",
                            created=(item.published or item.fetched or gen.END)
                            .astimezone(UTC)
                            .isoformat(),
                            rule="thesis",
                            severity=("info", "warning", "critical")[done % 3],
                            title=item.title,
                            message=f"{stance.stance} {stance.thesis}",
                            url=item.url,
                            tickers=tuple(t.ticker for t in tags.tickers),
                            thesis=stance.thesis,
                            stance=stance.stance,
                            item_ids=(item.id,),
                        )
                    )
            if len(alerts) >= 500:
                store.save_alerts(alerts)
                alerts = []
            done += len(chunk)
            if done % 100_000 < batch:
                rate = done / (time.perf_counter() - started)
                print(f"  generated {done:>9,} entries ({rate:,.0f}/s)", flush=True)
        store.save_alerts(alerts)
    return gen.END


async def measure(db: Path, now: datetime, repeat: int) -> dict[str, object]:
    """Runs in the child process: open read-only, paint, filter, search."""
    from textual import events

    from thesiswatch.store import Store
    from thesiswatch.tui.app import ThesisWatchApp
    from thesiswatch.tui.screens.main import MainScreen
    from thesiswatch.watchlists import load_watchlist

    ready_at: list[float] = []

    class BenchApp(ThesisWatchApp):
        def on_ready(self, event: events.Ready) -> None:
            ready_at.append(time.perf_counter())

    store = Store.open(db, readonly=True)
    app = BenchApp(None, store=store, watchlist=load_watchlist(None), clock=lambda: now)
    results: dict[str, object] = {}
    async with app.run_test(size=SIZE) as pilot:
        while not ready_at:
            await pilot.pause(0.005)
        results["first_paint_s"] = ready_at[0] - PROCESS_START
        screen = app.screen
        assert isinstance(screen, MainScreen)

        async def timed(action: Callable[[], object]) -> float:
            start = time.perf_counter()
            action()
            await pilot.pause()  # let the next frame render
            return (time.perf_counter() - start) * 1000

        ticker_ms: list[float] = []
        search_ms: list[float] = []
        thesis_ms: list[float] = []
        clear_ms: list[float] = []
        reload_ms: list[float] = []
        return_ms: list[float] = []
        for n in range(repeat):
            ticker_ms.append(await timed(partial(screen.set_ticker, TICKERS[n % len(TICKERS)])))
            clear_ms.append(await timed(screen.action_clear_filters))
            thesis_ms.append(await timed(partial(screen.set_thesis, THESES[n % len(THESES)])))
            await timed(screen.action_clear_filters)
            search_ms.append(await timed(partial(screen.set_search, SEARCHES[n % len(SEARCHES)])))
            await timed(screen.action_clear_filters)
            reload_ms.append(await timed(app.data_changed))
            # return from a sub-screen after new data arrived while it was on top: the main
            # screen re-reads (it is stale) and repaints
            app.action_sources()
            await pilot.pause()
            app.data_changed()
            await pilot.pause()
            return_ms.append(await timed(app.pop_screen))
            assert app.screen is screen
        results["ticker_filter_ms"] = statistics.median(ticker_ms)
        results["ticker_filter_max_ms"] = max(ticker_ms)
        results["thesis_filter_ms"] = statistics.median(thesis_ms)
        results["search_ms"] = statistics.median(search_ms)
        results["search_max_ms"] = max(search_ms)
        results["clear_filters_ms"] = statistics.median(clear_ms)
        results["new_data_reload_ms"] = statistics.median(reload_ms)
        results["return_ms"] = statistics.median(return_ms)
        results["return_max_ms"] = max(return_ms)
        results["items_total"] = store.stats(now).items_total
    store.close()
    results["snownlp_imported"] = "snownlp" in sys.modules
    return results


async def measure_baseline() -> dict[str, object]:
    """Runs in a child process: a bare Textual app (one Static) to its first paint, for scale."""
    from textual import events
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    ready_at: list[float] = []

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("baseline")
            yield Footer()

        def on_ready(self, event: events.Ready) -> None:
            ready_at.append(time.perf_counter())

    async with Bare().run_test(size=SIZE) as pilot:
        while not ready_at:
            await pilot.pause(0.005)
    return {"first_paint_s": ready_at[0] - PROCESS_START}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--reuse", action="store_true", help="skip generating if --db exists")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.baseline:
        print(json.dumps(asyncio.run(measure_baseline())))
        return 0
    if args.child:
        now = datetime.fromisoformat(args.now)
        print(json.dumps(asyncio.run(measure(args.db, now, args.repeat))))
        return 0

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="tw-bench-tui-")
        args.db = Path(tmp.name) / "bench.db"
    if not (args.reuse and args.db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        print(f"generating {args.items:,} entries into {args.db}")
        build_database(args.db, args.items, args.batch)
    else:
        from thesiswatch.store import Store

        Store.open(args.db).close()  # upgrades a file from an older schema, as the daemon would
    now = _bench_store_module().END + timedelta(hours=1)

    started = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "--db",
            str(args.db),
            "--now",
            now.isoformat(),
            "--repeat",
            str(args.repeat),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - started
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return 1
    r = json.loads(child.stdout.strip().splitlines()[-1])
    bare = subprocess.run(
        [sys.executable, __file__, "--baseline"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    baseline = (
        json.loads(bare.stdout.strip().splitlines()[-1])["first_paint_s"]
        if bare.returncode == 0
        else None
    )
    print(f"database: {r['items_total']:,} items ({args.db})")
    print(
        f"  {r['first_paint_s'] * 1000:8.0f} ms  launch -> first full paint, attach mode (target <= 1500 ms)"
    )
    print(
        f"  {r['ticker_filter_ms']:8.1f} ms  ticker filter, median (max {r['ticker_filter_max_ms']:.1f}) (target <= 150 ms)"
    )
    print(
        f"  {r['search_ms']:8.1f} ms  full-text search, median (max {r['search_max_ms']:.1f}) (target <= 150 ms)"
    )
    if baseline is not None:
        print(
            f"  {baseline * 1000:8.0f} ms  a bare Textual app (one Static) to first paint, same machine "
            f"(ours = {r['first_paint_s'] / baseline:.1f}x that)"
        )
    print(f"  {r['thesis_filter_ms']:8.1f} ms  thesis filter, median")
    print(f"  {r['clear_filters_ms']:8.1f} ms  clear filters, median")
    print(
        f"  {r['new_data_reload_ms']:8.1f} ms  full re-read after new data (board + lists + status), median"
    )
    print(
        f"  {r['return_ms']:8.1f} ms  return from a sub-screen after new data (re-read + repaint), "
        f"median (max {r['return_max_ms']:.1f}) (target <= 150 ms)"
    )
    print(f"  snownlp imported: {r['snownlp_imported']} (must be False)")
    print(f"  child process wall time (incl. {args.repeat} rounds of filters): {wall:.1f} s")
    if tmp is not None and not args.keep:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
