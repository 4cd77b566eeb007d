"""Fixed test data for the TUI: a small watchlist, tagged items and alerts, a fixed clock.

Our own writing, grounded in the report's period (late January 2025). Times are relative to
``NOW`` so the 24 h / 7 d windows and the ages in the lists never change between runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from thesiswatch.feeds.models import FetchOutcome, Item, Source
from thesiswatch.records import Alert
from thesiswatch.signals.models import Event, Sentiment, Tags, ThesisStance, TickerMention
from thesiswatch.signals.watchlist import Company, Thesis, Watchlist
from thesiswatch.store import Store

NOW = datetime(2025, 1, 28, 12, 0, tzinfo=UTC)
HOSTILE_TITLE = "[bold red]x[/] \x1b[31m <script>alert(1)</script> [link=http://evil]click[/link]"


def clock() -> datetime:
    return NOW


WATCHLIST = Watchlist(
    name="Test watchlist: DeepSeek R1",
    description="A small copy of the built-in watchlist for tests.",
    facts=(
        "2025-01-20: DeepSeek releases R1, a 671B-parameter reasoning model.",
        "R1's API costs 1 CNY per million input tokens on a cache hit, 4 on a miss, 16 per million output tokens.",
        "On 27 January NVDA fell 17% and TSM 13%.",
    ),
    theses=(
        Thesis(
            id="compute",
            title="Compute demand",
            title_zh="算力需求",
            statement="Cheaper models widen real demand, so AI chip demand keeps growing.",
            tickers=("2330.TT", "NVDA.US", "AMD.US"),
        ),
        Thesis(
            id="edge",
            title="Edge AI",
            title_zh="端侧AI",
            statement="Cheap models spread AI to phones and cars.",
            tickers=("AAPL.US", "1810.HK", "XPEV.US"),
        ),
        Thesis(
            id="localization",
            title="Localization",
            title_zh="国产替代",
            statement="US controls speed up Chinese substitution in chips.",
            tickers=("981.HK", "1347.HK"),
        ),
        Thesis(
            id="risk",
            title="Risk watch",
            title_zh="风险",
            statement="Weaker demand, chip downturn, tighter sanctions.",
            role="risk",
            tickers=(),
        ),
    ),
    companies=(
        Company(
            id="2330.TT",
            name="TSMC",
            name_zh="台积电",
            listings=("2330.TT", "TSM.US"),
            theses=("compute",),
        ),
        Company(
            id="NVDA.US",
            name="NVIDIA",
            name_zh="英伟达",
            listings=("NVDA.US",),
            theses=("compute",),
        ),
        Company(
            id="AMD.US", name="AMD", name_zh="超威半导体", listings=("AMD.US",), theses=("compute",)
        ),
        Company(
            id="AAPL.US", name="Apple", name_zh="苹果", listings=("AAPL.US",), theses=("edge",)
        ),
        Company(
            id="1810.HK", name="Xiaomi", name_zh="小米集团", listings=("1810.HK",), theses=("edge",)
        ),
        Company(
            id="XPEV.US",
            name="XPeng",
            name_zh="小鹏汽车",
            listings=("XPEV.US", "9868.HK"),
            theses=("edge",),
        ),
        Company(
            id="981.HK",
            name="SMIC",
            name_zh="中芯国际",
            listings=("981.HK", "688981.CH"),
            theses=("localization",),
        ),
        Company(
            id="1347.HK",
            name="Hua Hong",
            name_zh="华虹半导体",
            listings=("1347.HK",),
            theses=("localization",),
        ),
        Company(id="DEEPSEEK", name="DeepSeek", name_zh="深度求索"),
    ),
)

SOURCES = (
    Source(name="Wire EN", url="http://127.0.0.1:9/en.xml", lang="en"),
    Source(name="快讯 ZH", url="http://127.0.0.1:9/zh.xml", lang="zh"),
    Source(name="Broken feed", url="http://127.0.0.1:9/broken.xml"),
)

# (hours ago, source index, lang, title, summary, tickers, {thesis: stance}, label, score, evidence)
_ROWS: list[
    tuple[float, int, str, str, str, tuple[str, ...], dict[str, str], str, float, tuple[str, ...]]
] = [
    (
        1,
        0,
        "en",
        "TSMC adds CoWoS capacity as AI orders stay strong",
        "The foundry plans more advanced packaging lines this year.",
        ("2330.TT",),
        {"compute": "support"},
        "pos",
        0.62,
        ("adds capacity", "orders strong"),
    ),
    (
        2,
        1,
        "zh",
        "英伟达股价大跌17%，市场担忧算力过剩",
        "DeepSeek R1 发布后，投资者担心AI芯片投资过度。",
        ("NVDA.US", "DEEPSEEK"),
        {"compute": "challenge"},
        "neg",
        -0.71,
        ("大跌", "过剩"),
    ),
    (
        3,
        0,
        "en",
        "Microsoft and Amazon offer DeepSeek R1 on their clouds",
        "Cloud platforms list the model days after launch.",
        ("DEEPSEEK",),
        {"compute": "support"},
        "pos",
        0.35,
        ("offer",),
    ),
    (
        5,
        1,
        "zh",
        "小米加快端侧大模型部署，手机AI功能升级",
        "小米表示将把更小的推理模型装进新机型。",
        ("1810.HK",),
        {"edge": "support"},
        "pos",
        0.48,
        ("加快", "升级"),
    ),
    (
        7,
        0,
        "en",
        "US weighs tighter export rules on AI chips to China",
        "Commerce officials discuss new limits on accelerators.",
        ("NVDA.US", "AMD.US"),
        {"localization": "support", "risk": "support"},
        "neg",
        -0.44,
        ("tighter", "limits"),
    ),
    (
        9,
        1,
        "zh",
        "中芯国际扩产，国产替代提速",
        "多家国内设计公司把订单转向本土代工。",
        ("981.HK",),
        {"localization": "support"},
        "pos",
        0.55,
        ("扩产", "提速"),
    ),
    (
        12,
        0,
        "en",
        HOSTILE_TITLE,
        "Summary with \x1b[2J escape codes and [b]markup[/b].",
        ("AMD.US",),
        {"risk": "challenge"},
        "neu",
        0.0,
        (),
    ),
    (
        20,
        0,
        "en",
        "XPeng ships smart-driving update built on a smaller model",
        "The carmaker says on-board inference is now cheaper.",
        ("XPEV.US",),
        {"edge": "support"},
        "pos",
        0.4,
        ("cheaper",),
    ),
    (
        30,
        1,
        "zh",
        "苹果在华销量下滑，端侧AI落地不及预期",
        "分析师下调iPhone出货预期。",
        ("AAPL.US",),
        {"edge": "challenge"},
        "neg",
        -0.5,
        ("下滑", "不及预期"),
    ),
    (
        40,
        0,
        "en",
        "Hua Hong sees steady demand for power chips",
        "Utilisation stays high at its 8-inch fabs.",
        ("1347.HK",),
        {"localization": "support"},
        "pos",
        0.3,
        ("steady demand",),
    ),
    (
        55,
        1,
        "zh",
        "DeepSeek应用登顶中美App Store",
        "下载量一周增长375%。",
        ("DEEPSEEK", "AAPL.US"),
        {"edge": "support"},
        "pos",
        0.66,
        ("登顶", "增长"),
    ),
    (
        70,
        0,
        "en",
        "Hyperscalers reaffirm record AI capex plans",
        "Spending guidance for 2025 rises again.",
        ("NVDA.US",),
        {"compute": "support"},
        "pos",
        0.58,
        ("record", "rises"),
    ),
    (
        90,
        0,
        "en",
        "Analysts warn of GPU overcapacity after price cuts",
        "Some expect accelerator prices to fall this year.",
        ("NVDA.US", "AMD.US"),
        {"compute": "challenge", "risk": "support"},
        "neg",
        -0.52,
        ("overcapacity", "fall"),
    ),
    (
        120,
        1,
        "zh",
        "华为昇腾芯片订单增加",
        "国内云厂商加大国产算力采购。",
        ("981.HK",),
        {"localization": "support"},
        "pos",
        0.41,
        ("增加",),
    ),
    (
        150,
        0,
        "en",
        "Smartphone demand outlook cut for the first half",
        "Shipments expected to fall in key markets.",
        ("AAPL.US", "1810.HK"),
        {"edge": "challenge", "risk": "support"},
        "neg",
        -0.47,
        ("cut", "fall"),
    ),
    (
        200,
        1,
        "zh",
        "台积电一月营收同比增长",
        "AI相关订单贡献增长。",
        ("2330.TT",),
        {"compute": "support"},
        "pos",
        0.5,
        ("增长",),
    ),
    (
        260,
        0,
        "en",
        "AMD launches new accelerator for inference",
        "The company targets cheaper deployments.",
        ("AMD.US",),
        {"compute": "support"},
        "pos",
        0.33,
        ("launches",),
    ),
    (
        300,
        1,
        "zh",
        "半导体行业景气度回升偏弱",
        "部分成熟制程价格下调。",
        ("981.HK", "1347.HK"),
        {"risk": "support"},
        "neg",
        -0.3,
        ("偏弱", "下调"),
    ),
]


def _item_id(index: int) -> str:
    return f"item-{index:02d}"


def _item_url(index: int) -> str:
    """Item ``index``'s link: item 6 carries a hostile one."""
    return f"https://news.example.com/{index:02d}" if index != 6 else "javascript:alert(1)"


# Signals v3 events of a few items (by index in _ROWS): the detail pane shows them, the news
# list filters by their type
_EVENTS: dict[int, tuple[Event, ...]] = {
    0: (
        Event(
            type="capacity_expansion",
            entities=(("2330.TT", "subject"),),
            polarity=1,
            evidence=("adds CoWoS capacity",),
        ),
        Event(type="demand_strong", entities=(("2330.TT", "subject"),), polarity=1),
    ),
    4: (
        Event(
            type="export_control_tighten",
            entities=(("AMD.US", "subject"), ("NVDA.US", "subject")),
            polarity=-1,
            evidence=("tighter export rules",),
        ),
    ),
}


def items_and_tags() -> list[tuple[Item, Tags]]:
    pairs: list[tuple[Item, Tags]] = []
    for index, (
        hours,
        src,
        lang,
        title,
        summary,
        tickers,
        theses,
        label,
        score,
        evidence,
    ) in enumerate(_ROWS):
        when = NOW - timedelta(hours=hours)
        item = Item(
            id=_item_id(index),
            source_id=SOURCES[src].id,
            title=title,
            summary=summary,
            url=_item_url(index),
            published=when,
            fetched=when + timedelta(minutes=5),
            lang=lang,
        )
        tags = Tags(
            lang=lang,
            tickers=tuple(TickerMention(ticker=t) for t in tickers),
            theses=tuple(ThesisStance(thesis=k, stance=v) for k, v in theses.items()),  # type: ignore[arg-type]
            sentiment=Sentiment(
                label=label, score=score, evidence=evidence, scorer="test", version="1"
            ),  # type: ignore[arg-type]
            events=_EVENTS.get(index, ()),
            relevance=tuple((t, 100 - 30 * n) for n, t in enumerate(tickers))
            if index in _EVENTS
            else (),
        )
        pairs.append((item, tags))
    return pairs


# (hours ago, rule, severity, title, message, tickers, thesis, stance, item index); the alerts
# are al-1, al-2, ... in this order and each links to its item's URL
_ALERT_ROWS: list[
    tuple[
        float,
        str,
        Literal["info", "warning", "critical"],
        str,
        str,
        tuple[str, ...],
        str,
        str,
        int,
    ]
] = [
    (
        2,
        "thesis_challenge",
        "critical",
        "NVIDIA falls 17%: compute thesis challenged",
        "A challenging item about NVDA.US carried by 2 sources.",
        ("NVDA.US",),
        "compute",
        "challenge",
        1,
    ),
    (
        5,
        "mention_spike",
        "warning",
        "Xiaomi mentions spike",
        "3x the usual daily mentions.",
        ("1810.HK",),
        "edge",
        "support",
        3,
    ),
    (
        7,
        "thesis_support",
        "info",
        "Export rules support localization",
        "Tighter US controls support the localization thesis.",
        ("NVDA.US", "AMD.US"),
        "localization",
        "support",
        4,
    ),
    (
        12,
        "thesis_challenge",
        "warning",
        HOSTILE_TITLE,
        "Hostile \x1b[31mmessage[/]",
        ("AMD.US",),
        "risk",
        "challenge",
        6,
    ),
    (
        30,
        "sentiment_shift",
        "warning",
        "Apple sentiment turns negative",
        "Mean sentiment fell below -0.4 over 24 h.",
        ("AAPL.US",),
        "edge",
        "challenge",
        8,
    ),
    (
        90,
        "thesis_challenge",
        "info",
        "GPU overcapacity warning",
        "Challenging item about the compute thesis.",
        ("NVDA.US", "AMD.US"),
        "compute",
        "challenge",
        12,
    ),
]


def alerts() -> list[Alert]:
    return [
        Alert(
            id=f"al-{number}",
            created=(NOW - timedelta(hours=hours)).isoformat(),
            rule=rule,
            severity=severity,
            title=title,
            message=message,
            url=_item_url(item),
            tickers=tickers,
            thesis=thesis,
            stance=stance,
            item_ids=(_item_id(item),),
        )
        for number, (
            hours,
            rule,
            severity,
            title,
            message,
            tickers,
            thesis,
            stance,
            item,
        ) in enumerate(_ALERT_ROWS, start=1)
    ]


def fetch_outcomes() -> list[FetchOutcome]:
    """Two healthy sources and one failing with a hostile error message."""
    return [
        FetchOutcome(
            source_id=SOURCES[0].id,
            status="ok",
            http_status=200,
            latency=0.21,
            started=NOW - timedelta(minutes=4),
            next_poll=NOW + timedelta(minutes=6),
            items_seen=11,
        ),
        FetchOutcome(
            source_id=SOURCES[1].id,
            status="not_modified",
            http_status=304,
            latency=0.34,
            started=NOW - timedelta(minutes=3),
            next_poll=NOW + timedelta(minutes=7),
        ),
        FetchOutcome(
            source_id=SOURCES[2].id,
            status="failed",
            http_status=500,
            latency=1.5,
            started=NOW - timedelta(minutes=2),
            next_poll=NOW + timedelta(minutes=8),
            error="HTTP 500 from \x1b[31m[red]server[/red]",
            consecutive_failures=3,
        ),
    ]


def fill(store: Store) -> Store:
    """Put the fixed data into ``store`` (sources, their health, items, alerts)."""
    store.sync_sources(list(SOURCES))
    store.save_items(items_and_tags())
    store.save_alerts(alerts())
    for outcome in fetch_outcomes():
        store.record_fetch(outcome)
    return store
