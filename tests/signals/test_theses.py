"""Stances: evidence from events and explicit cues, never basket membership times a word.

The tagger's stance (``Tagger.tag(...).theses``) follows docs/evaluation.md: export-control
news supports localization and the risk board and carries no compute stance by itself; a
risk board only ever supports; an edge company's good day is not edge evidence unless AI on
devices or cars is what happened.
"""

from __future__ import annotations

import pytest

from thesiswatch.signals.entities import Linker
from thesiswatch.signals.models import Sentiment
from thesiswatch.signals.sentiment import default_scorer
from thesiswatch.signals.tagger import Tagger
from thesiswatch.signals.theses import ThesisMapper
from thesiswatch.signals.watchlist import parse_watchlist
from thesiswatch.watchlists import load_watchlist


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(), default_scorer())


@pytest.fixture(scope="module")
def tag(tagger: Tagger):
    def run(text: str, summary: str = "") -> dict[str, str]:
        return tagger.tag(text, summary).thesis_map

    return run


POS = Sentiment(label="pos", score=0.8)


@pytest.mark.parametrize(
    "text",
    [
        "Washington tightens chip export rules, Nvidia and AMD China sales at risk",
        "美方升级芯片出口管制，英伟达对华销售再受限",
        "US tightens export curbs on Nvidia's H20 chips to China",
    ],
)
def test_tighter_export_controls_support_localization_not_a_compute_stance(tag, text) -> None:
    assert tag(text) == {"localization": "support", "risk": "support"}


@pytest.mark.parametrize(
    "text",
    [
        "US eases chip curbs, lets Nvidia ship H20 to China again",
        "美国放宽芯片出口管制，英伟达H20获准恢复对华出口",
    ],
)
def test_eased_controls_challenge_localization_and_never_the_risk_board(tag, text) -> None:
    assert tag(text) == {"localization": "challenge"}


def test_entity_listing_supports_localization_and_risk(tag) -> None:
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
    "text",
    [
        "Carmakers' price war deepens as BYD cuts prices again",
        "新能源车价格战升级，多家车企跟进降价",
        "Smartphone shipments in China fall 5% in third quarter",
    ],
)
def test_a_listed_risk_materialising_supports_the_risk_board(tag, text: str) -> None:
    assert tag(text)["risk"] == "support"


def test_a_risk_receding_is_not_a_risk_stance(tag) -> None:
    assert "risk" not in tag("US and China agree tariff truce, pause new levies")


def test_china_pushback_on_us_chips_supports_localization(tag) -> None:
    assert tag("Beijing tells firms to avoid buying Nvidia H20 over security risks") == {
        "localization": "support"
    }


def test_domestic_chip_setback_challenges_localization_and_supports_risk(tag) -> None:
    result = tag("Chinese AI chips struggle as training runs on Ascend hit problems")
    assert result == {"localization": "challenge", "risk": "support"}


def test_edge_evidence_is_ai_on_devices_and_cars(tag) -> None:
    assert tag("多家手机厂商宣布接入DeepSeek，端侧AI加速落地")["edge"] == "support"
    assert tag("Xiaomi adds DeepSeek to its car cockpit")["edge"] == "support"
    assert tag("Xiaomi recalls SU7 sedans over driver-assist flaw")["edge"] == "challenge"
    assert tag("Apple delays AI features for Siri again")["edge"] == "challenge"


def test_an_edge_company_doing_well_is_not_edge_evidence_by_itself(tag) -> None:
    assert "edge" not in tag("Xiaomi quarterly profit jumps 40% on strong phone sales")
    assert "edge" not in tag("比亚迪2月新能源车销量同比下降约三成")


def test_domestic_chip_news_is_not_compute_news(tag) -> None:
    assert tag("国产AI芯片需求旺盛，寒武纪营收大增") == {"localization": "support"}


def test_unrelated_items_bear_on_no_thesis(tag) -> None:
    assert tag("Premier Li Qiang meets business leaders") == {}
    assert tag("冬季喝小米粥养胃") == {}
    assert tag("Nvidia names new board member") == {}
    assert tag("Xiaomi names new board member") == {}  # no sentiment fallback by default


def test_evidence_and_strength(tagger: Tagger) -> None:
    text = "US tightens export curbs on Nvidia's H20 chips to China"
    stances = tagger.tag(text).theses
    assert [s.thesis for s in stances] == ["localization", "risk"]  # watchlist order
    for s in stances:
        assert 0 < s.strength <= 1
        assert s.evidence and all("export_control_tighten" in e for e in s.evidence)


MINI = """
name = "Mini"
stance_from_sentiment = 0.5
stance_from_basket = true
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
[[theses]]
id = "risks"
role = "risk"
title = "Risks"
support = ["recall*"]
challenge = ["recall* + ended"]
[[companies]]
id = "WID.US"
name = "Widget Co"
aliases = ["Widget Co"]
theses = ["demand"]
"""


def test_cue_rules_come_from_the_watchlist() -> None:
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
    assert run("Widget recall") == {"risks": "support"}
    assert run("Widget recall ended") == {"risks": "support"}  # a risk board only supports


def test_basket_cues_and_sentiment_fallback_only_when_the_watchlist_asks() -> None:
    wl = parse_watchlist(MINI)
    text = "Widget Co names new board member"
    tickers = Linker(wl).link(text)
    (stance,) = ThesisMapper(wl).map(text, tickers, POS)
    assert (stance.thesis, stance.stance) == ("demand", "support")
    assert stance.evidence[0].startswith("sentiment")
    off = parse_watchlist(MINI.replace("stance_from_basket = true", "stance_from_basket = false"))
    assert ThesisMapper(off).map("Widgets soar in popularity", ()) == ()
    assert load_watchlist().stance_from_sentiment == 0
    assert load_watchlist().stance_from_basket is False
