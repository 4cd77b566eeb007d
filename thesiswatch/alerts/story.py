"""Story rules: shock, thesis, risk and keyword, one alert per story (cluster) with the
strongest reason first and the others listed in its message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from thesiswatch.alerts.history import History, NewItem
from thesiswatch.alerts.ledger import AlertLedger, alert_id, unique
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.clock import iso_seconds
from thesiswatch.records import SEVERITY_RANK, Alert, Severity

_STORY_RULE_ORDER = {"shock": 0, "risk": 1, "thesis": 2, "keyword": 3}


@dataclass(frozen=True, kw_only=True)
class _Reason:
    rule: str
    key: str
    severity: Severity
    item: NewItem
    why: str
    thesis: str | None = None
    stance: str | None = None


def _fmt(x: float) -> str:
    return f"{x:+.2f}"


def _shock_reason(items: Sequence[NewItem], s: RuleSettings) -> _Reason | None:
    candidates = [
        it for it in items if it.tags.tickers and abs(it.tags.sentiment.score) >= s.shock_threshold
    ]
    if not candidates:
        return None
    top = max(candidates, key=lambda it: abs(it.tags.sentiment.score))
    sent = top.tags.sentiment
    sev: Severity = "critical" if abs(sent.score) >= s.shock_critical else "warning"
    why = (
        f"shock: sentiment {_fmt(sent.score)} ({sent.label}; threshold ±{s.shock_threshold:.2f}"
        f"{', critical from ±' + format(s.shock_critical, '.2f') if sev == 'critical' else ''})"
        f" about {', '.join(top.tags.ticker_ids)}"
    )
    if sent.evidence:
        why += f"; evidence: {', '.join(sent.evidence[:6])}"
    opposite = [it for it in candidates if (it.tags.sentiment.score > 0) != (sent.score > 0)]
    if opposite:
        why += f"; contested: {len(opposite)} other source(s) read it the other way"
    return _Reason(rule="shock", key=sent.label, severity=sev, item=top, why=why)


def _thesis_reasons(items: Sequence[NewItem], s: RuleSettings) -> list[_Reason]:
    best: dict[tuple[str, str], tuple[float, NewItem, tuple[str, ...]]] = {}
    for it in items:
        for st in it.tags.theses:
            if st.thesis == "risk":
                continue
            if st.stance == "challenge":
                ok = s.thesis_challenge and st.strength >= s.thesis_min_strength
            else:
                ok = st.strength >= s.thesis_support_threshold
            key = (st.thesis, st.stance)
            if ok and (key not in best or st.strength > best[key][0]):
                best[key] = (st.strength, it, st.evidence)
    out = []
    for (thesis, stance), (strength, it, evidence) in best.items():
        limit = s.thesis_min_strength if stance == "challenge" else s.thesis_support_threshold
        why = f"thesis: {stance}s {thesis} (strength {strength:.2f} >= {limit:.2f})"
        if evidence:
            why += f"; evidence: {', '.join(evidence[:6])}"
        out.append(
            _Reason(
                rule="thesis",
                key=f"{thesis}:{stance}",
                severity="warning" if stance == "challenge" else "info",
                item=it,
                why=why,
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
        for st in it.tags.theses
        if st.thesis == "risk" and st.stance == "support"
    ]
    if not hits:
        return None
    st, it = max(hits, key=lambda h: h[0].strength)
    why = f"risk: a listed risk is materialising (strength {st.strength:.2f})"
    if st.evidence:
        why += f"; evidence: {', '.join(st.evidence[:6])}"
    sev: Severity = "critical" if it.tags.sentiment.score <= -s.shock_critical else "warning"
    return _Reason(
        rule="risk", key="risk", severity=sev, item=it, why=why, thesis="risk", stance="support"
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
                        key=rule.name,
                        severity=rule.severity,
                        item=it,
                        why=f"keyword: rule {rule.name!r} matched {', '.join(hits)}",
                    )
                )
                break
    return out


def story_alert(
    cluster_id: str,
    group: Sequence[NewItem],
    s: RuleSettings,
    history: History,
    ledger: AlertLedger,
    now: datetime,
) -> Alert | None:
    reasons: list[_Reason] = []
    if "shock" in s.enabled and (r := _shock_reason(group, s)):
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
    tickers = unique(t for it in group for t in it.tags.ticker_ids)

    # Already alerted for this story? Then only a more severe alert goes out.
    candidate_keys = {(r.rule, r.key) for r in reasons} | {
        ("shock", "neg"),
        ("shock", "pos"),
        ("risk", "risk"),
    }
    candidate_keys |= {(f"keyword:{k.name}", k.name) for k in s.keywords}
    theses = {st.thesis for it in group for st in it.tags.theses}
    candidate_keys |= {("thesis", f"{t}:{st}") for t in theses for st in ("support", "challenge")}
    past = [
        ledger.severity_by_id[i]
        for i in (alert_id(rule, cluster_id, key) for rule, key in candidate_keys)
        if i in ledger.severity_by_id
    ]
    past_rank = max((SEVERITY_RANK[p] for p in past), default=-1)

    primary = None
    for r in reasons:
        if SEVERITY_RANK[r.severity] <= past_rank:
            continue
        thesis = r.thesis
        if ledger.cooled(r.rule, tickers, thesis, r.severity):
            continue
        primary = r
        break
    if primary is None:
        return None
    key = primary.key
    if past_rank >= 0 and alert_id(primary.rule, cluster_id, key) in ledger.severity_by_id:
        key = f"{key}@{primary.severity}"  # an escalation of the same reason
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
        id=alert_id(primary.rule, cluster_id, key),
        created=iso_seconds(now),
        rule=primary.rule,
        severity=primary.severity,
        title=primary.item.title,
        message=". ".join(parts),
        url=primary.item.url or next((it.url for it in group if it.url), ""),
        tickers=tickers,
        thesis=thesis_reason.thesis if thesis_reason else None,
        stance=thesis_reason.stance if thesis_reason else None,
        item_ids=tuple(it.id for it in group),
    )
