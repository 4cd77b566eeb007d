"""The sentiment scorer: one test per rule, on example sentences written for these tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from thesiswatch.errors import ConfigError
from thesiswatch.signals.models import Sentiment
from thesiswatch.signals.sentiment import (
    LexiconScorer,
    Scorer,
    default_scorer,
    label_for,
    load_scorer,
)
from thesiswatch.signals.sentiment.lexicon import load_lexicon, parse_lexicon
from thesiswatch.signals.sentiment.scorer import RULES_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scorer() -> LexiconScorer:
    return LexiconScorer()


def label(scorer: LexiconScorer, title: str, summary: str = "", lang: str | None = None) -> str:
    return scorer.score(title, summary, lang=lang).label


# --- the contract -------------------------------------------------------------------------


def test_default_scorer_is_shared_and_follows_the_protocol() -> None:
    s = default_scorer()
    assert s is default_scorer()
    assert isinstance(s, Scorer)
    assert s.name == "tw-lex"
    assert s.version.startswith(f"{RULES_VERSION}.")


def test_result_records_scorer_and_version(scorer: LexiconScorer) -> None:
    result = scorer.score("英伟达股价大跌17%")
    assert isinstance(result, Sentiment)
    assert result.scorer == "tw-lex"
    assert result.version == scorer.version
    assert -1.0 <= result.score <= 1.0
    assert result.to_dict() == {"label": "neg", "score": round(result.score, 3)}


@pytest.mark.parametrize("title,summary", [("", ""), ("   ", ""), ("", "  \n ")])
def test_empty_text_is_neutral_zero(scorer: LexiconScorer, title: str, summary: str) -> None:
    result = scorer.score(title, summary)
    assert (result.label, result.score, result.evidence) == ("neu", 0.0, ())


def test_text_without_market_terms_is_neutral(scorer: LexiconScorer) -> None:
    assert label(scorer, "公司将于下周召开股东大会") == "neu"
    assert label(scorer, "The annual meeting will be held in Shanghai on Friday") == "neu"


def test_label_for_band() -> None:
    assert label_for(0.5) == "pos"
    assert label_for(-0.5) == "neg"
    assert label_for(0.0) == "neu"


# --- Chinese ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("某芯片股今日涨停", "pos"),
        ("台积电第四季度营收超预期", "pos"),
        ("大股东计划减持公司股份", "neg"),
        ("券商下调评级至中性", "neg"),
        ("公司因涉嫌信息披露违规被证监会立案调查", "neg"),
        ("英伟达股价大跌17%", "neg"),
    ],
)
def test_zh_lexicon_terms(scorer: LexiconScorer, text: str, expected: str) -> None:
    assert label(scorer, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("三季度亏损收窄", "pos"),  # loss narrows: good news
        ("上半年亏损同比大幅收窄", "pos"),  # same, with words in between
        ("亏损进一步扩大", "neg"),
        ("今日跌幅收窄", "pos"),
        ("利空出尽，股价企稳", "pos"),
        ("一季度业绩不及预期", "neg"),
        ("公司年报扭亏为盈", "pos"),
        ("原材料成本下降", "pos"),  # a cost falling is good
        ("原材料成本大幅上升", "neg"),
    ],
)
def test_zh_polarity_shifts(scorer: LexiconScorer, text: str, expected: str) -> None:
    assert label(scorer, text) == expected


def test_zh_negation_flips(scorer: LexiconScorer) -> None:
    plain = scorer.score("分析师看好公司前景")
    negated = scorer.score("分析师并不看好公司前景")
    assert plain.label == "pos"
    assert negated.label == "neg"
    assert "并不看好" in negated.evidence
    assert label(scorer, "公司未能实现盈利") == "neg"


def test_zh_negation_does_not_cross_a_clause(scorer: LexiconScorer) -> None:
    assert label(scorer, "市场没有恐慌，指数大涨") == "pos"
    assert label(scorer, "订单没有减少") == "pos"


def test_zh_words_that_only_look_like_negation(scorer: LexiconScorer) -> None:
    # 不断 and 非常 contain 不 / 非 but do not negate
    assert label(scorer, "营收不断增长") == "pos"
    assert label(scorer, "订单非常火爆") == "pos"


def test_zh_numbers_carry_direction_and_size(scorer: LexiconScorer) -> None:
    small = scorer.score("营收同比增长3%")
    big = scorer.score("营收同比增长35%")
    down = scorer.score("净利润同比下降17%")
    assert small.label == big.label == "pos"
    assert big.score > small.score
    assert down.label == "neg"
    assert any("35%" in e for e in big.evidence)
    assert label(scorer, "营收同比增长-12%") == "neg"  # a negative growth figure


def test_zh_intensifiers_scale(scorer: LexiconScorer) -> None:
    plain = scorer.score("股价下跌")
    strong = scorer.score("股价大幅下跌")
    weak = scorer.score("股价小幅下跌")
    assert strong.score < plain.score < weak.score < 0


def test_zh_contrast_favours_the_clause_after_but(scorer: LexiconScorer) -> None:
    assert label(scorer, "营收小幅增长，但净利润大幅下滑") == "neg"
    assert label(scorer, "营收下滑，但利润大幅增长") == "pos"


def test_zh_comparison_with_last_year(scorer: LexiconScorer) -> None:
    # a loss a year ago, a profit now: positive; profit then, loss now: negative
    assert label(scorer, "本季度实现净利润500万元，而去年同期为亏损800万元") == "pos"
    assert label(scorer, "营业利润为300万元，低于去年同期的900万元") == "neg"


def test_zh_questions_assert_less(scorer: LexiconScorer) -> None:
    statement = scorer.score("明天会涨停")
    question = scorer.score("明天会涨停吗？")
    assert 0 < question.score < statement.score


def test_zh_later_sentences_of_a_long_report_weigh_less(scorer: LexiconScorer) -> None:
    # the opening sentence carries the news; figures deep in the body weigh far less
    filler = "公司主要从事工业阀门的研发、生产和销售，产品覆盖多个行业。" * 6
    tail = "股价大跌，净利润大幅下滑，公司被立案调查。"
    assert label(scorer, "公司营收小幅增长。" + filler + tail) == "pos"
    assert label(scorer, "公司营收小幅增长。" + tail) == "neg"  # near the lead it counts


def test_zh_second_line_of_a_short_post_still_counts(scorer: LexiconScorer) -> None:
    # position decay is by characters read, not by sentence count: a two-line post's
    # second line is read almost as the first
    alone = scorer.score("今天大跌。")
    second = scorer.score("平盘。今天大跌。")
    assert alone.score < second.score < 0.85 * alone.score


def test_zh_boilerplate_sentences_count_nothing(scorer: LexiconScorer) -> None:
    # a disclaimer and a "小知识" box are template text, whatever words they contain
    disclaimer = "本公司董事会保证本公告内容不存在虚假记载，并对其内容的真实性承担法律责任。"
    assert label(scorer, "公司召开年度股东大会。" + disclaimer) == "neu"
    primer = "小知识：融资余额增加反映做多情绪强化，融资余额减少反映看空情绪强化。"
    assert label(scorer, "某公司发布融资融券数据。" + primer) == "neu"
    # the news sentence before the boilerplate still counts
    assert label(scorer, "公司股价大涨。" + disclaimer) == "pos"


def test_zh_data_attribution_is_boilerplate_only_in_the_body(scorer: LexiconScorer) -> None:
    # "数据显示" leading the text introduces the news; deep in a report it introduces a table
    assert label(scorer, "数据显示，公司一季度净利润同比大幅增长") == "pos"
    body = "公司召开年度股东大会，审议通过全部议案。最新财报数据显示，净利润同比大幅增长。"
    assert label(scorer, body) == "neu"
    # a forum poster's hedge is not a disclaimer
    assert label(scorer, "看今天是否继续下跌，确定了赶紧跑，仅供参考") == "neg"


def test_zh_routine_distribution_notice_is_neutral(scorer: LexiconScorer) -> None:
    assert label(scorer, "某公司公告2023年度权益分派方案，每10股派发现金红利2元。") == "neu"


def test_zh_margin_trading_gross_figures_carry_no_direction(scorer: LexiconScorer) -> None:
    assert label(scorer, "当日融资买入1200万元，融资偿还1100万元") == "neu"
    assert label(scorer, "当日融资净偿还500万元") == "neg"


def test_zh_signed_contracts_and_partnerships_are_good_news(scorer: LexiconScorer) -> None:
    assert label(scorer, "公司与一家汽车厂商签署了长期供货合同") == "pos"
    assert label(scorer, "两家公司达成战略合作") == "pos"
    assert label(scorer, "公司赢得一份海外订单") == "pos"


def test_zh_forum_slang_polarity(scorer: LexiconScorer) -> None:
    assert label(scorer, "又被割韭菜了") == "neg"
    assert label(scorer, "这就是个垃圾股") == "neg"
    # a transliterated name or a harvester is not forum slang
    assert label(scorer, "斯托克曼百货在里加开设新店") == "neu"
    assert label(scorer, "公司生产收割机和切割设备") == "neu"


def test_traditional_chinese_scores_like_simplified(scorer: LexiconScorer) -> None:
    trad = scorer.score("台積電營收超預期，股價大漲")
    simp = scorer.score("台积电营收超预期，股价大涨")
    assert trad.label == "pos"
    assert trad.score == pytest.approx(simp.score)
    assert "超预期" in trad.evidence


def test_mixed_chinese_with_english_names(scorer: LexiconScorer) -> None:
    assert label(scorer, "DeepSeek发布R1模型，NVIDIA股价暴跌") == "neg"
    assert label(scorer, "AMD季度营收超预期") == "pos"
    # English market words inside Chinese text are read too
    result = scorer.score("英伟达盘后 shares plunge 17%")
    assert result.label == "neg"
    assert "shares plunge" in " ".join(result.evidence) or "plunge" in result.evidence


# --- English ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Nvidia beats estimates and raises guidance", "pos"),
        ("TSMC shares hit a record high", "pos"),
        ("Chipmaker slumps after profit warning", "neg"),
        ("Regulator opens probe into accounting fraud at supplier", "neg"),
        ("Analyst downgrades AMD to underperform", "neg"),
        ("Company to hold its annual general meeting in June", "neu"),
    ],
)
def test_en_lexicon_terms(scorer: LexiconScorer, text: str, expected: str) -> None:
    assert label(scorer, text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Quarterly net loss narrowed to $3 million", "pos"),
        ("Operating loss widened in the third quarter", "neg"),
        ("The group cut costs and reduced its debt", "pos"),
        ("Raw material costs rose sharply", "neg"),
        ("Revenue fell 12% in the quarter", "neg"),
        ("The company swung to a net loss in 2024", "neg"),
        ("The company swung to a profit in 2024", "pos"),
        ("Operating profit was $9 million, compared with a loss of $2 million", "pos"),
        ("Operating profit was $5 million, compared with $8 million a year ago", "neg"),
        ("Net sales were $120 million, up from $100 million", "pos"),
    ],
)
def test_en_shifts_and_comparisons(scorer: LexiconScorer, text: str, expected: str) -> None:
    assert label(scorer, text) == expected


def test_en_negation(scorer: LexiconScorer) -> None:
    assert label(scorer, "Demand is strong") == "pos"
    assert label(scorer, "Demand is not strong") == "neg"
    assert label(scorer, "The merger did not fail") == "pos"
    result = scorer.score("The launch failed to impress investors")
    assert result.label == "neg"


def test_en_numbers_and_intensifiers(scorer: LexiconScorer) -> None:
    small = scorer.score("Shares rose 2%")
    big = scorer.score("Shares rose 40%")
    assert 0 < small.score < big.score
    assert scorer.score("Shares fell sharply").score < scorer.score("Shares fell").score
    assert scorer.score("Shares fell slightly").score > scorer.score("Shares fell").score
    # "5-10%" is a range, not minus ten percent
    assert label(scorer, "Sales are expected to increase 5-10%") == "pos"


def test_en_inflections_are_found(scorer: LexiconScorer) -> None:
    assert label(scorer, "Stocks tumbling") == "neg"
    assert label(scorer, "Chip stocks rallied") == "pos"


def test_en_concession_counts_less(scorer: LexiconScorer) -> None:
    assert label(scorer, "Profit rises despite weak demand") == "pos"
    assert label(scorer, "Revenue grew, but margins collapsed") == "neg"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Brewer agrees to buy craft label for $2bn", "pos"),
        ("Miner sells copper unit to rival", "pos"),
        ("Drugmaker partners with biotech on cancer therapy", "pos"),
        ("Fintech start-up raises $50m in new funding round", "pos"),
        # another word decides: the event is background
        ("Miner sells copper unit at a steep loss", "neg"),
        ("Retailer to sell stores as sales slump", "neg"),
    ],
)
def test_en_headline_events(scorer: LexiconScorer, text: str, expected: str) -> None:
    assert label(scorer, text, lang="en") == expected


def test_en_events_are_background_in_a_long_sentence(scorer: LexiconScorer) -> None:
    long = (
        "The company, which makes packaging for food and drink producers in four countries, "
        "said the unit it sells to the group employs about 300 people"
    )
    assert label(scorer, long, lang="en") == "neu"


def test_en_hit_by_and_in_the_red_are_negative(scorer: LexiconScorer) -> None:
    assert label(scorer, "Airline profit hit by fuel costs", lang="en") == "neg"
    assert label(scorer, "Carmaker's China unit in red for second year", lang="en") == "neg"
    assert label(scorer, "Time to sell the chip stocks?", lang="en") == "neg"


def test_en_only_text_does_not_need_lang_hint(scorer: LexiconScorer) -> None:
    assert scorer.score("Nvidia shares plunge", lang=None).label == "neg"
    assert scorer.score("Nvidia shares plunge", lang="en").label == "neg"
    assert scorer.score("英伟达暴跌", lang="zh-Hans").label == "neg"


# --- headline and summary -----------------------------------------------------------------


def test_headline_dominates_summary(scorer: LexiconScorer) -> None:
    result = scorer.score("Nvidia beats estimates", "Some analysts flagged weak margins.")
    assert result.label == "pos"
    result = scorer.score("台积电股价大跌", "部分分析师仍然看好。")
    assert result.label == "neg"


def test_summary_counts_when_headline_is_plain(scorer: LexiconScorer) -> None:
    assert label(scorer, "Nvidia quarterly results", "Revenue beat estimates.") == "pos"
    assert label(scorer, "比亚迪发布公告", "公司被立案调查。") == "neg"


def test_evidence_lists_matched_terms_strongest_first(scorer: LexiconScorer) -> None:
    result = scorer.score("公司股价涨停，营收小幅增长")
    assert result.evidence[0] == "涨停"
    assert "小幅增长" in result.evidence
    assert all(isinstance(e, str) and e for e in result.evidence)
    assert len(result.evidence) <= 8


def test_long_text_evidence_is_capped(scorer: LexiconScorer) -> None:
    text = "，".join(["股价大涨", "订单增加", "利润下滑", "成本上升", "评级上调"] * 5)
    assert len(scorer.score(text).evidence) <= 8


# --- lexicon files ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_packaged_lexicons_load(lang: str) -> None:
    lex = load_lexicon(lang)
    assert len(lex.entries) > 500
    assert lex.lengths == tuple(sorted(lex.lengths, reverse=True))


def test_lexicon_rejects_duplicates_and_bad_lines() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        parse_lexicon("涨停\tpol\t3\n涨停\tpol\t2\n", origin="t.tsv", words=False)
    with pytest.raises(ValueError, match=r"t\.tsv:1"):
        parse_lexicon("涨停\tgood\t3\n", origin="t.tsv", words=False)
    with pytest.raises(ValueError, match="not a number"):
        parse_lexicon("涨停\tpol\tbig\n", origin="t.tsv", words=False)


def test_version_changes_with_lexicon_text() -> None:
    a = parse_lexicon("涨停\tpol\t3\n", origin="a", words=False)
    b = parse_lexicon("涨停\tpol\t2.5\n", origin="b", words=False)
    assert a.digest != b.digest


# --- plug-in hook -------------------------------------------------------------------------


class _Constant:
    name = "constant"
    version = "0"

    def score(self, title: str, summary: str = "", *, lang: str | None = None) -> Sentiment:
        return Sentiment(label="pos", score=1.0, scorer=self.name, version=self.version)


def make_constant() -> _Constant:
    return _Constant()


def make_nothing() -> object:
    return object()


def make_broken() -> object:
    raise RuntimeError("model file missing")


def test_load_scorer_builds_a_plugin() -> None:
    plugged = load_scorer(f"{__name__}:make_constant")
    assert plugged.name == "constant"
    assert plugged.score("anything").label == "pos"


@pytest.mark.parametrize("spec", ["", "default", "tw-lex"])
def test_load_scorer_builtin_names(spec: str) -> None:
    assert load_scorer(spec) is default_scorer()


@pytest.mark.parametrize(
    "spec,message",
    [
        ("no_colon_here", "expected 'module:factory'"),
        ("surely_missing_module_xyz:make", "cannot import"),
        (f"{__name__}:missing_factory", "has no"),
        (f"{__name__}:ROOT", "not callable"),
        (f"{__name__}:make_nothing", "lacks"),
        (f"{__name__}:make_broken", "factory failed: model file missing"),
    ],
)
def test_load_scorer_errors_are_one_line_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_scorer(spec)
    assert "\n" not in str(info.value)


# --- cost: snownlp stays out of paths that do not need it ---------------------------------


def _modules_after(code: str) -> str:
    probe = textwrap.dedent(code) + "\nimport sys\nprint('snownlp' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_default_scorer_never_imports_snownlp() -> None:
    code = """
        from thesiswatch.signals.sentiment import default_scorer
        s = default_scorer()
        s.score("Nvidia shares plunge")
        s.score("英伟达股价大跌17%")
        s.score("台積電營收超預期")
    """
    assert _modules_after(code) == "False"


def test_bayes_option_imports_snownlp_only_for_chinese() -> None:
    code = """
        from thesiswatch.signals.sentiment import LexiconScorer
        s = LexiconScorer(use_bayes=True)
        s.score("Nvidia shares plunge")
        s.score("公司将于下周召开股东大会")
    """
    # English never loads it; a Chinese text with no lexicon evidence does
    assert _modules_after(code) == "True"
    english_only = """
        from thesiswatch.signals.sentiment import LexiconScorer
        LexiconScorer(use_bayes=True).score("Nvidia shares plunge")
    """
    assert _modules_after(english_only) == "False"


def test_advanced_as_a_technology_adjective_is_not_a_price_move(scorer: LexiconScorer) -> None:
    tech = scorer.score("US curbs sales of advanced chips to China")
    assert "advanced" not in " ".join(tech.evidence)
    moved = scorer.score("Chip shares advanced 3% in early trade")
    assert moved.label == "pos"
