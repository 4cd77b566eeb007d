"""Alert rules on crafted histories: each rule fires, does not fire, and fires once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from thesiswatch.alerts import (
    RENAMED_RULES,
    History,
    KeywordRule,
    NewItem,
    RuleSettings,
    evaluate,
    replay,
)
from thesiswatch.alerts.ledger import story_alert_id
from thesiswatch.alerts.severity import DEFAULT_USD_PER, amount_usd_millions
from thesiswatch.errors import ConfigError
from thesiswatch.signals.models import Event, Sentiment, Tags, ThesisStance, TickerMention

NOW = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
QUIET = RuleSettings(enabled=frozenset({"event", "thesis", "risk", "keyword"}))


def ev(
    type: str,
    *subjects: str,
    counterparty: tuple[str, ...] = (),
    materiality: str = "material",
    magnitude: float | None = None,
    evidence: str = "plunge",
) -> Event:
    return Event(
        type=type,
        entities=tuple((t, "subject") for t in subjects)
        + tuple((t, "counterparty") for t in counterparty),
        evidence=(evidence,),
        materiality=materiality,
        magnitude=magnitude,
    )


def item(
    id: str,
    title: str = "Nvidia shares plunge 17%",
    *,
    score: float = 0.0,
    tickers: tuple[str, ...] = ("NVDA.US",),
    theses: tuple[tuple[str, str, float], ...] = (),
    events: tuple[Event, ...] | None = None,
    relevance: tuple[tuple[str, int], ...] | None = None,
    cluster: str | None = None,
    source: str = "Reuters",
    minutes_ago: float = 5,
    lang: str = "en",
    evidence: tuple[str, ...] = (),
    summary: str = "",
) -> NewItem:
    label = "pos" if score > 0.1 else "neg" if score < -0.1 else "neu"
    if events is None:
        events = (
            (ev("shares_down", *tickers, magnitude=17.0, materiality="minor"),) if tickers else ()
        )
    return NewItem(
        id=id,
        title=title,
        summary=summary,
        url=f"https://example.com/{id}",
        source=source,
        lang=lang,
        published=NOW - timedelta(minutes=minutes_ago),
        tags=Tags(
            lang=lang,
            tickers=tuple(TickerMention(ticker=t) for t in tickers),
            theses=tuple(
                ThesisStance(thesis=t, stance=s, strength=w, evidence=("export controls",))  # type: ignore[arg-type]
                for t, s, w in theses
            ),
            sentiment=Sentiment(label=label, score=score, evidence=evidence),  # type: ignore[arg-type]
            events=events,
            relevance=relevance if relevance is not None else tuple((t, 90) for t in tickers),
        ),
        cluster_id=cluster or f"c-{id}",
    )


# --- event: materiality ------------------------------------------------------------------------


def test_a_big_share_move_of_a_covered_subject_is_critical() -> None:
    alerts = evaluate([item("a")], History(), QUIET, now=NOW)
    assert len(alerts) == 1
    a = alerts[0]
    assert (a.rule, a.severity, a.tickers, a.item_ids) == (
        "event:shares_down",
        "critical",
        ("NVDA.US",),
        ("a",),
    )
    assert a.message.startswith(
        'event shares_down: NVDA.US (subject); evidence "plunge"; critical: move 17% >= 5%'
    )
    assert a.id == story_alert_id("c-a", "critical")
    assert a.created == "2025-01-27T15:00:00+00:00"


def test_minor_events_passing_mentions_and_uncovered_names_do_not_alert() -> None:
    small = item("a", events=(ev("shares_down", "NVDA.US", magnitude=1.5, materiality="minor"),))
    assert evaluate([small], History(), QUIET, now=NOW) == []
    passing = item("b", events=(ev("order_win", "NVDA.US"),), relevance=(("NVDA.US", 30),))
    assert evaluate([passing], History(), QUIET, now=NOW) == []
    nobody = item("c", tickers=(), events=(ev("order_win"),))
    assert evaluate([nobody], History(), QUIET, now=NOW) == []
    negated = replace(ev("guidance_cut", "NVDA.US"), negated=True)
    assert evaluate([item("d", events=(negated,))], History(), QUIET, now=NOW) == []


@pytest.mark.parametrize(
    "schedule", ["results_date", "event_date", "shareholder_meeting", "trading_halt",
                 "index_change", "routine_filing", "trading_debut"],
)  # fmt: skip
def test_schedule_items_never_alert(schedule: str) -> None:
    events = (
        ev(schedule, "NVDA.US", materiality="schedule"),
        ev("acquisition", "NVDA.US"),  # "halted pending an acquisition": still procedure
    )
    support = (("compute", "support", 1.0), ("risk", "support", 1.0))
    items = [
        item("a", events=events, theses=support),
        item("b", events=events[::-1], theses=support, cluster="s2"),
    ]
    assert evaluate(items, History(), QUIET, now=NOW) == []


def test_severity_table_applied() -> None:
    def severity(*events: Event, title: str = "x") -> str | None:
        alerts = evaluate([item("a", title, events=events)], History(), QUIET, now=NOW)
        return alerts[0].severity if alerts else None

    assert severity(ev("guidance_cut", "NVDA.US")) == "critical"
    assert severity(ev("export_control_tighten", "NVDA.US")) == "critical"
    assert severity(ev("export_control_tighten", counterparty=("NVDA.US",))) == "warning"
    assert severity(ev("limit_down", "NVDA.US", materiality="material")) == "critical"
    assert severity(ev("order_win", "NVDA.US")) == "warning"
    falls = ev("shares_down", "NVDA.US", materiality="minor", evidence="falls")
    assert severity(falls, title="Nvidia falls 9% as rules tighten") == "critical"
    assert severity(falls, title="Nvidia falls as sales rise 9%") is None
    assert severity(ev("accident", "NVDA.US")) == "warning"
    assert severity(ev("accident", "NVDA.US"), title="Two killed in crash") == "critical"
    assert severity(ev("share_placement", "NVDA.US"), title="Raises HK$2 billion") == "warning"
    assert severity(ev("share_placement", "NVDA.US"), title="配售新股募资约5亿美元") == "critical"
    assert severity(ev("stake_sale", "NVDA.US"), title="Sells a 6% stake") == "critical"
    table = RuleSettings.from_config(
        {"severity": {"critical": ["order_win"], "critical_move_pct": 20}}
    )
    [a] = evaluate([item("a", events=(ev("order_win", "NVDA.US"),))], History(), table, now=NOW)
    assert a.severity == "critical"
    assert evaluate([item("b")], History(), table, now=NOW) == []  # 17 % < 20 %: minor again


def test_amounts_read_from_the_text() -> None:
    assert amount_usd_millions("a US$1.2 billion placement", DEFAULT_USD_PER) == 1200.0
    assert amount_usd_millions("募资39亿港元", DEFAULT_USD_PER) == 499.2
    assert amount_usd_millions("sold 10 million shares", DEFAULT_USD_PER) is None


def test_one_story_in_many_sources_and_languages_alerts_once() -> None:
    story = [
        item("en1", cluster="s1", source="Reuters"),
        item("zh1", "英伟达股价大跌17%", cluster="s1", source="财联社", lang="zh"),
        item("en2", cluster="s1", source="Bloomberg"),
    ]
    first = evaluate(story, History(), QUIET, now=NOW)
    assert len(first) == 1
    assert set(first[0].item_ids) == {"en1", "zh1", "en2"}
    assert "Reuters" in first[0].message and "财联社" in first[0].message
    # Re-running (a restart, a replay) raises nothing new: the id is already known.
    assert evaluate(story, History(recent_alerts=first), QUIET, now=NOW) == []
    # A later item of the same story does not re-alert, even with every cooldown off.
    off = replace(QUIET, cooldown_minutes={"event": 0})
    later = [item("en3", cluster="s1", source="CNBC", minutes_ago=0)]
    assert evaluate(later, History(recent_alerts=first), off, now=NOW + timedelta(hours=2)) == []


def test_a_repeat_in_another_language_or_source_does_not_alert_again() -> None:
    first = evaluate([item("en1", cluster="s1")], History(), QUIET, now=NOW)
    # Not clustered with the first (another story id): the (ticker, event type) cooldown holds.
    repeat = item("zh1", "英伟达股价大跌17%", cluster="s9", source="财联社", lang="zh")
    assert (
        evaluate([repeat], History(recent_alerts=first), QUIET, now=NOW + timedelta(hours=1)) == []
    )


def test_another_story_the_clusterer_linked_is_not_a_repeat() -> None:
    ban = (ev("ban", "DEEPSEEK"),)
    first = item("a", "Taiwan bars government agencies from using DeepSeek", events=ban,
                 tickers=("DEEPSEEK",), cluster="s")  # fmt: skip
    [alert] = evaluate([first], History(), QUIET, now=NOW)
    off, later = replace(QUIET, cooldown_minutes={"event": 0}), NOW + timedelta(hours=3)
    czech = item("b", "Czech ministries told to remove the Chinese chatbot app",
                 events=ban, tickers=("DEEPSEEK",), cluster="s", minutes_ago=-175)  # fmt: skip
    assert len(evaluate([czech], History(recent_alerts=[alert]), off, now=later)) == 1
    # The same story in another language, or a near-identical title, is a repeat.
    chinese = item("c", "台湾禁止政府机关使用DeepSeek", events=ban, tickers=("DEEPSEEK",),
                   cluster="s", lang="zh", minutes_ago=-175)  # fmt: skip
    again = replace(czech, id="d", title="Taiwan bars government agencies from DeepSeek")
    for repeat in (chinese, again):
        assert evaluate([repeat], History(recent_alerts=[alert]), off, now=later) == []


def test_same_story_escalates_only_when_more_severe() -> None:
    order = (ev("order_win", "NVDA.US"),)
    first = evaluate([item("a", events=order, cluster="s")], History(), QUIET, now=NOW)
    assert first[0].severity == "warning"
    same = evaluate(
        [item("b", events=(ev("partnership", "NVDA.US"),), cluster="s")],
        History(recent_alerts=first),
        replace(QUIET, cooldown_minutes={"event": 0}),
        now=NOW + timedelta(hours=2),
    )
    assert same == []
    worse = evaluate(
        [item("c", cluster="s")],
        History(recent_alerts=first),
        QUIET,
        now=NOW + timedelta(hours=2),
    )
    assert len(worse) == 1 and worse[0].severity == "critical" and worse[0].id != first[0].id


def test_old_items_of_a_backfill_raise_no_story_alerts() -> None:
    old = item("a", minutes_ago=60 * 72)
    assert len(evaluate([old], History(), QUIET, now=NOW)) == 1  # no age limit by default
    limited = replace(QUIET, max_item_age_hours=48)
    assert evaluate([old], History(), limited, now=NOW) == []


def test_muted_tickers_raise_nothing() -> None:
    muted = History(muted={"NVDA.US": NOW + timedelta(hours=1)})
    assert evaluate([item("a")], muted, QUIET, now=NOW) == []
    expired = History(muted={"NVDA.US": NOW - timedelta(hours=1)})
    assert len(evaluate([item("a")], expired, QUIET, now=NOW)) == 1


# --- cooldown ----------------------------------------------------------------------------------


def test_cooldown_per_ticker_and_event_type() -> None:
    order = (ev("order_win", "NVDA.US"),)
    first = evaluate([item("a", events=order, cluster="s1")], History(), QUIET, now=NOW)
    assert len(first) == 1
    history = History(recent_alerts=first)
    later = NOW + timedelta(minutes=10)
    # Another NVDA order story 10 minutes later: (NVDA.US, order_win) is cooling down.
    other = item("b", "Nvidia lands another order", events=order, cluster="s2")
    assert evaluate([other], history, QUIET, now=later) == []
    # A different material event about the same name in the same hour alerts.
    probe = item("c", "China opens Nvidia probe", events=(ev("probe", "NVDA.US"),), cluster="s3")
    assert len(evaluate([probe], history, QUIET, now=later)) == 1
    # The same event type for AMD is not cooling.
    amd = item("d", "AMD wins order", tickers=("AMD.US",), events=(ev("order_win", "AMD.US"),),
               cluster="s4")  # fmt: skip
    assert len(evaluate([amd], history, QUIET, now=later)) == 1
    # After the cooldown (720 min by default) NVDA orders alert again.
    after = NOW + timedelta(minutes=721)
    assert len(evaluate([replace(other, published=after)], history, QUIET, now=after)) == 1
    # A backlog read in one poll is cooled by item time: a day apart, both alert.
    backlog = [
        replace(item("f", events=order, cluster="s6"), published=NOW - timedelta(days=2)),
        replace(item("g", events=order, cluster="s7"), published=NOW - timedelta(days=1)),
    ]
    assert len(evaluate(backlog, History(), QUIET, now=NOW)) == 2
    # A repeat read with another main event is quiet when the first alert named that event.
    both = item("h", events=(ev("earnings_miss", "AMD.US"), ev("guidance_cut", "AMD.US")),
                tickers=("AMD.US",), cluster="s8")  # fmt: skip
    [cut] = evaluate([both], History(), QUIET, now=NOW)
    assert cut.rule == "event:guidance_cut" and "also event earnings_miss: AMD.US" in cut.message
    repeat = item("i", events=(ev("earnings_miss", "AMD.US"),), tickers=("AMD.US",), cluster="s9")
    assert evaluate([repeat], History(recent_alerts=[cut]), QUIET, now=later) == []
    # A more severe alert breaks through the cooldown.
    assert len(evaluate([item("e", cluster="s5")], history, QUIET, now=later)) == 1


def test_two_different_events_about_one_name_in_one_batch_both_alert() -> None:
    batch = [
        item("a", "Nvidia takes a quarterly charge", events=(ev("earnings_miss", "NVDA.US"),),
             cluster="s1"),
        item("b", "Nvidia plans large investment", events=(ev("investment", "NVDA.US"),),
             cluster="s2"),
        item("c", "Nvidia lands order", events=(ev("investment", "NVDA.US"),), cluster="s3"),
    ]  # fmt: skip
    assert [a.rule for a in evaluate(batch, History(), QUIET, now=NOW)] == [
        "event:earnings_miss",
        "event:investment",
    ]
    no_cooldown = replace(QUIET, cooldown_minutes={"event": 0})
    assert len(evaluate(batch, History(), no_cooldown, now=NOW)) == 3


def test_thesis_cooldown_is_keyed_by_thesis_and_event_type() -> None:
    def capex(id: str, kind: str) -> NewItem:
        it = item(id, f"{id} AI capex", tickers=(), events=(ev(kind),), cluster=id)
        stance = ThesisStance(thesis="compute", stance="support", evidence=(f"{kind}: capex",))
        return replace(it, tags=replace(it.tags, theses=(stance,)))

    first = evaluate([capex("meta", "capex_raise")], History(), QUIET, now=NOW)
    assert [a.rule for a in first] == ["thesis:capex_raise"]
    later, history = NOW + timedelta(minutes=10), History(recent_alerts=first)
    assert evaluate([capex("msft", "capex_raise")], history, QUIET, now=later) == []
    [dc] = evaluate([capex("oracle", "datacenter_build")], history, QUIET, now=later)
    assert dc.rule == "thesis:datacenter_build" and dc.severity == "info"


def test_an_item_with_no_event_read_alerts_on_strong_sentiment_about_a_covered_name() -> None:
    unread = item("a", "Nvidia rattled", score=-0.8, events=(), evidence=("rattled",))
    [a] = evaluate([unread], History(), QUIET, now=NOW)
    assert (a.rule, a.severity) == ("event", "warning")
    assert a.message.startswith('event (none read): NVDA.US (subject); evidence "rattled"')
    assert evaluate([replace(unread, id="b", cluster_id="s2", tags=replace(unread.tags,
                    sentiment=Sentiment(label="neg", score=-0.4)))], History(), QUIET,
                    now=NOW) == []  # fmt: skip
    off = replace(QUIET, unread_event_sentiment=0.0)
    assert evaluate([unread], History(), off, now=NOW) == []


# --- thesis and risk ---------------------------------------------------------------------------


def test_thesis_challenge_fires_and_support_needs_strength() -> None:
    challenge = item(
        "a", "Microsoft cuts AI capex", tickers=("MSFT",), events=(),
        theses=(("compute", "challenge", 0.9),),
    )  # fmt: skip
    [a] = evaluate([challenge], History(), QUIET, now=NOW)
    assert (a.rule, a.thesis, a.stance, a.severity) == ("thesis", "compute", "challenge", "warning")
    assert '"export controls"' in a.message and "0.90" in a.message

    weak = item("b", "Some capex news", tickers=("MSFT",), events=(),
                theses=(("compute", "support", 0.5),))  # fmt: skip
    assert evaluate([weak], History(), QUIET, now=NOW) == []
    strong = item(
        "c", "TSMC adds CoWoS capacity", tickers=("2330.TT",), events=(),
        theses=(("compute", "support", 0.9),),
    )  # fmt: skip
    [s] = evaluate([strong], History(), QUIET, now=NOW)
    assert (s.rule, s.stance, s.severity) == ("thesis", "support", "info")

    off = replace(QUIET, thesis_challenge=False)
    assert evaluate([challenge], History(), off, now=NOW) == []
    # A cue about no covered company is not evidence enough.
    cue = item("d", "Intel trims spending", tickers=(), theses=(("compute", "challenge", 1.0),))
    assert evaluate([cue], History(), QUIET, now=NOW) == []


def test_risk_fires_when_a_listed_risk_materialises() -> None:
    risky = item(
        "a",
        "US tightens chip export controls",
        tickers=("NVDA.US",),
        events=(),
        theses=(("risk", "support", 1.0), ("localization", "support", 0.6)),
    )
    [a] = evaluate([risky], History(), QUIET, now=NOW)
    # A listed risk is thesis evidence: info (docs/evaluation.md); an event about the covered
    # name raises its own event alert at its own severity.
    assert (a.rule, a.thesis, a.stance, a.severity) == ("risk", "risk", "support", "info")
    assert "risk" in a.message
    receding = item("b", "Export curbs eased", events=(), theses=(("risk", "challenge", 1.0),))
    assert evaluate([receding], History(), QUIET, now=NOW) == []


def test_one_alert_per_story_lists_every_reason() -> None:
    both = item("a", theses=(("compute", "challenge", 0.9),), evidence=("plunge",))
    alerts = evaluate([both], History(), QUIET, now=NOW)
    assert len(alerts) == 1
    assert alerts[0].rule == "event:shares_down"
    assert alerts[0].thesis == "compute" and alerts[0].stance == "challenge"
    assert "thesis compute: challenge" in alerts[0].message


# --- keyword -----------------------------------------------------------------------------------


def test_keyword_rule_syntax_and_matching_in_both_languages() -> None:
    rule = KeywordRule.parse("export", "+出口管制 !传闻 英伟达 Nvidia /H\\d0/", severity="warning")
    assert rule.must == ("出口管制",) and rule.exclude == ("传闻",)
    assert rule.match("美國收緊出口管制 英偉達H20受限") == ("出口管制", "英伟达", "h20")
    assert rule.match("传闻：出口管制 英伟达 H20") is None
    assert rule.match("出口管制 英伟达") is None  # the regex must match too
    ai = KeywordRule(name="ai", any=("AI",))
    assert ai.match("He said so") is None and ai.match("AI capex jumps") == ("AI",)
    with pytest.raises(ValueError):
        KeywordRule(name="only-exclude", exclude=("x",))


def test_keyword_rule_fires_once_per_story() -> None:
    settings = replace(QUIET, keywords=(KeywordRule(name="ds", any=("DeepSeek", "深度求索")),))
    story = [
        item("a", "DeepSeek tops App Store", cluster="s", tickers=("DEEPSEEK",), events=()),
        item(
            "b",
            "深度求索登顶苹果应用商店",
            cluster="s",
            tickers=("DEEPSEEK",),
            lang="zh",
            events=(),
        ),
    ]
    [a] = evaluate(story, History(), settings, now=NOW)
    assert a.rule == "keyword:ds" and a.severity == "info"
    assert "'ds' matched DeepSeek" in a.message
    assert evaluate([item("c", "Nothing here", tickers=())], History(), settings, now=NOW) == []


def test_settings_from_config_and_errors_name_the_key() -> None:
    s = RuleSettings.from_config(
        {
            "thesis_min_strength": 0.7,
            "cooldown_minutes": {"spike": 60},
            "keyword": [
                {"name": "export", "match": "+出口管制 !传闻", "severity": "warning"},
                {"name": "hbm", "any": ["HBM"], "regex": "CoWoS-?L", "tickers": ["2330.TT"]},
            ],
        },
        origin="thesiswatch.toml",
    )
    assert s.thesis_min_strength == 0.7 and s.cooldown("spike") == timedelta(minutes=60)
    assert s.cooldown("event:order_win") == timedelta(minutes=720)
    assert s.notes == ()
    assert [k.name for k in s.keywords] == ["export", "hbm"]
    assert s.keywords[1].tickers == ("2330.TT",)
    with pytest.raises(ConfigError, match=r"thesiswatch.toml: rules.shok_threshold: unknown key"):
        RuleSettings.from_config({"shok_threshold": 1}, origin="thesiswatch.toml")
    with pytest.raises(ConfigError, match=r"rules.spike_min_count: expected a whole number"):
        RuleSettings.from_config({"spike_min_count": 2.5})
    with pytest.raises(ConfigError, match=r"rules.keyword\[0\].musts: unknown key"):
        RuleSettings.from_config({"keyword": [{"name": "x", "musts": ["a"]}]})
    with pytest.raises(ConfigError, match=r"rules.keyword\[0\]: .*bad regex"):
        RuleSettings.from_config({"keyword": [{"name": "x", "regex": "("}]})
    with pytest.raises(ConfigError, match=r"^c.toml: rules.severity.critcal: unknown key"):
        RuleSettings.from_config({"severity": {"critcal": []}}, origin="c.toml")
    with pytest.raises(ConfigError, match=r"rules.severity.critical_move_pct: expected a number"):
        RuleSettings.from_config({"severity": {"critical_move_pct": "5%"}})
    with pytest.raises(ConfigError, match=r"rules.severity.critical: expected a list"):
        RuleSettings.from_config({"severity": {"critical": "guidance_cut"}})


def test_old_rule_names_still_load_with_a_one_line_note(caplog: pytest.LogCaptureFixture) -> None:
    old = {
        "enabled": ["shock", "thesis", "risk"],
        "shock_threshold": 0.7,
        "shock_critical": 0.9,
        "cooldown_minutes": {"shock": 15},
    }
    with caplog.at_level("WARNING", logger="thesiswatch.alerts"):
        s = RuleSettings.from_config(old, origin="old.toml")
    assert s.enabled == {"event", "thesis", "risk"} and RENAMED_RULES["shock"] == "event"
    assert s.cooldown("event:order_win") == timedelta(minutes=15)
    assert s.unread_event_sentiment == 0.7
    assert len(s.notes) == 4 and all("\n" not in n and "deprecated" in n for n in s.notes)
    assert (
        s.notes[0]
        == 'old.toml: rules.enabled: rule "shock" is now "event" (deprecated name, still read)'
    )
    assert [r.getMessage() for r in caplog.records] == list(s.notes)


# --- spike -------------------------------------------------------------------------------------

SPIKE = RuleSettings(enabled=frozenset({"spike"}))


def spike_history(window: int, baseline: list[int], **kw: object) -> History:
    return History(
        mentions_window={"NVDA.US": window},
        mentions_hourly={"NVDA.US": baseline},
        baseline_hours=len(baseline),
        **kw,  # type: ignore[arg-type]
    )


def test_spike_fires_when_mentions_far_exceed_the_robust_baseline() -> None:
    baseline = [1, 0, 2, 1, 1, 0, 1, 2] * 9  # 72 h, median 1, MAD 0.5 -> threshold 5
    new = [item(f"n{i}", cluster=f"c{i}", minutes_ago=10 + i) for i in range(3)]
    [a] = evaluate(new, spike_history(4, baseline), SPIKE, now=NOW)
    assert a.rule == "spike" and a.tickers == ("NVDA.US",)
    assert "7 items" in a.message and "median 1/h" in a.message
    assert set(a.item_ids) == {"n0", "n1", "n2"}
    # Fires once: the same hour again is a known id; the next hour is cooling down.
    history = spike_history(4, baseline, recent_alerts=[a])
    assert evaluate(new, history, SPIKE, now=NOW) == []
    assert evaluate(new, history, SPIKE, now=NOW + timedelta(minutes=55)) == []


def test_spike_does_not_fire_below_min_count_or_on_a_busy_baseline() -> None:
    quiet = [0] * 72
    new = [item(f"n{i}", cluster=f"c{i}") for i in range(3)]
    assert evaluate(new, spike_history(1, quiet), SPIKE, now=NOW) == []  # 4 < min count 5
    busy = [6, 9, 7, 8, 10, 6] * 12
    assert evaluate(new, spike_history(5, busy), SPIKE, now=NOW) == []  # 8 is normal here


def test_spike_needs_enough_history_and_counts_stored_items_once() -> None:
    new = [item(f"n{i}", cluster=f"c{i}") for i in range(6)]
    young = History(mentions_hourly={"NVDA.US": [0] * 5}, baseline_hours=5)
    assert evaluate(new, young, SPIKE, now=NOW) == []
    # The pipeline stores items before the rules run: the window count already has them.
    stored = spike_history(6, [0] * 72, includes_items=True)
    [a] = evaluate(new, stored, SPIKE, now=NOW)
    assert "6 items" in a.message


# --- drift -------------------------------------------------------------------------------------

DRIFT = RuleSettings(enabled=frozenset({"drift"}))


def daily(*nets: float) -> dict[date, float]:
    """Net evidence per day, the last value being today."""
    today = NOW.date()
    return {today - timedelta(days=len(nets) - 1 - i): n for i, n in enumerate(nets)}


def challenge(id: str) -> NewItem:
    return item(id, "Capex cut", tickers=(), theses=(("compute", "challenge", 1.0),))


def test_drift_fires_when_net_evidence_flips_sign() -> None:
    # Yesterday's 7-day window: +1+1+0+1+0+0+1 = +4; today's so far: -1; with the new item -2.
    history = History(thesis_daily={"compute": daily(0, 1, 1, 0, 1, 0, 0, 1, -4)})
    alerts = evaluate([challenge("a")], history, DRIFT, now=NOW)
    [a] = alerts
    assert (a.rule, a.thesis, a.stance, a.severity) == ("drift", "compute", "challenge", "warning")
    assert "flipped negative" in a.title and "-1 -> -2" in a.title
    # Fires once: a second challenge the same day does not re-alert (id known, cooldown).
    later = replace(
        history, thesis_daily={"compute": daily(0, 1, 1, 0, 1, 0, 0, 1, -5)}, recent_alerts=alerts
    )
    assert evaluate([challenge("b")], later, DRIFT, now=NOW + timedelta(minutes=5)) == []


def test_drift_does_not_fire_without_a_flip_or_a_crossing() -> None:
    history = History(thesis_daily={"compute": daily(1, 1, 1, 1, 0, 0, 0)})  # +4 -> +3
    assert evaluate([challenge("a")], history, DRIFT, now=NOW) == []


def test_drift_fires_when_net_evidence_crosses_the_threshold() -> None:
    history = History(thesis_daily={"compute": daily(0, 0, -1, -1, -1, 0, -1)})  # -4 -> -5
    [a] = evaluate([challenge("a")], history, DRIFT, now=NOW)
    assert "crossed -5" in a.title
    # The same counts read after the items were stored give the same answer.
    stored = History(thesis_daily={"compute": daily(0, 0, -1, -1, -1, 0, -2)}, includes_items=True)
    [b] = evaluate([challenge("a")], stored, DRIFT, now=NOW)
    assert b.id == a.id


def test_risk_drift_rising_is_a_warning() -> None:
    history = History(thesis_daily={"risk": daily(1, 1, 1, 1)})
    risky = item("a", "Chip curbs", tickers=(), theses=(("risk", "support", 1.0),))
    [a] = evaluate([risky], history, DRIFT, now=NOW)
    assert a.severity == "warning" and "crossed +5" in a.title


# --- replay ------------------------------------------------------------------------------------


def test_replay_over_stored_items_fires_like_live_evaluation() -> None:
    items = [
        replace(
            item(f"i{i}", f"Story {i}", cluster=f"c{i}", tickers=("NVDA.US",) if i == 5 else ()),
            published=NOW - timedelta(hours=30 - i),
        )
        for i in range(10)
    ]
    alerts = replay(items, RuleSettings())
    assert [a.rule for a in alerts] == ["event:shares_down"]
    assert alerts[0].item_ids == ("i5",)
    assert replay(items, RuleSettings(), rules=["keyword"]) == []


def test_new_item_from_a_stored_item() -> None:
    from thesiswatch.store import Store

    store = Store.memory()
    from thesiswatch.feeds.models import Item

    tags = item("a", score=-0.9).tags
    published = NOW - timedelta(hours=1)
    stored_item = Item(
        id="a", source_id="src", title="Nvidia shares plunge 17%", published=published
    )
    store.save_items([(stored_item, tags)], clusters={"a": "s1"})
    [stored] = store.items(limit=1)
    new = NewItem.from_stored(stored)
    assert (new.id, new.cluster_id, new.published) == ("a", "s1", published)
    assert new.tags.ticker_ids == ["NVDA.US"] and new.tags.sentiment.score == pytest.approx(-0.9)
    assert new.tags.events == tags.events and dict(new.tags.relevance) == {"NVDA.US": 90}
    [alert] = replay([new], QUIET)
    assert alert.rule == "event:shares_down"
