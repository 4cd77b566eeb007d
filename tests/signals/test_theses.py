"""Thesis mapping: stance is not sentiment, rules come from the data, the eval set holds up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from thesiswatch.signals.entities import Linker
from thesiswatch.signals.models import Sentiment
from thesiswatch.signals.theses import ThesisMapper
from thesiswatch.signals.watchlist import parse_watchlist
from thesiswatch.watchlists import load_watchlist

EVAL = Path(__file__).resolve().parents[1] / "data" / "tagging_eval.jsonl"


@pytest.fixture(scope="module")
def tag():
    wl = load_watchlist()
    linker, mapper = Linker(wl), ThesisMapper(wl)

    def run(text: str, sentiment: Sentiment | None = None) -> dict[str, str]:
        return {s.thesis: s.stance for s in mapper.map(text, linker.link(text), sentiment)}

    return run


NEG = Sentiment(label="neg", score=-0.8)
POS = Sentiment(label="pos", score=0.8)


@pytest.mark.parametrize(
    "text",
    [
        "Washington tightens chip export rules, Nvidia and AMD China sales at risk",
        "美方升级芯片出口管制，英伟达对华销售再受限",
    ],
)
def test_tighter_export_controls_hurt_nvidia_but_support_localization(tag, text: str) -> None:
    # The reader's sentiment is negative; the stances still differ per thesis.
    assert tag(text, NEG) == {"compute": "challenge", "localization": "support", "risk": "support"}


@pytest.mark.parametrize(
    "text",
    [
        "US eases chip curbs, lets Nvidia ship H20 to China again",
        "美国放宽芯片出口管制，英伟达H20获准恢复对华出口",
    ],
)
def test_eased_controls_challenge_localization(tag, text: str) -> None:
    assert tag(text, POS) == {
        "compute": "support",
        "localization": "challenge",
        "risk": "challenge",
    }


def test_tighter_controls_without_a_us_chip_name_leave_compute_alone(tag) -> None:
    assert tag("Commerce adds 30 Chinese chip firms to entity list") == {
        "localization": "support",
        "risk": "support",
    }


@pytest.mark.parametrize(
    "text",
    [
        "DeepSeek's cheap model stokes fears that AI chip demand has peaked",
        "DeepSeek低成本模型引发市场对算力需求的担忧",
    ],
)
def test_deepseek_low_cost_as_demand_fear_challenges_compute(tag, text: str) -> None:
    assert tag(text)["compute"] == "challenge"


@pytest.mark.parametrize(
    "text",
    [
        "Cheaper DeepSeek models will drive demand for AI chips, analysts say",
        "DeepSeek降价后调用量激增，算力需求仍将增长",
    ],
)
def test_deepseek_low_cost_as_usage_growth_supports_compute(tag, text: str) -> None:
    assert tag(text)["compute"] == "support"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Carmakers' price war deepens as BYD cuts prices again", "support"),
        ("新能源车价格战升级，多家车企跟进降价", "support"),
        ("Smartphone shipments in China fall 5% in third quarter", "support"),
        ("US and China agree tariff truce, pause new levies", "challenge"),
    ],
)
def test_a_listed_risk_materialising_supports_the_risk_board(tag, text: str, expected: str) -> None:
    assert tag(text)["risk"] == expected


def test_china_pushback_on_us_chips_supports_localization(tag) -> None:
    result = tag("Beijing tells firms to avoid buying Nvidia H20 over security risks")
    assert result["localization"] == "support"
    assert result["compute"] == "challenge"


def test_domestic_chip_setback_challenges_localization_and_supports_risk(tag) -> None:
    result = tag("Chinese AI chips struggle as training runs on Ascend hit problems")
    assert result["localization"] == "challenge"
    assert result["risk"] == "support"


def test_edge_rollout_and_company_news(tag) -> None:
    assert tag("多家手机厂商宣布接入DeepSeek，端侧AI加速落地")["edge"] == "support"
    assert tag("Xiaomi recalls SU7 sedans over driver-assist flaw")["edge"] == "challenge"
    assert tag("Apple delays AI features for Siri again")["edge"] == "challenge"


def test_domestic_chip_news_is_not_compute_news(tag) -> None:
    assert tag("国产AI芯片需求旺盛，寒武纪营收大增") == {"localization": "support"}


def test_unrelated_items_bear_on_no_thesis(tag) -> None:
    assert tag("Premier Li Qiang meets business leaders") == {}
    assert tag("冬季喝小米粥养胃") == {}
    assert tag("Nvidia names new board member") == {}


def test_sentiment_only_fills_in_when_no_cue_decides() -> None:
    wl = load_watchlist()
    mapper, linker = ThesisMapper(wl), Linker(wl)
    text = "Xiaomi names new board member"
    tickers = linker.link(text)
    assert mapper.map(text, tickers) == ()
    (stance,) = mapper.map(text, tickers, POS)
    assert (stance.thesis, stance.stance) == ("edge", "support")
    assert stance.evidence and stance.evidence[0].startswith("sentiment")
    assert mapper.map(text, tickers, Sentiment(label="pos", score=0.2)) == ()
    assert mapper.map(text, tickers, Sentiment(label="neu", score=0.9)) == ()
    # Not about any thesis: sentiment alone never creates a stance.
    assert mapper.map("The weather is lovely", (), POS) == ()


def test_evidence_and_strength(tag) -> None:
    wl = load_watchlist()
    mapper, linker = ThesisMapper(wl), Linker(wl)
    text = "US tightens export curbs on Nvidia's H20 chips to China"
    stances = mapper.map(text, linker.link(text))
    assert [s.thesis for s in stances] == ["compute", "localization", "risk"]  # watchlist order
    for s in stances:
        assert 0 < s.strength <= 1
        assert s.evidence and all(e in text or e.endswith(".US") for e in s.evidence)


MINI = """
name = "Mini"
stance_from_sentiment = 0
[vocab]
up = ["soar*", "大涨"]
down = ["slump*", "大跌"]
[[theses]]
id = "demand"
title = "Demand grows"
topics = ["widgets"]
support = ["@up + #demand", "orders + !cancel*"]
challenge = ["@down + #demand"]
support_if_about = ["@up"]
challenge_if_about = ["@down"]
[[companies]]
id = "WID.US"
name = "Widget Co"
aliases = ["Widget Co"]
theses = ["demand"]
"""


def test_rules_come_from_the_watchlist() -> None:
    wl = parse_watchlist(MINI)
    mapper, linker = ThesisMapper(wl), Linker(wl)

    def run(text: str) -> dict[str, str]:
        return {s.thesis: s.stance for s in mapper.map(text, linker.link(text))}

    assert run("Widget Co shares soar") == {"demand": "support"}
    assert run("Widget Co shares slump") == {"demand": "challenge"}
    assert run("Gadget shares soar") == {}  # not about the thesis, no ticker
    assert run("Widgets soar in popularity") == {"demand": "support"}  # about via topic
    assert run("New orders for gadgets") == {"demand": "support"}
    assert run("New orders cancelled") == {}  # a negated term blocks the cue
    assert run("Widget Co shares soar, then slump") == {}  # a tie leaves the thesis out
    assert run("Widgets soar, then slump") == {}


def _micro_f1(pairs: list[tuple[set[Any], set[Any]]]) -> float:
    tp = sum(len(g & p) for g, p in pairs)
    fp = sum(len(p - g) for g, p in pairs)
    fn = sum(len(g - p) for g, p in pairs)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def test_eval_set_meets_the_targets() -> None:
    """A regression guard over the labelled set (bench/tagging.py prints the details)."""
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) >= 150
    assert abs(sum(r["lang"] == "zh" for r in rows) - len(rows) / 2) <= 5
    assert sum(r["trap"] for r in rows) >= len(rows) / 3 - 2
    wl = load_watchlist()
    linker, mapper = Linker(wl), ThesisMapper(wl)
    ticker_pairs: list[tuple[set[Any], set[Any]]] = []
    stance_pairs: list[tuple[set[Any], set[Any]]] = []
    trap_false = 0
    for row in rows:
        mentions = linker.link(row["title"])
        got = {m.ticker for m in mentions}
        ticker_pairs.append((set(row["tickers"]), got))
        stance_pairs.append(
            (
                set(row["theses"].items()),
                {(s.thesis, s.stance) for s in mapper.map(row["title"], mentions)},
            )
        )
        if row["trap"]:
            trap_false += len(got - set(row["tickers"]))
    assert trap_false == 0
    assert _micro_f1(ticker_pairs) >= 0.95
    assert _micro_f1(stance_pairs) >= 0.85
