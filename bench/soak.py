"""Soak: the real daemon for N minutes over 200 loopback sources; resident memory every minute.

    python bench/soak.py [--minutes 30] [--sources 200] [--warmup 5] [--daemon-log PATH] [--keep DIR]

Runs ``python -m thesiswatch --config CFG --db DB daemon`` as a subprocess against feeds served
by this script on loopback addresses 127.0.0.2 .. 127.0.0.21 (one small HTTP server per
address, so the fetcher's per-host spacing of 0.25 s does not serialise 200 sources behind one
host). Every source has a 60 s interval. Each feed starts with a few items and gains a new one
every 2-5 minutes: Chinese or English headlines naming covered companies (英伟达, 台积电, 小米,
NVIDIA, TSMC, ...) with varied numbers; about a third of new items repeat a recent story in the
other language or from another outlet, so clustering has work to do. One source per host
(10 %) fails: HTTP 500, a stall longer than the fetch timeout, or an HTML page instead of a feed.

Every minute it prints the daemon's VmRSS and VmHWM (from /proc/PID/status), its threads and
open file descriptors, items stored and alerts written so far. At the end: RSS after warm-up,
final RSS, growth after warm-up (MB, % and a least-squares slope), and steady RSS as a ratio of
what ``import snownlp`` alone costs (VmHWM of a fresh ``python -c "import snownlp"``, measured
in the same run), against issue 7's targets. The daemon is stopped with SIGTERM and its exit
code reported. Nothing leaves the machine; every loop is bounded by ``--minutes``.
"""

from __future__ import annotations

import argparse
import collections
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
HOSTS = [f"127.0.0.{n}" for n in range(2, 22)]
INTERVAL = 60
FEED_KEEP = 25  # items a feed keeps (older ones fall off, as on real feeds)
TARGET_RATIO = 1.2

# (name_zh, name_en, is_car_maker)
COMPANIES = [
    ("英伟达", "NVIDIA", False),
    ("台积电", "TSMC", False),
    ("小米", "Xiaomi", False),
    ("小米集团", "Xiaomi", False),
    ("比亚迪", "BYD", True),
    ("中芯国际", "SMIC", False),
    ("华虹半导体", "Hua Hong Semiconductor", False),
    ("蔚来", "NIO", True),
    ("小鹏汽车", "XPeng", True),
    ("理想汽车", "Li Auto", True),
    ("零跑汽车", "Leapmotor", True),
    ("禾赛科技", "Hesai", False),
    ("立讯精密", "Luxshare Precision", False),
    ("苹果", "Apple", False),
    ("超威半导体", "AMD", False),
]
UP_REASONS = [
    ("AI芯片需求强劲", "AI chip demand stays strong"),
    ("数据中心订单超预期", "data-centre orders beat forecasts"),
    ("获多家机构增持", "funds add to their holdings"),
    ("新品发布会反响热烈", "its product launch draws strong demand"),
]
DOWN_REASONS = [
    ("市场担忧需求放缓", "investors fear slowing demand"),
    ("毛利率不及预期", "margins miss forecasts"),
    ("大股东减持", "a major holder trims its stake"),
    ("供应链传出砍单消息", "reports of order cuts hit the supply chain"),
]
TEMPLATES = [
    ("{zh}股价大涨{n}%，{ur_zh}", "{en} shares jump {n}% as {ur_en}"),
    ("{zh}股价下跌{n}%，{dr_zh}", "{en} shares fall {n}% as {dr_en}"),
    ("{zh}第{q}季度营收{b}亿美元，同比增长{n}%，好于预期",
     "{en} Q{q} revenue rises {n}% to ${b} billion, beating estimates"),
    ("美国拟收紧芯片出口管制，{zh}盘中跌逾{n}%", "US weighs tighter chip export curbs; {en} slides {n}%"),
    ("DeepSeek发布新模型，{zh}涨超{n}%", "{en} gains {n}% after DeepSeek releases a new model"),
    ("{zh}斩获{b}亿元大单", "{en} wins {b} billion yuan order"),
    ("分析师上调{zh}目标价至{p}元，维持买入评级", "Analysts raise {en} price target to {p}, reiterate buy"),
    ("{zh}下调全年指引，股价跌逾{n}%", "{en} cuts full-year outlook, shares drop {n}%"),
]  # fmt: skip
CAR_TEMPLATES = [
    (
        "{zh}{m}月交付{k}辆，同比增长{n}%",
        "{en} delivers {k} vehicles in {month}, up {n}% year on year",
    ),
    ("{zh}{m}月交付{k}辆，环比下滑{n}%", "{en} {month} deliveries fall {n}% to {k} vehicles"),
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<h1>Checking your browser before accessing the site.</h1></body></html>"
)


@dataclass(frozen=True)
class Story:
    n: int
    zh: str
    en: str
    born: float  # monotonic


@dataclass
class Feed:
    index: int
    lang: str  # zh | en
    atom: bool
    failure: str | None  # None | "500" | "stall" | "html"
    next_add: float = 0.0
    items: list[tuple[Story, datetime]] = field(default_factory=list)
    served: set[int] = field(default_factory=set)


class World:
    """All feeds and the story stream behind them; thread-safe."""

    def __init__(self, n_sources: int, rng: random.Random) -> None:
        self.rng = rng
        self.lock = threading.Lock()
        self.stories: list[Story] = []
        self.published = 0  # items added to feeds after the start
        self.requests: collections.Counter[str] = collections.Counter()
        self.stopping = threading.Event()
        self.feeds: list[Feed] = []
        kinds = ["500", "stall", "html"]
        for i in range(n_sources):
            host, slot = i % len(HOSTS), i // len(HOSTS)
            failure = kinds[host % 3] if slot == host % 10 else None  # one per host, ~10 %
            self.feeds.append(
                Feed(index=i, lang="zh" if i % 2 == 0 else "en", atom=i % 4 == 1, failure=failure)
            )
        now, wall = time.monotonic(), datetime.now(UTC)
        for feed in self.feeds:
            age = rng.uniform(0, 180)  # the backlog has the trickle's own pace (2-5 min apart)
            backlog = []
            for _ in range(8):
                backlog.append((self._new_story(now), wall - timedelta(seconds=age)))
                age += rng.uniform(120, 300)
            feed.items.extend(reversed(backlog))
            feed.next_add = now + rng.uniform(30, 300)

    def url(self, feed: Feed, ports: dict[str, int]) -> str:
        host = HOSTS[feed.index % len(HOSTS)]
        return f"http://{host}:{ports[host]}/feed/{feed.index}.xml"

    def _new_story(self, now: float) -> Story:
        r = self.rng
        zh, en, car = r.choice(COMPANIES)
        pair = r.choice(TEMPLATES + (CAR_TEMPLATES if car else []))
        ur, dr, m = r.choice(UP_REASONS), r.choice(DOWN_REASONS), r.randint(1, 12)
        values = dict(
            zh=zh, en=en, n=f"{r.uniform(0.8, 19.5):.1f}", q=r.randint(1, 4), b=r.randint(12, 980),
            p=r.randint(40, 1400), k=f"{r.randint(8000, 62000):,}", m=m, month=MONTHS[m - 1],
            ur_zh=ur[0], ur_en=ur[1], dr_zh=dr[0], dr_en=dr[1],
        )  # fmt: skip
        story = Story(len(self.stories), pair[0].format(**values), pair[1].format(**values), now)
        self.stories.append(story)
        return story

    def _advance(self, feed: Feed, now: float) -> None:
        """Add the items that came due since the last request (a feed trickles on its own clock)."""
        while feed.next_add <= now:
            recent = [
                s
                for s in self.stories[-400:]
                if now - s.born < 900 and s.n not in {x.n for x, _ in feed.items}
            ]
            story = (
                self.rng.choice(recent)
                if recent and self.rng.random() < 0.35
                else self._new_story(now)
            )
            at = datetime.now(UTC) - timedelta(seconds=now - feed.next_add)
            feed.items.append((story, at))
            del feed.items[:-FEED_KEEP]
            self.published += 1
            feed.next_add += self.rng.uniform(120, 300)

    def render(self, index: int) -> tuple[bytes, str, str]:
        with self.lock:
            feed = self.feeds[index]
            self._advance(feed, time.monotonic())
            items = list(reversed(feed.items))
        etag = f'"{index}-{items[0][0].n}-{len(items)}"'
        if feed.atom:
            entries = "".join(
                f"<entry><title>{escape(self._title(feed, s))}</title>"
                f'<link href="http://news.example.test/{index}/{s.n}"/><id>tag:bench,{index}:{s.n}</id>'
                f"<updated>{at.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
                f"<summary>{escape(self._summary(feed, s))}</summary></entry>"
                for s, at in items
            )
            body = (
                '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>soak feed {index}</title><id>tag:bench,{index}</id>"
                f"<updated>{items[0][1].strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>{entries}</feed>"
            )
            return body.encode(), "application/atom+xml; charset=utf-8", etag
        entries = "".join(
            f"<item><title>{escape(self._title(feed, s))}</title>"
            f"<link>http://news.example.test/{index}/{s.n}</link><guid>soak-{index}-{s.n}</guid>"
            f"<pubDate>{format_datetime(at)}</pubDate>"
            f"<description>{escape(self._summary(feed, s))}</description></item>"
            for s, at in items
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>soak feed {index}</title><link>http://news.example.test/{index}</link>{entries}"
            "</channel></rss>"
        )
        return body.encode(), "application/rss+xml; charset=utf-8", etag

    @staticmethod
    def _title(feed: Feed, s: Story) -> str:
        return s.zh if feed.lang == "zh" else s.en

    @staticmethod
    def _summary(feed: Feed, s: Story) -> str:
        if feed.lang == "zh":
            return f"<p>据市场消息，{s.zh}。分析人士称，后续走势仍需观察。</p>"
        return f"<p>{s.en}, according to people familiar with the matter. Analysts are watching closely.</p>"


def serve(world: World, stall: float) -> tuple[list[ThreadingHTTPServer], dict[str, int]]:
    path_re = re.compile(r"^/feed/(\d+)\.xml$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            m = path_re.match(self.path)
            if not m or int(m.group(1)) >= len(world.feeds):
                self._send(404, b"not found", "text/plain")
                return
            feed = world.feeds[int(m.group(1))]
            with world.lock:
                world.requests[feed.failure or "feed"] += 1
            if feed.failure == "500":
                self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
                return
            if feed.failure == "html":
                self._send(200, HTML_PAGE, "text/html; charset=utf-8")
                return
            if feed.failure == "stall":
                world.stopping.wait(stall)  # longer than the daemon's fetch timeout
            body, ctype, etag = world.render(feed.index)
            if self.headers.get("If-None-Match") == etag:
                with world.lock:
                    world.requests["304"] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(200, body, ctype, etag)

        def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (the stalled sources)
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    servers, ports = [], {}
    for host in HOSTS:
        httpd = ThreadingHTTPServer((host, 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        ).start()
        servers.append(httpd)
        ports[host] = int(httpd.server_address[1])
    return servers, ports


STORY_BYTES = 740  # what signals.cluster keeps per story (tracemalloc, 20k generated titles)
_STORIES = re.compile(rb"cycle\.done .*\bstories=(\d+)")


def last_stories(log_path: Path) -> int:
    """The clusterer's window size from the daemon's last ``cycle.done`` log line."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 65536))
            found = _STORIES.findall(f.read())
    except OSError:
        return 0
    return int(found[-1]) if found else 0


def disk_writes(pid: int) -> int | None:
    """Bytes the process caused to be written to storage so far (``/proc/PID/io``)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def kb_to_mb(value: str | None) -> float:
    return int(value.split()[0]) / 1024 if value else float("nan")


def snownlp_alone() -> tuple[float, float]:
    """(VmHWM, VmRSS) in MB of a fresh interpreter that only does ``import snownlp``."""
    code = "import snownlp; print(open('/proc/self/status').read())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    status = {k: v.strip() for k, _, v in (line.partition(":") for line in out.stdout.splitlines())}
    return kb_to_mb(status.get("VmHWM")), kb_to_mb(status.get("VmRSS"))


def store_counts(db: Path) -> tuple[int | None, int | None]:
    """(items stored, alerts stored) read through the store's read-only mode."""
    from thesiswatch.errors import ThesiswatchError
    from thesiswatch.store import Store

    try:
        with Store.open(db, readonly=True) as store:
            stats = store.stats(datetime.now(UTC))
            return stats.items_total, stats.alerts_today
    except (ThesiswatchError, OSError):
        return None, None


def count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return float("nan")
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else float("nan")


LOG_LINE = re.compile(r"^\S+ (WARNING|ERROR|CRITICAL) (\S+)(.*)$")


def summarise_log(path: Path) -> list[str]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    other = 0
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ["  (no daemon log)"]
    for line in lines:
        m = LOG_LINE.match(line)
        if m:
            counts[(m.group(1), m.group(2))] += 1
            em = re.search(r'error=("(?:[^"\\]|\\.)*"|\S+)', m.group(3))
            if em:
                errors[re.sub(r"\d+(\.\d+)?", "N", em.group(1))[:110]] += 1
        elif "Traceback" in line or line.startswith(("Error", "Exception")):
            other += 1
    out = [f"  {n:6d}  {lvl} {name}" for (lvl, name), n in counts.most_common()]
    out += [f"          {n:6d} x error={e}" for e, n in errors.most_common(8)]
    if other:
        out.append(f"  {other:6d}  traceback / unstructured error lines")
    return out or ["  no warnings or errors"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=30, help="how long to run the daemon")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument(
        "--warmup", type=int, default=5, help="minute after which RSS should be flat"
    )
    parser.add_argument(
        "--stall", type=float, default=30.0, help="seconds the stalling sources hang"
    )
    parser.add_argument(
        "--cooldown-minutes",
        type=float,
        help="set every rule's cooldown (default: the daemon's, 30-720 min, so after the first "
        "burst a 30-minute soak raises few alerts; e.g. 1 keeps the alert path busy)",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--daemon-log", type=Path, help="write the daemon's stderr here")
    parser.add_argument("--keep", type=Path, help="keep the database, config and logs here")
    args = parser.parse_args()
    if args.minutes < 1 or args.sources < 1:
        parser.error("--minutes and --sources must be at least 1")
    warmup = min(args.warmup, max(1, args.minutes // 2))

    hwm_snow, rss_snow = snownlp_alone()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tw-soak-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    world = World(args.sources, rng)
    servers, ports = serve(world, args.stall)
    db, alerts, config = work / "soak.db", work / "alerts.jsonl", work / "soak.toml"
    blocks = [
        f'[[sources]]\nname = "soak {f.index:03d} {f.lang}{" " + f.failure if f.failure else ""}"\n'
        f'url = "{world.url(f, ports)}"\ninterval = {INTERVAL}\nlang = "{f.lang}"\n'
        for f in world.feeds
    ]
    rules = ""
    if args.cooldown_minutes is not None:
        names = ("event", "thesis", "risk", "keyword", "spike", "drift")
        rules = "[rules.cooldown_minutes]\n" + "".join(
            f"{n} = {args.cooldown_minutes}\n" for n in names
        )
    config.write_text(
        f"[fetch]\ndefault_interval = {INTERVAL}\n\n{rules}\n" + "\n".join(blocks), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
    env.update(
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        PYTHONPATH=str(ROOT),
    )
    log_path = args.daemon_log or work / "daemon.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "thesiswatch", "--config", str(config), "--db", str(db),
           "daemon", "--alerts-jsonl", str(alerts)]  # fmt: skip
    failing = collections.Counter(f.failure for f in world.feeds if f.failure)
    print(
        f"soak: {args.minutes} min, {args.sources} loopback sources on {len(HOSTS)} addresses "
        f"({HOSTS[0]}..{HOSTS[-1]}), interval {INTERVAL} s, failing: "
        + ", ".join(f"{n} {k}" for k, n in sorted(failing.items()))
        + (
            ""
            if args.cooldown_minutes is None
            else f"; rule cooldowns {args.cooldown_minutes:g} min"
        )
    )
    print(
        f"snownlp alone (fresh `python -c 'import snownlp'`): VmHWM {hwm_snow:.1f} MB, VmRSS {rss_snow:.1f} MB"
    )
    print(f"daemon: {' '.join(cmd[1:])}")
    print(f"daemon log: {log_path}")
    print(f"{'min':>4} {'RSS MB':>8} {'anon':>6} {'file':>6} {'HWM MB':>8} {'thr':>4} {'fds':>4} "
          f"{'items':>7} {'stories':>7} {'alerts':>7} {'jsonl':>6} {'published':>9} "
          f"{'requests (feed/304/500/stall/html)':>36} {'WAL MB':>6} {'disk MB/min':>11}", flush=True)  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    samples: list[tuple[int, float, float]] = []
    anon_samples: list[tuple[int, float, int]] = []  # minute, RssAnon MB, clusterer stories
    write_rates: list[float] = []  # MB the daemon wrote to disk per minute, after warm-up
    last_written = 0
    stop_secs = float("nan")
    try:
        for minute in range(1, args.minutes + 1):
            while time.monotonic() < started + 60 * minute and proc.poll() is None:
                time.sleep(0.5)
            if proc.poll() is not None:
                print(f"the daemon exited early with code {proc.returncode}; see {log_path}")
                break
            st = proc_status(proc.pid)
            rss, hwm = kb_to_mb(st.get("VmRSS")), kb_to_mb(st.get("VmHWM"))
            anon, mapped = kb_to_mb(st.get("RssAnon")), kb_to_mb(st.get("RssFile"))
            stories = last_stories(log_path)
            wal = Path(f"{db}-wal")
            wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
            written = disk_writes(proc.pid)
            per_minute = (written - last_written) / 1e6 if written is not None else float("nan")
            if written is not None:
                last_written = written
                if minute >= warmup:
                    write_rates.append(per_minute)
            try:
                fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
            except OSError:
                fds = -1
            items, stored_alerts = store_counts(db)
            with world.lock:
                req = dict(world.requests)
                published = world.published
            reqs = "/".join(str(req.get(k, 0)) for k in ("feed", "304", "500", "stall", "html"))
            samples.append((minute, rss, hwm))
            anon_samples.append((minute, anon, stories))
            print(
                f"{minute:4d} {rss:8.1f} {anon:6.1f} {mapped:6.1f} {hwm:8.1f} "
                f"{st.get('Threads', '?'):>4} {fds:4d} "
                f"{items if items is not None else '?':>7} {stories:7d} "
                f"{stored_alerts if stored_alerts is not None else '?':>7} "
                f"{count_lines(alerts):6d} {published:9d} {reqs:>36} {wal_mb:6.1f} {per_minute:11.1f}",
                flush=True,
            )
    finally:
        world.stopping.set()
        t0 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print("the daemon did not stop within 60 s of SIGTERM; killed")
            proc.kill()
            proc.wait()
        stop_secs = time.monotonic() - t0
        log.close()
        for httpd in servers:
            httpd.shutdown()

    print()
    print(f"daemon exit code after SIGTERM: {proc.returncode} (stopped in {stop_secs:.1f} s)")
    ok = proc.returncode == 0
    if samples:
        final = samples[-1]
        steady = [s for s in samples if s[0] >= warmup]
        warm = steady[0] if steady else final
        growth = final[1] - warm[1]
        rate = slope([(m, r) for m, r, _ in steady])
        peak_after = max(r for _, r, _ in steady) if steady else final[1]
        ratio = peak_after / hwm_snow
        flat = growth <= max(5.0, 0.02 * warm[1])
        print(f"warm-up RSS (minute {warm[0]})  {warm[1]:8.1f} MB")
        print(f"final RSS (minute {final[0]})    {final[1]:8.1f} MB   (VmHWM {final[2]:.1f} MB)")
        print(f"growth after warm-up     {growth:+8.1f} MB   ({100 * growth / warm[1]:+.1f} %), "
              f"slope {rate:+.2f} MB/min over {len(steady)} samples")  # fmt: skip
        print(f"steady RSS (max after warm-up) {peak_after:.1f} MB = {ratio:.2f} x snownlp alone "
              f"({hwm_snow:.1f} MB VmHWM; issue 7 measured ~430 MB)")  # fmt: skip
        anon_steady = [a for a in anon_samples if a[0] >= warmup] or anon_samples[-1:]
        if anon_steady:
            (_, a0, s0), (_, a1, s1) = anon_steady[0], anon_steady[-1]
            window_mb = (s1 - s0) * STORY_BYTES / 1e6
            print(
                f"anonymous memory {a0:.1f} -> {a1:.1f} MB ({a1 - a0:+.1f} MB); the story "
                f"clusterer's 48 h window went {s0} -> {s1} stories (~{window_mb:+.1f} MB at "
                f"{STORY_BYTES} B each, capped at 20,000 stories = "
                f"{20_000 * STORY_BYTES / 1e6:.0f} MB); the rest {a1 - a0 - window_mb:+.1f} MB"
            )
        if write_rates:
            print(
                f"disk writes after warm-up: median {statistics.median(write_rates):.1f} MB/min "
                "(database, WAL and log; /proc/PID/io write_bytes)"
            )
        print(f"target: no growth after warm-up (<= max(5 MB, 2 %)): {'met' if flat else 'missed'}")
        print(
            f"target: steady <= {TARGET_RATIO} x snownlp alone: {'met' if ratio <= TARGET_RATIO else 'missed'}"
        )
        ok = ok and flat and ratio <= TARGET_RATIO and final[0] == args.minutes
    items, stored_alerts = store_counts(db)
    print(f"items stored {items}, alerts stored {stored_alerts}, alert lines in JSONL {count_lines(alerts)}, "
          f"items published by the feeds after start {world.published}")  # fmt: skip
    print("daemon stderr, warnings and errors:")
    for line in summarise_log(log_path):
        print(line)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
