"""Benchmark the store at scale: ingest generated items, then time the queries people run.

    python bench/store.py                      # 1,000,000 items into a temporary file
    python bench/store.py --items 100000 --db /tmp/tw-bench.db --keep

Generates realistic items (Chinese and English headlines and summaries naming the covered
companies, 1-3 tickers, thesis stances, sentiment with evidence, ~60 sources, 12% of entries
the same story carried again by another source, published over three years, stored in time
order in batches as the daemon does) and prints:

- insert throughput (entries/s through ``Store.save_items``, batches of ``--batch``),
- file size per item, with and without the two full-text indexes (``dbstat``),
- the median latency (``--repeat`` runs, varied arguments) of what the TUI and an analyst
  run, against the targets of issue 6 (<= 50 ms, full-text <= 100 ms).

Figures are ratios of this machine; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from thesiswatch.feeds.models import Item, Source
from thesiswatch.signals.models import Sentiment, Tags, ThesisStance, TickerMention
from thesiswatch.store import BULK, Store

END = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)

# ticker -> (Chinese name, English name, weight)
COMPANIES: dict[str, tuple[str, str, float]] = {
    "DEEPSEEK": ("深度求索", "DeepSeek", 10),
    "NVDA.US": ("英伟达", "Nvidia", 9),
    "2330.TT": ("台积电", "TSMC", 6),
    "AMD.US": ("超威半导体", "AMD", 4),
    "AAPL.US": ("苹果", "Apple", 5),
    "1810.HK": ("小米", "Xiaomi", 6),
    "285.HK": ("比亚迪电子", "BYD Electronic", 2),
    "300433.CH": ("蓝思科技", "Lens Technology", 1.5),
    "002475.CH": ("立讯精密", "Luxshare", 2),
    "NIO.US": ("蔚来", "NIO", 3),
    "XPEV.US": ("小鹏汽车", "XPeng", 3),
    "LI.US": ("理想汽车", "Li Auto", 3),
    "9863.HK": ("零跑汽车", "Leapmotor", 1.5),
    "1211.HK": ("比亚迪", "BYD", 5),
    "HSAI.US": ("禾赛科技", "Hesai", 1.5),
    "2498.HK": ("速腾聚创", "RoboSense", 1),
    "MBLY.US": ("Mobileye", "Mobileye", 1.5),
    "981.HK": ("中芯国际", "SMIC", 4),
    "1347.HK": ("华虹半导体", "Hua Hong", 2),
    "605111.CH": ("新洁能", "NCE Power", 0.8),
    "300373.CH": ("扬杰科技", "Yangjie", 0.8),
    "688396.CH": ("华润微", "CR Micro", 0.8),
}
TICKERS = list(COMPANIES)
WEIGHTS = [c[2] for c in COMPANIES.values()]
THESES = ("compute", "edge", "localization", "risk")

ZH_EVENTS = [
    "发布新一代大模型",
    "股价大跌",
    "股价大涨",
    "获得大额订单",
    "季度营收超预期",
    "业绩不及预期",
    "扩产先进制程",
    "遭遇出口管制",
    "推出端侧AI芯片",
    "交付量创新高",
    "下调全年指引",
    "与国产芯片厂商合作",
    "算力需求激增",
    "开源推理模型",
    "上调目标价",
    "面临价格战",
    "智能驾驶方案落地",
    "车载激光雷达出货",
    "国产替代加速",
    "遭美国制裁",
]
ZH_FILL = [
    "分析师认为",
    "市场人士表示",
    "据知情人士透露",
    "公司公告显示",
    "业内预计",
    "机构调研显示",
    "供应链消息称",
    "最新数据显示",
]
ZH_TAIL = [
    "未来一年需求仍将保持强劲。",
    "短期内或对利润率构成压力。",
    "国产化率有望进一步提升。",
    "估值已反映大部分利好。",
    "投资者情绪明显转弱。",
    "资本开支计划维持不变。",
    "芯片供应紧张局面有所缓解。",
    "手机和汽车业务协同效应显现。",
]
EN_EVENTS = [
    "unveils new AI model",
    "shares plunge",
    "shares surge",
    "wins major order",
    "beats quarterly revenue estimates",
    "misses earnings forecasts",
    "expands advanced node capacity",
    "hit by new export controls",
    "launches edge AI chip",
    "deliveries hit record",
    "cuts full-year guidance",
    "partners with domestic chipmakers",
    "sees compute demand boom",
    "open-sources reasoning model",
    "gets price target raise",
    "faces price war",
    "rolls out driver assistance",
    "ships more lidar units",
    "accelerates localization",
    "faces US sanctions",
]
EN_FILL = [
    "Analysts said",
    "People familiar with the matter said",
    "A filing showed",
    "Industry watchers expect",
    "Supply chain checks suggest",
    "The latest data show",
]
EN_TAIL = [
    "demand should stay strong over the next year.",
    "margins may come under pressure.",
    "the valuation already prices in most of the upside.",
    "investor sentiment weakened.",
    "capital spending plans are unchanged.",
    "chip supply constraints are easing.",
    "export controls remain the key risk for the sector.",
]
POS_WORDS = ["超预期", "大涨", "record", "beats", "surge", "强劲"]
NEG_WORDS = ["大跌", "制裁", "plunge", "misses", "cuts", "价格战"]


def _digest(*parts: object) -> str:
    return "u" + hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def make_sources(count: int = 60) -> list[Source]:
    return [
        Source(
            name=f"{'新闻源' if n % 2 else 'Newswire'} {n}",
            url=f"https://feeds{n}.example.com/rss?q=ai&lang={'zh' if n % 2 else 'en'}",
            lang="zh" if n % 2 else "en",
        )
        for n in range(count)
    ]


def generate(
    count: int, *, sources: list[Source], seed: int = 7, end: datetime = END, span: timedelta = SPAN
) -> Iterator[tuple[Item, Tags]]:
    """``count`` entries in time order; ~12% repeat a recent story from another source."""
    rng = random.Random(seed)
    start = end - span
    step = span / count
    recent: list[tuple[Item, Tags]] = []
    for n in range(count):
        fetched = start + step * n + timedelta(seconds=rng.random() * step.total_seconds())
        fetched = fetched.replace(microsecond=0)
        source = sources[rng.randrange(len(sources))]
        if recent and rng.random() < 0.12:
            old, tags = recent[rng.randrange(len(recent))]
            yield (
                Item(
                    id=old.id,
                    source_id=source.id,
                    title=old.title,
                    summary=old.summary,
                    url=old.url,
                    published=old.published,
                    fetched=fetched,
                ),
                tags,
            )
            continue
        zh = source.lang == "zh" if rng.random() < 0.9 else source.lang != "zh"
        k = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
        tickers = list(dict.fromkeys(rng.choices(TICKERS, WEIGHTS, k=k)))
        names = [COMPANIES[t][0 if zh else 1] for t in tickers]
        event = rng.randrange(len(ZH_EVENTS))
        if zh:
            title = f"{'、'.join(names)}{ZH_EVENTS[event]}，{rng.randint(2, 99)}%"
            summary = (
                f"{rng.choice(ZH_FILL)}，{names[0]}{ZH_EVENTS[rng.randrange(len(ZH_EVENTS))]}。"
                f"{rng.choice(ZH_TAIL)}{rng.choice(ZH_FILL)}，{rng.choice(ZH_TAIL)}"
            )
        else:
            title = f"{' and '.join(names)} {EN_EVENTS[event]}, up {rng.randint(2, 99)}%"
            summary = (
                f"{rng.choice(EN_FILL)} {names[0]} {rng.choice(EN_EVENTS)}. "
                f"{rng.choice(EN_FILL)} {rng.choice(EN_TAIL)} {rng.choice(EN_TAIL)}"
            )
        if rng.random() < 0.3:
            summary = ""  # aggregators often carry no summary
        published = None if rng.random() < 0.1 else fetched - timedelta(seconds=rng.randrange(7200))
        item_id = _digest(source.id, n)
        item = Item(
            id=item_id,
            source_id=source.id,
            title=title,
            summary=summary,
            url=f"https://news{rng.randrange(200)}.example.com/{fetched:%Y/%m/%d}/{item_id[1:13]}",
            published=published,
            fetched=fetched,
        )
        score = max(-1.0, min(1.0, rng.gauss(0.0, 0.45)))
        label = "pos" if score > 0.15 else "neg" if score < -0.15 else "neu"
        theses = tuple(
            ThesisStance(
                thesis=t,
                stance=rng.choice(("support", "challenge")),
                strength=round(rng.random(), 2),
                evidence=(ZH_EVENTS[event][:4],),
            )
            for t in rng.sample(THESES, k=rng.choice((0, 1, 1, 1, 2)))
        )
        tags = Tags(
            lang="zh" if zh else "en",
            tickers=tuple(
                TickerMention(ticker=t, spans=((i * 4, i * 4 + len(nm)),), matched=(nm,))
                for i, (t, nm) in enumerate(zip(tickers, names, strict=True))
            ),
            theses=theses,
            sentiment=Sentiment(
                label=label,
                score=round(score, 3),  # type: ignore[arg-type]
                evidence=(rng.choice(POS_WORDS if score > 0 else NEG_WORDS),),
                scorer="lexicon",
                version="1.0",
            ),
        )
        recent.append((item, tags))
        if len(recent) > 500:
            recent.pop(0)
        yield item, tags


def batches(it: Iterator[tuple[Item, Tags]], size: int) -> Iterator[list[tuple[Item, Tags]]]:
    batch: list[tuple[Item, Tags]] = []
    for pair in it:
        batch.append(pair)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def median_ms(fn: Callable[[int], object], repeat: int) -> float:
    fn(0)  # warm the cache once, as a running TUI would be
    times = []
    for n in range(repeat):
        start = time.perf_counter()
        fn(n)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--reuse", action="store_true", help="skip ingest if --db exists")
    args = parser.parse_args(argv)

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="tw-bench-")
        args.db = Path(tmp.name) / "bench.db"
    elif args.db.exists() and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)

    store = Store.open(args.db, tuning=BULK)
    sources = make_sources()
    store.sync_sources(sources)
    if not (args.reuse and store.stats(END).items_total):
        print(f"ingesting {args.items:,} entries in batches of {args.batch:,} into {args.db}")
        spent = cpu = 0.0
        entries = 0
        report_at = 100_000
        for batch in batches(generate(args.items, sources=sources), args.batch):
            start, start_cpu = time.perf_counter(), time.process_time()
            store.save_items(batch)
            spent += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            entries += len(batch)
            if entries >= report_at:
                print(
                    f"  {entries:>9,} entries  {entries / spent:>9,.0f} entries/s (cumulative)",
                    flush=True,
                )
                report_at += 100_000
        print(
            f"insert: {entries:,} entries in {spent:.1f} s = {entries / spent:,.0f} entries/s "
            f"wall, {entries / cpu:,.0f} entries/s of process CPU time (target >= 20,000)"
        )
    stats = store.stats(END)
    items = stats.items_total
    _, rows = store.query("SELECT name LIKE 'items_fts%', sum(pgsize) FROM dbstat GROUP BY 1")
    sizes = {bool(k): v for k, v in rows}
    total = sum(sizes.values())
    print(
        f"items stored: {items:,} (distinct stories); links: "
        f"{store.query('SELECT count(*) FROM item_sources')[1][0][0]:,}"
    )
    print(
        f"size: {total / 1e6:,.0f} MB = {total / items:,.0f} bytes/item; without the full-text "
        f"indexes {sizes.get(False, 0) / items:,.0f} bytes/item (target <= 2,048); "
        f"full-text {sizes.get(True, 0) / items:,.0f} bytes/item"
    )

    now = END
    tickers = ["NVDA.US", "1810.HK", "981.HK", "NIO.US", "688396.CH"]
    checks: list[tuple[str, float, Callable[[int], object]]] = [
        (
            "latest 100 for a ticker (items(ticker=))",
            50,
            lambda n: store.items(ticker=tickers[n % len(tickers)], limit=100),
        ),
        (
            "thesis evidence, 30 days (items(thesis=, since=))",
            50,
            lambda n: store.items(thesis=THESES[n % 4], since=now - timedelta(days=30), limit=100),
        ),
        (
            "thesis evidence per day, 30 days (SQL on the view)",
            50,
            lambda n: store.query(
                "SELECT day, support, challenge, net FROM thesis_evidence_daily "
                "WHERE thesis = ? AND day >= ? ORDER BY day",
                (THESES[n % 4], "2025-12-02"),
            ),
        ),
        ("thesis board (thesis_summary)", 50, lambda n: store.thesis_summary(now)),
        (
            "FTS Chinese 2 chars (search='小米')",
            100,
            lambda n: store.items(search="小米", limit=100),
        ),
        (
            "FTS Chinese 4 chars (search='中芯国际')",
            100,
            lambda n: store.items(search="中芯国际", limit=100),
        ),
        (
            "FTS Chinese rare phrase (search='季度营收超预期')",
            100,
            lambda n: store.items(search="季度营收超预期", limit=100),
        ),
        (
            "FTS English (search='export controls')",
            100,
            lambda n: store.items(search="export controls", limit=100),
        ),
        ("FTS English (search='Nvidia')", 100, lambda n: store.items(search="Nvidia", limit=100)),
        (
            "FTS + ticker (search='price war', ticker=NIO.US)",
            100,
            lambda n: store.items(search="price war", ticker="NIO.US", limit=100),
        ),
        (
            "daily sentiment, one ticker, 1 year (ticker_daily_sentiment)",
            50,
            lambda n: store.ticker_daily_sentiment(tickers[n % len(tickers)], days=365, now=now),
        ),
        (
            "daily sentiment, one ticker, 1 year (raw join, bypassing the aggregate; informational)",
            50,
            lambda n: store.query(
                "SELECT substr(t.ts, 1, 10) AS day, avg(i.score), count(*) FROM item_tickers AS t "
                "JOIN items AS i ON i.key = t.item_key WHERE t.ticker = ? AND t.ts >= ? "
                "GROUP BY day",
                (tickers[n % len(tickers)], "2025-01-01"),
            ),
        ),
        (
            "mentions per hour, 48 h (ticker_mentions)",
            50,
            lambda n: store.ticker_mentions(
                tickers[n % len(tickers)], since=now - timedelta(days=2)
            ),
        ),
        ("status bar (stats)", 50, lambda n: store.stats(now)),
        ("latest 100, no filter (items())", 50, lambda n: store.items(limit=100)),
    ]
    print(f"median latency over {args.repeat} runs:")
    for name, target, fn in checks:
        ms = median_ms(fn, args.repeat)
        mark = "ok" if ms <= target else "OVER"
        print(f"  {ms:8.1f} ms  (<= {target:>3.0f} ms {mark:>4})  {name}")
    store.close()
    if tmp is not None and not args.keep:
        tmp.cleanup()
    elif args.keep or args.db:
        print(f"database kept at {args.db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
