"""The event layer: every type of the taxonomy read in both languages, negation, roles and
relevance, entity-level sentiment, schedule items, cross-language stories and novelty, and
the taxonomy file's validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from event_examples import EXAMPLES

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.cluster import StoryClusterer, story_events
from thesiswatch.signals.events import parse_taxonomy
from thesiswatch.signals.sentiment import default_scorer
from thesiswatch.signals.tagger import Tagger
from thesiswatch.signals.watchlist import parse_watchlist
from thesiswatch.watchlists import builtin_taxonomy, load_watchlist


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(), default_scorer())


def test_every_type_of_the_taxonomy_has_examples() -> None:
    assert {t.id for t in builtin_taxonomy().types} == set(EXAMPLES)


@pytest.mark.parametrize(("etype", "lang"), [(t, lang) for t in EXAMPLES for lang in (0, 1)])
def test_each_event_type_is_read_in_both_languages(tagger: Tagger, etype: str, lang: int) -> None:
    text = EXAMPLES[etype][lang]
    assert etype in [e.type for e in tagger.tag(text).events], text


def test_traditional_chinese_reads_like_simplified(tagger: Tagger) -> None:
    assert next(e.type for e in tagger.tag("台積電上調全年營收指引").events) == "guidance_raise"


@pytest.mark.parametrize(
    ("text", "etype", "polarity"),
    [
        ("Xiaomi halts price cuts on its phones", "price_cut", 1),  # flipped: good for margins
        ("零跑汽车表示不再跟进降价", "price_cut", 1),
    ],
)
def test_a_negator_flips_events_that_say_so(tagger: Tagger, text: str, etype: str, polarity: int):
    events = {e.type: e for e in tagger.tag(text).events}
    assert events[etype].negated and events[etype].polarity == polarity


@pytest.mark.parametrize("text", ["TSMC denies report of order cuts", "台积电否认砍单传闻"])
def test_a_denial_is_not_the_event_it_denies(tagger: Tagger, text: str) -> None:
    tags = tagger.tag(text)
    assert "denial" in [e.type for e in tags.events]
    assert "order_cut" not in [e.type for e in tags.events if not e.negated]
    assert tags.sentiment.label == "pos"
    assert "compute" not in tags.thesis_map


@pytest.mark.parametrize(
    "text", ["Xiaomi to report quarterly results on March 24", "蔚来将于下月举办NIO Day"]
)
def test_schedule_items_read_neutral_and_claim_their_words(tagger: Tagger, text: str) -> None:
    tags = tagger.tag(text)
    assert tags.events[0].materiality == "schedule"
    assert all(e.type not in ("earnings_mixed", "earnings_beat", "product_launch")
               for e in tags.events)  # fmt: skip
    assert tags.sentiment.label == "neu"


def test_roles_subject_and_counterparty(tagger: Tagger) -> None:
    tags = tagger.tag("小米接入DeepSeek大模型")
    (event,) = tags.events
    assert dict(event.entities) == {"1810.HK": "subject", "DEEPSEEK": "counterparty"}
    relevance = dict(tags.relevance)
    assert relevance["1810.HK"] >= 80 and 50 <= relevance["DEEPSEEK"] < 80
    assert tags.ticker_ids == ["1810.HK", "DEEPSEEK"]


@pytest.mark.parametrize(
    ("text", "passing"),
    [
        ("Honor's new foldable costs less than an iPhone", "AAPL.US"),
        ("Alibaba's Qwen model rivals DeepSeek on coding tests", "DEEPSEEK"),
        ("英伟达概念股集体高开 服务器板块活跃", "NVDA.US"),
        ("Start-up hailed as China's Nvidia raises funds", "NVDA.US"),
        ("某新势力新车搭载速腾聚创激光雷达上市", "2498.HK"),
    ],
)
def test_passing_mentions_are_recorded_not_tagged(tagger: Tagger, text: str, passing: str) -> None:
    tags = tagger.tag(text)
    assert dict(tags.relevance)[passing] < 50
    assert passing not in tags.ticker_ids


def test_a_venue_is_passing_unless_it_is_the_subject(tagger: Tagger) -> None:
    assert (
        "AAPL.US"
        not in tagger.tag("DeepSeek climbs to first place on Apple's App Store in Japan").ticker_ids
    )
    assert "AAPL.US" in tagger.tag("Regulators look into Apple App Store commissions").ticker_ids


def test_subjects_moving_apart_read_neutral(tagger: Tagger) -> None:
    tags = tagger.tag("BYD deliveries rise 30% while NIO deliveries fall 20%")
    by_ticker = {t: s.label for t, s in tags.by_ticker}
    assert by_ticker == {"1211.HK": "pos", "NIO.US": "neg"}
    assert tags.sentiment.label == "neu"


def test_the_days_move_outweighs_the_beat_it_followed(tagger: Tagger) -> None:
    tags = tagger.tag("Lens Technology beats on profit but its shares drop 7% on weak outlook")
    assert tags.sentiment.label == "neg"


def test_news_about_no_covered_company_and_no_thesis_reads_neutral(tagger: Tagger) -> None:
    assert tagger.tag("Qualcomm revenue tops estimates").sentiment.label == "neu"
    meta = tagger.tag("Amazon lifts AI capex plan to $120 billion")
    assert meta.thesis_map == {"compute": "support"} and meta.sentiment.label == "pos"


def _stories(
    tagger: Tagger, clusterer: StoryClusterer, items: list[tuple[str, str, datetime]]
) -> list[str]:
    """Tag and cluster items in order; their story ids."""
    ids = []
    for item_id, title, when in items:
        tags = tagger.tag(title)
        ids.append(
            clusterer.assign(
                item_id,
                title,
                lang=tags.lang,
                tickers=tuple(tags.ticker_ids),
                published=when,
                events=story_events(tags),
            )
        )
    return ids


def test_stories_link_across_languages_by_subject_and_event(tagger: Tagger) -> None:
    clusterer = StoryClusterer()
    t0 = datetime(2026, 3, 1, 1, tzinfo=UTC)
    items = [
        ("a", "英伟达获得百亿订单", t0),
        ("b", "Nvidia wins order worth $1.4 billion", t0 + timedelta(hours=2)),
        ("c", "Nvidia shares fall 3%", t0 + timedelta(hours=1)),  # another event: another story
        ("d", "英伟达再获大额订单", t0 + timedelta(hours=30)),  # outside the link window
    ]
    ids = _stories(tagger, clusterer, items)
    assert ids[0] == ids[1] != ids[2]
    assert ids[3] not in (ids[0], ids[2])
    assert [clusterer.novelty(i) for i in "abcd"] == [100, 75, 100, 100]


BAD = [
    ('[[events]]\nid = "x"\ngroup = "nope"\n', "group"),
    ('[[events]]\nid = "x"\ngroup = "results"\npatterns = ["@missing ... up"]\n', "patterns"),
    ('[[events]]\nid = "x"\ngroup = "results"\npolarity = 2\n', "polarity"),
    (
        '[[events]]\nid = "x"\ngroup = "results"\ntheses = [{thesis = "t", stance = "maybe"}]\n',
        "theses",
    ),
    ('[[events]]\nid = "x"\ngroup = "results"\nsubjekt = "after"\n', "subjekt"),
]


@pytest.mark.parametrize(("text", "key"), BAD)
def test_a_bad_taxonomy_is_refused_with_one_line_naming_the_key(text: str, key: str) -> None:
    with pytest.raises(WatchlistError) as info:
        parse_taxonomy(text, origin="my-events.toml")
    message = str(info.value)
    assert message.startswith("my-events.toml: ") and key in message and "\n" not in message


def test_a_watchlist_adds_and_overrides_event_types(tmp_path) -> None:
    from thesiswatch.signals.events import Taxonomy

    own = parse_taxonomy(
        '[vocab]\nboom = ["kaboom"]\n[[events]]\nid = "explosion"\ngroup = "safety"\n'
        'polarity = -1\npatterns = ["@boom"]\n[[events]]\nid = "price_cut"\ngroup = "pricing"\n'
        'polarity = 1\npatterns = ["bargain"]\n',
        origin="own",
    )
    merged: Taxonomy = builtin_taxonomy().merged(own)
    assert merged.type("explosion").polarity == -1
    assert merged.type("price_cut").patterns == ("bargain",)
    assert len(merged.types) == len(builtin_taxonomy().types) + 1
    path = tmp_path / "w.toml"
    path.write_text(
        'name = "w"\n[[theses]]\nid = "t"\ntitle = "T"\n[[companies]]\nid = "ACME.US"\n'
        'name = "Acme"\naliases = ["Acme"]\n[event_vocab]\nboom = ["kaboom"]\n'
        '[[events]]\nid = "explosion"\ngroup = "safety"\npolarity = -1\npatterns = ["@boom"]\n',
        encoding="utf-8",
    )
    watchlist = load_watchlist(path)
    tags = Tagger(watchlist, default_scorer()).tag("Acme plant kaboom")
    assert [e.type for e in tags.events] == ["explosion"]
    assert tags.sentiment.label == "neg"
    assert parse_watchlist('name = "w"\n[[theses]]\nid = "t"\ntitle = "T"\n').taxonomy is None


def test_event_keys_link_only_across_languages(tagger: Tagger) -> None:
    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    items = [
        ("a", "Canberra bans DeepSeek on all state computers", t0),
        ("b", "Prague government bans DeepSeek in public offices", t0 + timedelta(minutes=40)),
        ("c", "堪培拉禁止在政府电脑上使用DeepSeek", t0 + timedelta(hours=1)),
    ]
    for _, title, _ in items:
        assert story_events(tagger.tag(title)) == ("DEEPSEEK@ban",), title
    ids = _stories(tagger, StoryClusterer(), items)
    assert ids[0] != ids[1]  # one language, two governments: two stories
    assert ids[2] in (ids[0], ids[1])  # the Chinese report joins a story of the same event
