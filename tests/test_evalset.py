"""The frozen evaluation set (bench/data/stories.jsonl) keeps the shape docs/evaluation.md
defines, is the committed file, and splits the same way every time. It checks the set, never
the tagger: the tagger is judged by bench/tagging.py and bench/alerts.py."""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_evalset() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tw_bench_evalset", ROOT / "bench" / "evalset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


evalset = _load_evalset()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return evalset.load_frozen()


@pytest.fixture(scope="module")
def vocab() -> Any:
    return evalset.Vocabulary.load()


def test_the_committed_file_is_the_frozen_one(tmp_path: Path) -> None:
    changed = tmp_path / "stories.jsonl"
    changed.write_bytes(evalset.SET_PATH.read_bytes() + b"\n")
    with pytest.raises(evalset.EvalSetError, match="frozen"):
        evalset.load_frozen(changed)


def test_every_row_follows_the_guide(rows: list[dict[str, Any]], vocab: Any) -> None:
    assert evalset.check_rows(rows, vocab) == []


def test_the_checker_catches_each_kind_of_mistake(rows: list[dict[str, Any]], vocab: Any) -> None:
    good = next(r for r in rows if r["tickers"])
    ticker = good["tickers"][0]
    mistakes = {
        "not a watchlist ticker": {"relevance": {**good["relevance"], "XXXX.US": "subject"}},
        "but subject/counterparty are": {"relevance": {**good["relevance"], ticker: "passing"}},
        "risk is only ever": {"theses": {"risk": "challenge"}},
        "not in the taxonomy": {"events": ["merger_of_equals"]},
        "inside": {"published": "2025-01-27T09:00:00Z"},
        "does not fit lang": {"script": "latin" if good["lang"] == "zh" else "hant"},
        "an alert story needs": {"alert": "alert", "severity": None},
    }
    for expected, change in mistakes.items():
        bad = {**copy.deepcopy(good), **change}
        assert any(expected in p for p in evalset.check_row(bad, vocab)), expected


def test_repeats_of_a_story_agree_and_share_its_id(rows: list[dict[str, Any]], vocab: Any) -> None:
    story = next(s for s, n in Counter(r["story"] for r in rows).items() if n > 1)
    items = [copy.deepcopy(r) for r in rows if r["story"] == story]
    items[1]["alert"] = {"alert": "quiet", "quiet": "either", "either": "alert"}[items[1]["alert"]]
    items[1]["severity"] = "warning" if items[1]["alert"] == "alert" else None
    assert any("disagree" in p for p in evalset.check_rows(items, vocab))


def test_make_up_asked_for(rows: list[dict[str, Any]], vocab: Any) -> None:
    stories = {r["story"]: r for r in rows}
    scripts = Counter(r["script"] for r in rows)
    zh = scripts["hans"] + scripts["hant"]
    assert len(stories) >= 560 and len(rows) >= 600
    assert 0.4 <= zh / len(rows) <= 0.6
    assert scripts["hant"] >= zh / 5
    traps = Counter(t for r in rows for t in r["traps"])
    assert traps["name"] >= 100
    assert sum(1 for r in rows if {"sentiment", "stance"} & set(r["traps"])) >= 60
    assert len(rows) - len(stories) >= 70  # repeats of a story
    cross_language = sum(
        1 for s in stories if len({r["lang"] for r in rows if r["story"] == s}) > 1
    )
    assert cross_language >= 30
    labels = Counter(r["alert"] for r in stories.values())
    assert labels["alert"] >= 0.3 * len(stories) and labels["quiet"] >= 0.3 * len(stories)
    events = Counter(e for r in rows for e in r["events"])
    assert {e for e in vocab.events if events[e] < 2} == set()


def test_repeats_come_within_hours_and_stories_span_thirty_days(rows: list[dict[str, Any]]) -> None:
    by_story: dict[str, list[str]] = {}
    for r in rows:
        by_story.setdefault(r["story"], []).append(r["published"])
    days = {min(times)[:10] for times in by_story.values()}
    assert len(days) >= 25

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    for story, times in by_story.items():
        spread = at(max(times)) - at(min(times))
        assert spread.total_seconds() <= 24 * 3600, story


def test_the_split_is_fixed_by_story_and_balanced(rows: list[dict[str, Any]]) -> None:
    # Pinned values: a change to half_of would silently move stories between the halves.
    pinned = {"c003": "dev", "c004": "test", "l002": "dev", "p010": "dev", "v011": "test"}
    assert {s: evalset.half_of(s) for s in pinned} == pinned
    halves = Counter(evalset.half_of(s) for s in {r["story"] for r in rows})
    assert 0.4 <= halves["dev"] / (halves["dev"] + halves["test"]) <= 0.6


def test_batch_b_is_frozen_well_formed_new_and_now_tuning_data(vocab: Any) -> None:
    rows, half = evalset.load_set("b")
    assert evalset.check_rows(rows, vocab) == []
    assert {half(r["story"]) for r in rows} == {"dev"}  # held out in session 3, tuned on since
    assert all(r["story"].startswith("b") for r in rows)
    v1_titles = {r["title"] for r in evalset.load_frozen()}
    assert not v1_titles & {r["title"] for r in rows}


def test_batch_c_is_frozen_well_formed_new_and_split(vocab: Any) -> None:
    rows, half = evalset.load_set("c")
    assert evalset.check_rows(rows, vocab) == []
    assert all(r["story"].startswith("x") for r in rows)
    earlier = {r["title"] for r in evalset.load_frozen()} | {
        r["title"] for r in evalset.load_set("b")[0]
    }
    titles = [r["title"] for r in rows]
    assert not earlier & set(titles) and len(set(titles)) == len(titles)
    halves = Counter(half(s) for s in {r["story"] for r in rows})
    assert 0.35 <= halves["dev"] / (halves["dev"] + halves["test"]) <= 0.65


def test_batch_d_is_frozen_well_formed_new_and_all_held_out(vocab: Any) -> None:
    rows, half = evalset.load_set("d")
    assert evalset.check_rows(rows, vocab) == []
    assert {half(r["story"]) for r in rows} == {"test"}
    assert all(r["story"].startswith("y") for r in rows)
    earlier = {r["title"] for name in ("v1", "b", "c") for r in evalset.load_set(name)[0]}
    titles = [r["title"] for r in rows]
    assert not earlier & set(titles) and len(set(titles)) == len(titles)
    with pytest.raises(evalset.EvalSetError, match="no frozen set"):
        evalset.load_set("h")


@pytest.mark.parametrize(
    ("name", "prefix", "earlier"),
    [
        ("e", "z", ("v1", "b", "c", "d", "t")),
        ("f", "f", ("v1", "b", "c", "d", "e", "t")),
        ("g", "g", ("v1", "b", "c", "d", "e", "f", "t")),
    ],
)
def test_a_late_batch_is_frozen_well_formed_new_and_tuning_data(
    vocab: Any, name: str, prefix: str, earlier: tuple[str, ...]
) -> None:
    rows, half = evalset.load_set(name)
    assert evalset.check_rows(rows, vocab) == []
    assert {half(r["story"]) for r in rows} == {"dev"}
    assert all(r["story"].startswith(prefix) for r in rows)
    titles = {r["title"] for n in earlier for r in evalset.load_set(n)[0]}
    assert not titles & {r["title"] for r in rows}


def test_the_name_trap_set_is_frozen_well_formed_and_tuning_data(vocab: Any) -> None:
    rows, half = evalset.load_set("t")
    assert evalset.check_rows(rows, vocab) == []
    assert {half(r["story"]) for r in rows} == {"dev"}
    traps = [r for r in rows if "name" in r["traps"]]
    assert len(traps) >= 140 and len(rows) - len(traps) >= 60  # traps and true look-alikes
