"""How the event reader reads what words alone get wrong: small moves, denials, readings that
depend on the object (an API price cut), proposals, market wraps naming several companies,
lists and comparisons, the AMD that Taiwan calls 超微, and analysts' views."""

from __future__ import annotations

import pytest

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.events import parse_taxonomy
from thesiswatch.signals.models import Tags
from thesiswatch.signals.sentiment import default_scorer
from thesiswatch.signals.tagger import Tagger
from thesiswatch.watchlists import load_watchlist


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(), default_scorer())


def by_ticker(tags: Tags) -> dict[str, str]:
    return {t: s.label for t, s in tags.by_ticker}


def stances(tags: Tags) -> dict[str, str]:
    return {s.thesis: s.stance for s in tags.theses}


@pytest.mark.parametrize(
    "text", ["英伟达盘前微涨0.4%", "XPeng edges up 0.4% in thin trading", "台積電收盤小漲0.6%"]
)
def test_a_move_under_one_percent_is_no_news(tagger: Tagger, text: str) -> None:
    tags = tagger.tag(text)
    assert tags.sentiment.label == "neu"  # and the lexicon's "up" does not stand in for it
    assert set(by_ticker(tags).values()) == {"neu"}


def test_a_real_move_still_reads(tagger: Tagger) -> None:
    assert tagger.tag("XPeng jumps 6% after delivery beat").sentiment.label == "pos"


def test_a_title_move_outranks_the_date_it_comes_before(tagger: Tagger) -> None:
    assert tagger.tag("Nvidia gains 3% ahead of GTC").sentiment.label == "pos"
    assert tagger.tag("Nvidia to hold GTC keynote on March 16").sentiment.label == "neu"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Luxshare denies report it lost iPhone assembly share", "pos"),  # bad news denied
        ("蔚来否认大规模裁员传闻", "pos"),
        ("DeepSeek denies report that R2 launch is imminent", "neu"),  # good news denied
    ],
)
def test_a_denial_reads_by_what_it_denies(tagger: Tagger, text: str, label: str) -> None:
    tags = tagger.tag(text)
    assert tags.events[0].type == "denial"
    assert tags.sentiment.label == label


@pytest.mark.parametrize(
    ("text", "ticker", "label"),
    [
        ("DeepSeek halves API prices", "DEEPSEEK", "pos"),  # cheaper tokens win users
        ("BYD cuts prices on its Seal sedan", "1211.HK", "neg"),  # margins
        ("Xiaomi warns memory costs will push phone prices higher", "1810.HK", "neg"),
        ("TSMC raises wafer prices for 2026", "2330.TT", "pos"),
    ],
)
def test_a_price_move_reads_by_what_is_priced(
    tagger: Tagger, text: str, ticker: str, label: str
) -> None:
    assert by_ticker(tagger.tag(text))[ticker] == label


def test_polarity_if_is_checked_when_the_taxonomy_loads() -> None:
    good = '[[events]]\nid = "x"\ngroup = "pricing"\npatterns = ["cut"]\n'
    ok = parse_taxonomy(good + 'polarity_if = [{ if = "api", polarity = 1 }]\n', origin="t")
    assert ok.types[0].polarity_if == (("api", 1),)
    with pytest.raises(WatchlistError, match=r"polarity_if"):
        parse_taxonomy(good + 'polarity_if = [{ if = "api", polarity = 2 }]\n', origin="t")
    with pytest.raises(WatchlistError, match=r"polarity_if"):
        parse_taxonomy(good + 'polarity_if = [{ if = "@nope", polarity = 1 }]\n', origin="t")


@pytest.mark.parametrize(
    "text",
    [
        "Washington weighs tighter chip export limits on China",
        "美国拟加严对华芯片出口管制",
        "TSMC slumps 6% as tariff threat on Taiwan-made chips resurfaces",
    ],
)
def test_a_proposal_or_a_threat_is_no_thesis_evidence(tagger: Tagger, text: str) -> None:
    assert "risk" not in stances(tagger.tag(text))


def test_a_rule_that_is_made_is(tagger: Tagger) -> None:
    assert stances(tagger.tag("US tightens chip export limits on China")) == {
        "localization": "support",
        "risk": "support",
    }


def test_a_market_wrap_gives_each_company_its_own_move(tagger: Tagger) -> None:
    tags = tagger.tag("Hong Kong close: SMIC and Hua Hong jump on curb news while Xiaomi lags")
    assert by_ticker(tags) == {"981.HK": "pos", "1347.HK": "pos", "1810.HK": "neg"}
    assert tags.sentiment.label == "neu"  # subjects moving apart


def test_each_clause_of_a_chinese_wrap_is_its_own_event(tagger: Tagger) -> None:
    tags = tagger.tag("港股汽车股午后跳水，零跑汽车跌超8%，小鹏汽车跌逾6%")
    assert by_ticker(tags) == {"9863.HK": "neg", "XPEV.US": "neg"}
    assert dict(tags.relevance) == {"9863.HK": 90, "XPEV.US": 90}


@pytest.mark.parametrize(
    "text",
    [
        "Xiaomi's EV orders jump",
        "Nvidia gains approval for H20 sales",
        "TSMC ADRs slip 2.5% as Taiwan dollar jumps",
    ],
)
def test_a_bare_verb_is_a_share_move_only_right_after_the_name(tagger: Tagger, text: str) -> None:
    assert "shares_up" not in [e.type for e in tagger.tag(text).events]


@pytest.mark.parametrize(
    ("text", "passing"),
    [
        (
            "Tech stocks drift; megacaps including Nvidia and Apple edged down",
            {"NVDA.US", "AAPL.US"},
        ),
        (
            "Qualcomm's new laptop processor, built at TSMC on 3 nm, doubles its AI engine",
            {"2330.TT"},
        ),
        ("Intel hires new foundry chief as it chases TSMC's lead", {"2330.TT"}),
        ("SMIC's 5 nm yields said to trail far behind TSMC", {"2330.TT"}),
        ("智己新款SUV上市，配备速腾聚创激光雷达", {"2498.HK"}),
    ],
)
def test_lists_and_comparisons_are_passing(tagger: Tagger, text: str, passing: set[str]) -> None:
    tags = tagger.tag(text)
    relevance = dict(tags.relevance)
    assert all(relevance[t] < 50 for t in passing), relevance
    assert not passing & {m.ticker for m in tags.tickers}


def test_a_company_named_only_as_a_summarys_counterparty_is_background(tagger: Tagger) -> None:
    tags = tagger.tag(
        "DeepSeek's next model slips after training troubles on Huawei chips",
        "The lab switched back to Nvidia hardware for training, people familiar said.",
    )
    assert [m.ticker for m in tags.tickers] == ["DEEPSEEK"]
    assert dict(tags.relevance)["NVDA.US"] < 50


@pytest.mark.parametrize(
    ("text", "amd"),
    [
        ("超微拿下OpenAI 6GW算力大單 股價狂飆24%", True),  # Taiwan: 超微 is AMD
        ("美系券商調升超微目標價至300美元", True),
        ("超微电脑股价大跌 年报再度延期", False),  # the mainland's 超微 is Super Micro
        ("超微大涨，股价创新高", False),  # full-width punctuation is not traditional text
        ("美超微再延後申報年報", False),
    ],
)
def test_chao_wei_is_amd_only_in_traditional_text(tagger: Tagger, text: str, amd: bool) -> None:
    assert ("AMD.US" in {m.ticker for m in tagger.tag(text).tickers}) is amd


def test_an_analysts_view_carries_no_thesis_stance(tagger: Tagger) -> None:
    view = "外資調升台積電目標價 看好AI晶片代工漲價、需求強勁"
    assert stances(tagger.tag(view)) == {}
    fact = "台积电上调AI芯片代工价格 需求强劲"
    assert stances(tagger.tag(fact)) == {"compute": "support"}


@pytest.mark.parametrize(
    "text",
    [
        "国产GPU流片成功？消息尚待证实",  # a rumour
        "Thread: why DeepSeek R1 changes everything for Nvidia and the AI trade",  # chatter
        "美国酝酿进一步加严半导体出口管制，国产替代有望提速",  # all of it hangs on a proposal
    ],
)
def test_rumours_chatter_and_proposals_are_no_thesis_evidence(tagger: Tagger, text: str) -> None:
    assert stances(tagger.tag(text)) == {}


def test_the_fact_behind_them_is(tagger: Tagger) -> None:
    assert stances(tagger.tag("国产GPU流片成功 良率达标")) == {"localization": "support"}


@pytest.mark.parametrize(
    "text",
    [
        "Nvidia strikes roughly $20 billion deal for Groq technology and team",
        "華潤微公告聘任新總裁，前任因工作調整離任",
    ],
)
def test_a_deal_or_a_new_face_reads_neutral_unless_an_event_says_which_way(
    tagger: Tagger, text: str
) -> None:
    assert tagger.tag(text).sentiment.label == "neu"  # "strikes", "離任" are not the news


def test_lexicon_false_is_read_from_the_taxonomy() -> None:
    text = '[[events]]\nid = "x"\ngroup = "people"\nlexicon = false\npatterns = ["hires"]\n'
    assert parse_taxonomy(text, origin="t").types[0].lexicon is False
    with pytest.raises(WatchlistError, match="lexicon"):
        parse_taxonomy(text.replace("false", '"no"'), origin="t")


def test_stance_from_cues_says_when_cue_words_speak() -> None:
    from thesiswatch.signals.watchlist import parse_watchlist
    from thesiswatch.watchlists import builtin_taxonomy

    def watchlist(mode: str) -> Tagger:
        wl = parse_watchlist(
            f'name = "t"\nstance_from_cues = "{mode}"\n'
            '[[theses]]\nid = "compute"\ntitle = "AI compute"\nsupport = ["orders"]\n'
            '[[companies]]\nid = "NVDA.US"\nname = "NVIDIA"\naliases = ["Nvidia"]\n'
            'theses = ["compute"]\n',
            origin="t.toml",
        )
        return Tagger(wl, default_scorer(), builtin_taxonomy())

    spoken = "Nvidia cuts guidance as AI chip orders slow"  # the event carries evidence
    silent = "Nvidia orders, explained"  # no event evidence
    assert stances(watchlist("fill").tag(silent)) == {"compute": "support"}
    assert stances(watchlist("fallback").tag(spoken))["compute"] == "challenge"  # events only
    assert stances(watchlist("fill").tag(spoken))["compute"] == "challenge"  # events win
    assert stances(watchlist("fallback").tag(silent)) == {"compute": "support"}
    assert stances(watchlist("off").tag(silent)) == {}
    with pytest.raises(WatchlistError, match="stance_from_cues"):
        watchlist("sometimes")


@pytest.mark.parametrize(
    ("text", "subjects"),
    [
        ("Xiaomi wires DeepSeek R1 into its XiaoAi voice assistant", {"1810.HK"}),
        ("OPPO to bake DeepSeek R1 into ColorOS assistant", set()),  # the actor is not ours
        ("小米接入DeepSeek", {"1810.HK"}),
    ],
)
def test_who_integrates_a_model_is_the_first_actor(
    tagger: Tagger, text: str, subjects: set[str]
) -> None:
    event = next(e for e in tagger.tag(text).events if e.type == "ai_integration")
    roles = dict(event.entities)
    assert {t for t, r in roles.items() if r == "subject"} == subjects
    assert roles["DEEPSEEK"] == "counterparty"


@pytest.mark.parametrize(
    "text",
    [
        "Council scraps H20 night bus in budget trims",
        "Ryzen takes the Lincoln handicap at 12-1",
        "Nio the puzzle hero returns in sequel out this summer",
        "九岁男孩小鹏夺得全国少儿围棋冠军",
        "记者深度求索：直播带货退货率为何居高不下",
        "华虹小区加装电梯项目完工",
        "村里举办割禾赛 百余农户同场竞技",
        "陕西苹果出口东南亚增长两成",
        "Fuyao Glass profit rises 20%; supplier to BYD and Tesla",
        "Alibaba unveils own AI inference chip to cut reliance on Nvidia",
        "英伟达竞争对手Cerebras提交上市申请",
        "某银行App上架苹果应用商店",
        "特斯拉FSD在華推送 與小鵬、理想同台競爭",
    ],
)
def test_namesakes_and_asides_get_no_ticker(tagger: Tagger, text: str) -> None:
    assert tagger.tag(text).tickers == ()


@pytest.mark.parametrize(
    ("text", "ticker"),
    [
        ("Nio cuts 10% of staff as losses widen", "NIO.US"),
        ("US requires licences for Nvidia's H20 chips to China", "NVDA.US"),
        ("AMD Ryzen laptop chips gain share", "AMD.US"),
        ("小鹏汽车3月交付量创新高", "XPEV.US"),
        ("深度求索发布新一代推理模型", "DEEPSEEK"),
        ("China regulator weighs probe into Apple App Store fees", "AAPL.US"),
    ],
)
def test_the_same_names_about_the_company_still_link(
    tagger: Tagger, text: str, ticker: str
) -> None:
    assert ticker in {m.ticker for m in tagger.tag(text).tickers}


@pytest.mark.parametrize(
    "text", ["网传小米YU7锁单暴增 官方未证实", "Podcast recap: what Nvidia's order surge means for TSMC"]
)
def test_a_rumour_or_an_opinion_reports_no_material_event(tagger: Tagger, text: str) -> None:
    assert all(e.materiality != "material" for e in tagger.tag(text).events)


def test_the_same_news_reported_as_fact_is_material(tagger: Tagger) -> None:
    assert any(e.materiality == "material" for e in tagger.tag("小米YU7锁单暴增").events)
