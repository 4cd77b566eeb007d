"""Story clustering: one story across sources and languages, and not two stories as one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thesiswatch.signals.cluster import StoryClusterer, new_cluster_id, numbers_in, story_key

T0 = datetime(2025, 1, 27, 14, 0, tzinfo=UTC)


def test_story_key_ignores_case_punctuation_script_and_source_suffix() -> None:
    assert story_key("台積電 營收超預期！", lang="zh") == story_key("台积电营收超预期", lang="zh")
    assert story_key("Nvidia Shares Plunge 17% - Reuters", lang="en") == story_key(
        "nvidia shares plunge 17%", lang="en"
    )
    assert story_key("Nvidia shares plunge 17%", lang="en") != story_key(
        "Nvidia shares plunge 13%", lang="en"
    )


def test_numbers_skip_years_and_model_names() -> None:
    assert numbers_in("DeepSeek R1 in 2025: Nvidia -17%, 5890亿美元") == {"17%", "5890"}
    assert numbers_in("英伟达股价大跌17%") == {"17%"}
    assert numbers_in("Nvidia shares fall 17 percent") == {"17%"}


def test_one_story_in_chinese_and_english_sources_is_one_cluster() -> None:
    c = StoryClusterer()
    zh = c.assign("zh1", "英伟达股价大跌17%", lang="zh", tickers=("NVDA.US",), published=T0)
    en = c.assign(
        "en1",
        "Nvidia shares plunge 17% as DeepSeek rattles AI trade - Reuters",
        lang="en",
        tickers=("NVDA.US", "DEEPSEEK"),
        published=T0 + timedelta(hours=1),
    )
    en2 = c.assign(
        "en2",
        "Nvidia shares plunge 17% as DeepSeek rattles AI trade",
        lang="en",
        tickers=("NVDA.US", "DEEPSEEK"),
        published=T0 + timedelta(hours=2),
    )
    tw = c.assign(
        "zh2", "輝達股價大跌17%", lang="zh", tickers=("NVDA.US",), published=T0 + timedelta(hours=3)
    )
    assert zh == en == en2 == tw == new_cluster_id("zh1")


def test_near_duplicate_titles_cluster_within_one_language() -> None:
    c = StoryClusterer()
    a = c.assign("a", "DeepSeek发布R1推理模型 性能比肩OpenAI o1", lang="zh", published=T0)
    b = c.assign(
        "b",
        "DeepSeek发布R1推理模型，性能比肩OpenAI o1 | 36氪",
        lang="zh",
        published=T0 + timedelta(minutes=40),
    )
    assert a == b


def test_different_companies_or_figures_are_different_stories() -> None:
    c = StoryClusterer()
    nv = c.assign(
        "n", "Nvidia shares rise on AI demand", lang="en", tickers=("NVDA.US",), published=T0
    )
    amd = c.assign(
        "m", "AMD shares rise on AI demand", lang="en", tickers=("AMD.US",), published=T0
    )
    assert nv != amd
    d1 = c.assign("x", "Nvidia shares fall 3%", lang="en", tickers=("NVDA.US",), published=T0)
    d2 = c.assign("y", "Nvidia shares fall 5%", lang="en", tickers=("NVDA.US",), published=T0)
    assert d1 != d2


def test_cross_language_link_needs_the_time_window() -> None:
    c = StoryClusterer(link_window=timedelta(hours=12))
    a = c.assign("a", "英伟达股价大跌17%", lang="zh", tickers=("NVDA.US",), published=T0)
    b = c.assign(
        "b",
        "Nvidia shares plunge 17%",
        lang="en",
        tickers=("NVDA.US",),
        published=T0 + timedelta(days=1),
    )
    assert a != b


def test_unrelated_items_get_their_own_cluster_and_ids_are_stable() -> None:
    c = StoryClusterer()
    a = c.assign("a", "小米发布新款SU7", lang="zh", tickers=("1810.HK",), published=T0)
    b = c.assign("b", "台积电扩产CoWoS", lang="zh", tickers=("2330.TT",), published=T0)
    assert a != b
    assert c.assign("a", "anything else", lang="en") == a  # the same item keeps its cluster


def test_state_loads_from_history_and_continues_the_story() -> None:
    first = StoryClusterer()
    cid = first.assign("zh1", "英伟达股价大跌17%", lang="zh", tickers=("NVDA.US",), published=T0)
    restarted = StoryClusterer()
    restarted.load(
        [
            ("zh1", cid, "英伟达股价大跌17%", "zh", ("NVDA.US",), T0.isoformat()),
            ("x", "", "小米发布新款SU7", "zh", ("1810.HK",), T0),
        ]
    )
    assert len(restarted) == 2
    again = restarted.assign(
        "en1",
        "Nvidia shares plunge 17%",
        lang="en",
        tickers=("NVDA.US",),
        published=T0 + timedelta(hours=2),
    )
    assert again == cid


def test_old_state_is_pruned() -> None:
    c = StoryClusterer(window=timedelta(hours=1))
    for i in range(600):
        c.assign(
            f"i{i}",
            f"headline number {i} about things",
            lang="en",
            published=T0 + timedelta(minutes=i),
        )
    assert len(c) < 300


def test_memory_stops_growing_once_the_cap_is_full() -> None:
    """A busy daemon: more stories inside the window than ``max_entries``. Once full, the
    clusterer holds its size and its memory (old stories and their index entries go)."""
    import gc
    import tracemalloc

    c = StoryClusterer(max_entries=1000)
    names = ["英伟达", "台积电", "小米", "Nvidia", "TSMC", "Xiaomi", "蔚来", "BYD"]

    def feed(start: int, count: int) -> None:
        for i in range(start, start + count):
            c.assign(
                f"id-{i}",
                f"{names[i % len(names)]} story {i} 第{i}号 event {i * 7 % 1000}",
                lang="zh" if i % 2 else "en",
                tickers=(f"T{i % 5}",),
                published=T0 + timedelta(seconds=10 * i),  # all within the 48 h window
            )

    tracemalloc.start()  # (counts only what is allocated after this: start before filling)
    try:
        feed(0, 3000)  # fill the cap, and churn through it twice
        assert len(c) < 1000 + 256  # pruned every 256 stories
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        feed(3000, 6000)
        gc.collect()
        later = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(c) < 1000 + 256
    # 6000 more stories went through; the state stayed the size of a full cap (give or take
    # the 255 stories between prunes and the dicts' table sizes)
    assert later < full * 1.3, (full, later)
