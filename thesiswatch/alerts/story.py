"""Story rules: event, risk, thesis and keyword, one alert per story (cluster) with the
strongest reason first and the others listed in its message.

``event``: a material event (``severity.grade``) with a covered company as subject or
counterparty, graded by the severity table; the alert's rule is ``event:<type>``.
``risk`` / ``thesis``: thesis evidence (a listed risk materialising; a thesis challenged or
strongly supported); the rule carries the event type the evidence was read from
(``thesis:capex_raise``), or none when a cue alone gave it. Items whose main event is a
schedule/procedure type raise nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from thesiswatch.alerts.history import History, NewItem
from thesiswatch.alerts.ledger import AlertLedger, story_alert_id, unique
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.alerts.severity import grade, is_schedule
from thesiswatch.clock import as_utc, iso_seconds
from thesiswatch.records import SEVERITY_RANK, Alert, Severity
from thesiswatch.signals.cluster import shingles, similarity
from thesiswatch.signals.lang import detect_lang
from thesiswatch.signals.models import ThesisStance

DISTINCT_TITLE = 0.3
"""Below this title similarity, an item in the alerted story's own language is another story
the clusterer linked (same subject and main event within 12 h: two governments banning one
app), not a repeat."""

_STORY_RULE_ORDER = {"event": 0, "risk": 1, "thesis": 2, "keyword": 3}


@dataclass(frozen=True, kw_only=True)
class _Reason:
    rule: str
    severity: Severity
    item: NewItem
    why: str
    tickers: tuple[str, ...] = ()
    thesis: str | None = None
    stance: str | None = None
    related: tuple[str, ...] = ()  # the other event rules of the same item


def _quote(phrases: Sequence[str]) -> str:
    return ", ".join(f'"{p}"' for p in phrases[:3])


def _is_schedule(it: NewItem) -> bool:
    return is_schedule(it.tags.events)


def _event_reasons(items: Sequence[NewItem], s: RuleSettings) -> list[_Reason]:
    best: dict[str, _Reason] = {}
    for it in items:
        text = f"{it.title}\n{it.summary}"
        graded = grade(it.tags.events, dict(it.tags.relevance), text, s.severity)
        types = tuple(dict.fromkeys(f"event:{g.event.type}" for g in graded))
        for g in graded:
            rule = f"event:{g.event.type}"
            if rule in best and SEVERITY_RANK[best[rule].severity] >= SEVERITY_RANK[g.severity]:
                continue
            who = ", ".join(f"{t} ({role})" for t, role in g.covered)
            why = f"event {g.event.type}: {who}"
            if g.event.evidence:
                why += f"; evidence {_quote(g.event.evidence)}"
            why += f"; {g.severity}: {g.reason}"
            best[rule] = _Reason(
                rule=rule,
                severity=g.severity,
                item=it,
                why=why,
                tickers=tuple(t for t, _ in g.covered),
                related=tuple(t for t in types if t != rule),
            )
    return list(best.values())


def _unread_reason(items: Sequence[NewItem], s: RuleSettings) -> _Reason | None:
    """An item about a covered company in which the tagger read no event at all, with strong
    sentiment: the event reader's vocabulary missed it, the sentiment did not."""
    limit = s.unread_event_sentiment
    if limit <= 0:
        return None
    hits = [
        it
        for it in items
        if not it.tags.events and it.tags.tickers and abs(it.tags.sentiment.score) >= limit
    ]
    if not hits:
        return None
    top = max(hits, key=lambda it: abs(it.tags.sentiment.score))
    sent = top.tags.sentiment
    why = f"event (none read): {', '.join(f'{t} (subject)' for t in top.tags.ticker_ids)}"
    if sent.evidence:
        why += f"; evidence {_quote(sent.evidence)}"
    why += f"; warning: sentiment {sent.score:+.2f} (from ±{limit:.2f}) with no event read"
    return _Reason(
        rule="event", severity="warning", item=top, why=why, tickers=tuple(top.tags.ticker_ids)
    )


def _evidence_event(it: NewItem, st: ThesisStance) -> str:
    """The event type a stance was read from ("capex_raise: lifts AI spending"), or ""."""
    types = {e.type for e in it.tags.events}
    for phrase in st.evidence:
        head = phrase.split(":", 1)[0].strip()
        if head in types:
            return head
    return ""


def _stance_phrases(st: ThesisStance) -> list[str]:
    return [p.split(": ", 1)[-1] for p in st.evidence]


def _thesis_reasons(items: Sequence[NewItem], s: RuleSettings) -> list[_Reason]:
    best: dict[tuple[str, str], tuple[float, NewItem, ThesisStance]] = {}
    for it in items:
        if _is_schedule(it):
            continue
        for st in it.tags.theses:
            if st.thesis == "risk":
                continue
            if st.stance == "challenge":
                ok = s.thesis_challenge and st.strength >= s.thesis_min_strength
            else:
                ok = st.strength >= s.thesis_support_threshold
            key = (st.thesis, st.stance)
            etype = _evidence_event(it, st)
            if not it.tags.tickers and (not etype or etype in s.severity.thesis_needs_cover):
                continue  # a cue, or a launch, about no covered company: not evidence enough
            if ok and (key not in best or st.strength > best[key][0]):
                best[key] = (st.strength, it, st)
    out = []
    for (thesis, stance), (strength, it, st) in best.items():
        etype = _evidence_event(it, st)
        why = f"thesis {thesis}: {stance}"
        why += f" from event {etype}" if etype else " from a thesis cue"
        if st.evidence:
            why += f"; evidence {_quote(_stance_phrases(st))}"
        why += (
            f"; warning: a thesis challenge (strength {strength:.2f})"
            if stance == "challenge"
            else f"; info: thesis support (strength {strength:.2f})"
        )
        out.append(
            _Reason(
                rule=f"thesis:{etype}" if etype else "thesis",
                severity="warning" if stance == "challenge" else "info",
                item=it,
                why=why,
                tickers=tuple(it.tags.ticker_ids),
                thesis=thesis,
                stance=stance,
            )
        )
    out.sort(key=lambda r: (r.stance != "challenge", r.thesis or ""))
    return out


def _risk_reason(items: Sequence[NewItem], s: RuleSettings) -> _Reason | None:
    hits = [
        (st, it)
        for it in items
        if not _is_schedule(it)
        for st in it.tags.theses
        if st.thesis == "risk"
        and st.stance == "support"
        and (it.tags.tickers or _evidence_event(it, st))
    ]
    if not hits:
        return None
    st, it = max(hits, key=lambda h: h[0].strength)
    etype = _evidence_event(it, st)
    why = "risk: a listed risk is materialising" + (f" (event {etype})" if etype else "")
    if st.evidence:
        why += f"; evidence {_quote(_stance_phrases(st))}"
    why += "; info: a listed risk (an event about a covered name alerts on its own)"
    return _Reason(
        rule=f"risk:{etype}" if etype else "risk",
        severity="info",
        item=it,
        why=why,
        tickers=tuple(it.tags.ticker_ids),
        thesis="risk",
        stance="support",
    )


def _keyword_reasons(items: Sequence[NewItem], s: RuleSettings) -> list[_Reason]:
    out = []
    for rule in s.keywords:
        for it in items:
            hits = rule.match(f"{it.title}\n{it.summary}", it.tags.ticker_ids)
            if hits is not None:
                out.append(
                    _Reason(
                        rule=f"keyword:{rule.name}",
                        severity=rule.severity,
                        item=it,
                        why=f"keyword: rule {rule.name!r} matched {', '.join(hits)}",
                        tickers=tuple(it.tags.ticker_ids),
                    )
                )
                break
    return out


def story_time(group: Sequence[NewItem], now: datetime) -> datetime:
    """When a story's items appeared: the latest published time, never after ``now``."""
    return min(max(as_utc(it.published) for it in group), now)


def story_alert(
    cluster_id: str,
    group: Sequence[NewItem],
    s: RuleSettings,
    history: History,
    ledger: AlertLedger,
    now: datetime,
) -> Alert | None:
    reasons: list[_Reason] = []
    if "event" in s.enabled:
        reasons.extend(_event_reasons(group, s))
        if not reasons and (r := _unread_reason(group, s)):
            reasons.append(r)
    if "risk" in s.enabled and (r := _risk_reason(group, s)):
        reasons.append(r)
    if "thesis" in s.enabled:
        reasons.extend(_thesis_reasons(group, s))
    if "keyword" in s.enabled:
        reasons.extend(_keyword_reasons(group, s))
    if not reasons:
        return None
    reasons.sort(
        key=lambda r: (-SEVERITY_RANK[r.severity], _STORY_RULE_ORDER[r.rule.split(":")[0]])
    )
    # A story already alerted alerts again only when the new alert is more severe; an item
    # that reads as another story in the same language (a dissimilar title) is a story of its own.
    titles = ledger.story_titles(cluster_id)
    if titles and all(
        detect_lang(t) == it.lang and similarity(shingles(t), shingles(it.title)) < DISTINCT_TITLE
        for it in group
        for t in titles
    ):
        cluster_id = f"{cluster_id}/{group[0].id}"
    past_rank = ledger.story_rank(cluster_id)
    primary = None
    for r in reasons:
        if SEVERITY_RANK[r.severity] <= past_rank:
            continue
        at = story_time(group, now)
        if any(
            ledger.cooled(rule, r.tickers, r.thesis, r.severity, at=at)
            for rule in (r.rule, *r.related)
        ):
            break  # a repeat of what just alerted: nothing at or below it goes out either
        primary = r
        break
    if primary is None:
        return None
    others = [r for r in reasons if r is not primary]
    thesis_reason = primary if primary.thesis else next((r for r in others if r.thesis), None)
    sources = unique(it.source for it in group)
    parts = [primary.why]
    if others:
        parts.append("also " + "; ".join(r.why for r in others))
    parts.append(
        f"sources ({len(sources)}): {', '.join(sources)}" if sources else f"items: {len(group)}"
    )
    return Alert(
        id=story_alert_id(cluster_id, primary.severity),
        created=iso_seconds(now),
        rule=primary.rule,
        severity=primary.severity,
        title=primary.item.title,
        message=". ".join(parts),
        url=primary.item.url or next((it.url for it in group if it.url), ""),
        tickers=unique([*primary.tickers, *(t for it in group for t in it.tags.ticker_ids)]),
        thesis=thesis_reason.thesis if thesis_reason else None,
        stance=thesis_reason.stance if thesis_reason else None,
        item_ids=tuple(it.id for it in group),
    )
