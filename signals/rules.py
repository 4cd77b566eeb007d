"""Alert rules: which new items (and which trends) deserve an alert, once, with the reason.

Pure: ``evaluate(items, history, settings, now=...)`` takes the newly stored items (tagged and
clustered), plain statistics read from the store (``History``) and thresholds
(``RuleSettings``), and returns ``Alert`` records. Nothing here reads a clock, a file or the
network (``History.from_store`` only calls the store object it is given).

Rules (``Alert.rule``):

``shock``
    an item about a covered ticker (or DeepSeek) whose sentiment is strong:
    ``|score| >= shock_threshold``; ``critical`` from ``shock_critical`` on.
``thesis``
    an item that challenges a thesis (``thesis_challenge``, stance strength at least
    ``thesis_min_strength``), or supports one strongly (strength at least
    ``thesis_support_threshold``). The ``risk`` board is left to the next rule.
``risk``
    an item showing one of the report's risks materialising: stance ``risk: support``.
``keyword:<name>``
    a user rule (``KeywordRule``) matched the title or summary, in either language.
``spike``
    mentions of a ticker in the last ``spike_window_minutes`` far above its hourly baseline:
    at least ``spike_min_count`` and above ``median + spike_factor * max(1.4826 * MAD, 1)``
    of the trailing ``spike_baseline_hours`` hours (not before ``spike_min_baseline_hours``
    hours of history exist, so a fresh database does not spike on its first backfill).
``drift``
    a thesis's net evidence (supporting minus challenging items) over the trailing
    ``drift_window_days`` days flips sign against yesterday's window (and reaches
    ``drift_min_net``), or crosses ``±drift_threshold``.

One alert per story: the items of one cluster raise at most one alert whatever the number of
rules they trip; the strongest reason (by severity, then in the order above) names the alert
and the others are listed in its message with the story's sources. ``Alert.id`` is a hash of
(rule, cluster id, key), so evaluating the same items again yields the same ids; an alert whose
id is among ``History.recent_alerts`` is not raised again, and a story already alerted raises
another alert only when the new one is more severe. Cooldown: after an alert of a rule about a
ticker (or a thesis), that rule stays quiet about it for ``cooldown_minutes[rule]`` unless the
new alert is more severe. With ``max_item_age_hours`` set, items published longer ago than
that (a first backfill of old entries) raise no story alerts. Muted tickers (``History.muted``) raise none either.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

from thesiswatch.errors import ConfigError
from thesiswatch.signals.lang import to_simplified
from thesiswatch.signals.models import Alert, Sentiment, Tags

__all__ = [
    "RULES",
    "History",
    "KeywordRule",
    "NewItem",
    "RuleSettings",
    "alert_id",
    "evaluate",
    "replay",
]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
RULES: tuple[str, ...] = ("shock", "risk", "thesis", "keyword", "spike", "drift")
_STORY_RULE_ORDER = {"shock": 0, "risk": 1, "thesis": 2, "keyword": 3}

DEFAULT_COOLDOWNS: Mapping[str, float] = MappingProxyType(
    {"shock": 30, "thesis": 60, "risk": 60, "keyword": 30, "spike": 180, "drift": 720}
)


# --- keyword rules ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    """NFKC, simplified Chinese, lower case: what terms and regexes are matched against."""
    return to_simplified(unicodedata.normalize("NFKC", text)).casefold()


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    """Latin terms match whole words ("AI" not in "said"); Chinese terms match as substrings."""
    folded = _fold(term)
    escaped = re.escape(folded)
    if folded.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_TOKEN = re.compile(r"""([+!]?)(?:/((?:\\.|[^/\\])+)/|"([^"]*)"|(\S+))""")


@dataclass(frozen=True)
class KeywordRule:
    """A user watch rule, matched against an item's title and summary in either language.

    ``must``: every term present; ``any``: at least one present (when given); ``exclude``: none
    present; ``regex``: matches (Python syntax, case-insensitive). Text and terms are compared
    after NFKC, traditional-to-simplified folding and lower-casing, so "台積電" matches
    "台积电"; Latin terms match whole words. An exclude-only rule is refused: it would match
    everything. ``tickers``: optionally, only items about one of these tickers.

    >>> rule = KeywordRule.parse("export-controls", '+出口管制 !传闻 英伟达 nvidia')
    >>> rule.match("美国收紧出口管制，英伟达H20受限")
    ('出口管制', '英伟达')
    >>> rule.match("传闻美国将收紧出口管制 英伟达") is None
    True
    """

    name: str
    must: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regex: str | None = None
    severity: Severity = "info"
    tickers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a keyword rule needs a name")
        if not (self.must or self.any or self.regex):
            raise ValueError(
                f"keyword rule {self.name!r} has nothing to match (give must, any or regex; "
                "exclude alone would match everything)"
            )
        if self.severity not in SEVERITIES:
            raise ValueError(f"keyword rule {self.name!r}: severity must be one of {SEVERITIES}")
        if self.regex is not None:
            try:
                _regex(self.regex)
            except re.error as exc:
                raise ValueError(f"keyword rule {self.name!r}: bad regex: {exc}") from exc
        for term in (*self.must, *self.any, *self.exclude):
            if not term.strip():
                raise ValueError(f"keyword rule {self.name!r} has an empty term")

    @classmethod
    def parse(
        cls,
        name: str,
        expression: str,
        *,
        severity: Severity = "info",
        tickers: Sequence[str] = (),
    ) -> KeywordRule:
        """Build a rule from TrendRadar-style syntax: ``+must``, ``!exclude``, ``/regex/``,
        plain words (any of), ``"quoted phrases"`` (with or without a prefix).

        >>> KeywordRule.parse("r", '+DeepSeek !"rumour mill" /R[0-9]/ 英伟达 NVIDIA')
        KeywordRule(name='r', must=('DeepSeek',), any=('英伟达', 'NVIDIA'), exclude=('rumour mill',), regex='R[0-9]', severity='info', tickers=())
        """
        must: list[str] = []
        any_: list[str] = []
        exclude: list[str] = []
        regexes: list[str] = []
        for match in _TOKEN.finditer(expression):
            prefix, regex, quoted, word = match.groups()
            if regex is not None:
                if prefix:
                    raise ValueError(f"keyword rule {name!r}: a /regex/ takes no + or ! prefix")
                regexes.append(regex)
                continue
            term = quoted if quoted is not None else word
            {"+": must, "!": exclude, "": any_}[prefix].append(term)
        combined = (
            "|".join(f"(?:{r})" for r in regexes)
            if len(regexes) > 1
            else (regexes[0] if regexes else None)
        )
        return cls(
            name=name,
            must=tuple(must),
            any=tuple(any_),
            exclude=tuple(exclude),
            regex=combined,
            severity=severity,
            tickers=tuple(tickers),
        )

    def match(self, text: str, tickers: Iterable[str] = ()) -> tuple[str, ...] | None:
        """The terms that matched (the evidence), or None when the rule does not fire."""
        if self.tickers and not set(self.tickers) & set(tickers):
            return None
        folded = _fold(text)
        if any(_term_pattern(t).search(folded) for t in self.exclude):
            return None
        hits = [t for t in self.must if _term_pattern(t).search(folded)]
        if len(hits) < len(self.must):
            return None
        if self.any:
            found = [t for t in self.any if _term_pattern(t).search(folded)]
            if not found:
                return None
            hits.extend(found)
        if self.regex is not None:
            m = _regex(self.regex).search(folded)
            if m is None:
                return None
            hits.append(m.group(0))
        return tuple(hits)


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RuleSettings:
    """Thresholds of every rule; built from the ``[rules]`` config table by ``from_config``."""

    enabled: frozenset[str] = frozenset(RULES)
    max_item_age_hours: float = 0.0  # 0 = no limit
    shock_threshold: float = 0.6
    shock_critical: float = 0.85
    thesis_challenge: bool = True
    thesis_min_strength: float = 0.5
    thesis_support_threshold: float = 0.8
    drift_window_days: int = 7
    drift_threshold: float = 5.0
    drift_min_net: float = 2.0
    spike_window_minutes: int = 60
    spike_baseline_hours: int = 72
    spike_min_baseline_hours: int = 24
    spike_min_count: int = 5
    spike_factor: float = 3.0
    cooldown_minutes: Mapping[str, float] = field(default_factory=lambda: DEFAULT_COOLDOWNS)
    keywords: tuple[KeywordRule, ...] = ()

    def cooldown(self, rule: str) -> timedelta:
        base = rule.split(":", 1)[0]
        minutes = self.cooldown_minutes.get(rule, self.cooldown_minutes.get(base))
        if minutes is None:
            minutes = DEFAULT_COOLDOWNS.get(base, 0)
        return timedelta(minutes=float(minutes))

    @classmethod
    def from_config(cls, table: Mapping[str, Any], *, origin: str = "config") -> RuleSettings:
        """Validate the ``[rules]`` table; unknown keys and bad values raise ``ConfigError``
        naming the file (``origin``), the key and what was expected.

        >>> RuleSettings.from_config({"shock_threshold": 0.7, "keyword": [
        ...     {"name": "export", "match": "+出口管制 !传闻", "severity": "warning"}]}).shock_threshold
        0.7
        """
        known = {f.name: f for f in fields(cls)} | {"keyword": None}
        kwargs: dict[str, Any] = {}
        for key, value in table.items():
            where = f"{origin}: rules.{key}"
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown key (expected one of: {', '.join(sorted(known))})"
                )
            if key == "keyword" or key == "keywords":
                if not isinstance(value, list):
                    raise ConfigError(f"{where}: expected an array of tables ([[rules.keyword]])")
                kwargs["keywords"] = kwargs.get("keywords", ()) + tuple(
                    _keyword_from_config(row, where=f"{origin}: rules.keyword[{i}]")
                    for i, row in enumerate(value)
                )
            elif key == "enabled":
                if not isinstance(value, list) or not all(v in RULES for v in value):
                    raise ConfigError(f"{where}: expected a list of rule names from {list(RULES)}")
                kwargs[key] = frozenset(value)
            elif key == "cooldown_minutes":
                if not isinstance(value, dict):
                    raise ConfigError(f"{where}: expected a table of rule = minutes")
                for rule, minutes in value.items():
                    if rule.split(":", 1)[0] not in RULES:
                        raise ConfigError(
                            f"{where}.{rule}: unknown rule (expected one of {list(RULES)})"
                        )
                    if not _is_number(minutes) or minutes < 0:
                        raise ConfigError(f"{where}.{rule}: expected minutes >= 0")
                kwargs[key] = MappingProxyType({**DEFAULT_COOLDOWNS, **value})
            elif key == "thesis_challenge":
                if not isinstance(value, bool):
                    raise ConfigError(f"{where}: expected true or false")
                kwargs[key] = value
            else:
                default = getattr(cls(), key)
                if not _is_number(value) or value < 0:
                    raise ConfigError(f"{where}: expected a number >= 0")
                if isinstance(default, int) and not isinstance(value, int):
                    raise ConfigError(f"{where}: expected a whole number")
                kwargs[key] = value
        return cls(**kwargs)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_KEYWORD_KEYS = {"name", "match", "must", "any", "exclude", "regex", "severity", "tickers"}


def _keyword_from_config(row: object, *, where: str) -> KeywordRule:
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: expected a table with name and match (or must/any/regex)")
    for key in row:
        if key not in _KEYWORD_KEYS:
            raise ConfigError(
                f"{where}.{key}: unknown key (expected one of: {', '.join(sorted(_KEYWORD_KEYS))})"
            )
    name = row.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name: expected a non-empty string")
    for key in ("must", "any", "exclude", "tickers"):
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}.{key}: expected a list of strings")
    for key in ("match", "regex"):
        if key in row and not isinstance(row[key], str):
            raise ConfigError(f"{where}.{key}: expected a string")
    severity = row.get("severity", "info")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}.severity: expected one of {list(SEVERITIES)}")
    try:
        parsed = (
            KeywordRule.parse(name, row.get("match", ""), severity=severity)
            if "match" in row
            else None
        )
        regexes = [r for r in (parsed.regex if parsed else None, row.get("regex")) if r]
        return KeywordRule(
            name=name,
            must=(*(parsed.must if parsed else ()), *row.get("must", [])),
            any=(*(parsed.any if parsed else ()), *row.get("any", [])),
            exclude=(*(parsed.exclude if parsed else ()), *row.get("exclude", [])),
            regex="|".join(f"(?:{r})" for r in regexes)
            if len(regexes) > 1
            else (regexes or [None])[0],
            severity=severity,
            tickers=tuple(row.get("tickers", [])),
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NewItem:
    """An item just stored, with its tags and story cluster."""

    id: str
    title: str
    url: str = ""
    source: str = ""
    lang: str = "en"
    published: datetime
    tags: Tags
    cluster_id: str
    summary: str = ""

    @classmethod
    def from_stored(cls, stored: Any) -> NewItem:
        """From a ``store.models.StoredItem`` (duck-typed), e.g. to ``replay`` history."""
        sentiment = stored.sentiment or Sentiment(label="neu", score=0.0)
        lang = stored.lang or "en"
        return cls(
            id=stored.id,
            title=stored.title,
            summary=stored.summary or "",
            url=stored.url or "",
            source=stored.sources[0] if stored.sources else "",
            lang=lang,
            published=_utc(stored.published or stored.fetched),
            tags=Tags(
                lang=lang,
                tickers=tuple(stored.mentions),
                theses=tuple(stored.stances),
                sentiment=sentiment,
            ),
            cluster_id=stored.cluster_id or stored.id,
        )


@dataclass(frozen=True, kw_only=True)
class History:
    """What the rules need to know about the past, as plain data read from the store.

    ``recent_alerts``: alerts of at least the longest cooldown (and a day or two) back, for
    cooldown and "already raised".
    ``mentions_window``: per ticker, items mentioning it in ``(now - spike window, now]``.
    ``mentions_hourly``: per ticker, items per hour for the ``baseline_hours`` hours before that
    window, oldest first (missing tickers and missing leading hours count as zero).
    ``thesis_daily``: per thesis, per UTC day (``date`` or ``"YYYY-MM-DD"``), net evidence =
    supporting minus challenging items, covering at least ``drift_window_days + 1`` days.
    ``muted``: tickers muted by the user, with the end of the mute (None = until unmuted).
    ``includes_items``: True when the counts above already include the items being
    evaluated (the pipeline stores items before it runs the rules); they are then taken out
    for "before" and not counted twice.
    """

    recent_alerts: Sequence[Alert] = ()
    mentions_window: Mapping[str, int] = field(default_factory=dict)
    mentions_hourly: Mapping[str, Sequence[int]] = field(default_factory=dict)
    baseline_hours: int = 0
    thesis_daily: Mapping[str, Mapping[date | str, float]] = field(default_factory=dict)
    muted: Mapping[str, datetime | None] = field(default_factory=dict)
    includes_items: bool = False

    @classmethod
    def empty(cls) -> History:
        return cls()

    @classmethod
    def from_store(cls, store: Any, *, now: datetime, settings: RuleSettings) -> History:
        """Read the statistics the rules need from a ``store.Store`` (which already holds the
        items about to be evaluated: ``includes_items=True``). See ``store/db.py``."""
        return _history_from_store(store, now=_utc(now), settings=settings)


# --- evaluation ------------------------------------------------------------------------------


def alert_id(rule: str, cluster_id: str, key: str) -> str:
    """Stable alert id: the same rule, story and key always give the same id."""
    return hashlib.sha1(f"{rule}\x1f{cluster_id}\x1f{key}".encode()).hexdigest()[:20]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds")


@dataclass(frozen=True, kw_only=True)
class _Reason:
    rule: str
    key: str
    severity: Severity
    item: NewItem
    why: str
    thesis: str | None = None
    stance: str | None = None


def _subjects(rule: str, tickers: Sequence[str], thesis: str | None) -> tuple[str, ...]:
    """What a cooldown is about: tickers (or the thesis for thesis/risk/drift alerts)."""
    base = rule.split(":", 1)[0]
    if base == "drift":
        return (f"thesis={thesis}",)
    if base in ("thesis", "risk") and thesis:
        return tuple(f"{thesis}/{t}" for t in tickers) or (f"thesis={thesis}",)
    return tuple(tickers) or ("*",)


class _Ledger:
    """Known alert ids, severities and running cooldowns (updated as alerts are raised)."""

    def __init__(self, recent: Sequence[Alert], settings: RuleSettings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.severity_by_id: dict[str, Severity] = {}
        self.cooling: dict[tuple[str, str], tuple[datetime, int]] = {}
        for alert in recent:
            self.add(alert)

    def add(self, alert: Alert) -> None:
        self.severity_by_id[alert.id] = alert.severity
        try:
            created = _utc(datetime.fromisoformat(alert.created))
        except ValueError:
            return
        until = created + self.settings.cooldown(alert.rule)
        if until <= self.now:
            return
        rank = _RANK[alert.severity]
        for subject in _subjects(alert.rule, alert.tickers, alert.thesis):
            key = (alert.rule, subject)
            prev = self.cooling.get(key)
            if prev is None or prev[1] < rank or prev[0] < until:
                self.cooling[key] = (
                    max(until, prev[0]) if prev else until,
                    max(rank, prev[1]) if prev else rank,
                )

    def cooled(
        self, rule: str, tickers: Sequence[str], thesis: str | None, severity: Severity
    ) -> bool:
        """True when every subject of the would-be alert is cooling down at this severity."""
        rank = _RANK[severity]
        for subject in _subjects(rule, tickers, thesis):
            state = self.cooling.get((rule, subject))
            if state is None or state[1] < rank:
                return False
        return True


def _muted(tickers: Sequence[str], history: History, now: datetime) -> bool:
    if not tickers:
        return False
    for ticker in tickers:
        if ticker not in history.muted:
            return False
        until = history.muted[ticker]
        if until is not None and _utc(until) <= now:
            return False
    return True


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


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


def _story_alerts(
    cluster_id: str,
    group: Sequence[NewItem],
    s: RuleSettings,
    history: History,
    ledger: _Ledger,
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
    reasons.sort(key=lambda r: (-_RANK[r.severity], _STORY_RULE_ORDER[r.rule.split(":")[0]]))
    tickers = _unique(t for it in group for t in it.tags.ticker_ids)

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
    past_rank = max((_RANK[p] for p in past), default=-1)

    primary = None
    for r in reasons:
        if _RANK[r.severity] <= past_rank:
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
    sources = _unique(it.source for it in group)
    parts = [primary.why]
    if others:
        parts.append("also " + "; ".join(r.why for r in others))
    parts.append(
        f"sources ({len(sources)}): {', '.join(sources)}" if sources else f"items: {len(group)}"
    )
    return Alert(
        id=alert_id(primary.rule, cluster_id, key),
        created=_iso(now),
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


def _spike_alerts(
    items: Sequence[NewItem], history: History, s: RuleSettings, ledger: _Ledger, now: datetime
) -> list[Alert]:
    if history.baseline_hours < s.spike_min_baseline_hours:
        return []
    start = now - timedelta(minutes=s.spike_window_minutes)
    in_window: dict[str, list[NewItem]] = defaultdict(list)
    for it in items:
        if start < min(_utc(it.published), now) <= now:
            for t in it.tags.ticker_ids:
                in_window[t].append(it)
    out = []
    for ticker, new in in_window.items():
        if _muted((ticker,), history, now):
            continue
        count = history.mentions_window.get(ticker, 0)
        if not history.includes_items:
            count += len(new)
        hourly = list(history.mentions_hourly.get(ticker, ()))[-history.baseline_hours :]
        hourly = [0] * (history.baseline_hours - len(hourly)) + hourly
        scale = s.spike_window_minutes / 60
        median = statistics.median(hourly) if hourly else 0.0
        mad = statistics.median([abs(h - median) for h in hourly]) if hourly else 0.0
        spread = max(1.4826 * mad, 1.0)
        threshold = max(float(s.spike_min_count), (median + s.spike_factor * spread) * scale)
        if count < threshold:
            continue
        sev: Severity = (
            "critical" if count >= 2 * threshold and count >= 3 * s.spike_min_count else "warning"
        )
        if ledger.cooled("spike", (ticker,), None, sev):
            continue
        bucket = now.replace(minute=0, second=0, microsecond=0)
        latest = max(new, key=lambda it: it.published)
        alert = Alert(
            id=alert_id("spike", "", f"{ticker}:{bucket.isoformat()}"),
            created=_iso(now),
            rule="spike",
            severity=sev,
            title=f"{ticker}: {count} mentions in the last {s.spike_window_minutes} min",
            message=(
                f"spike: {count} items about {ticker} in the last {s.spike_window_minutes} min; "
                f"threshold {threshold:.1f} = max(min count {s.spike_min_count}, "
                f"median {median:g}/h + {s.spike_factor:g} x max(1.4826 x MAD {mad:g}, 1)) "
                f"over the previous {history.baseline_hours} h. Latest: {latest.title}"
                + (f" ({latest.source})" if latest.source else "")
            ),
            url=latest.url,
            tickers=(ticker,),
            item_ids=tuple(it.id for it in new),
        )
        if alert.id in ledger.severity_by_id:
            continue
        ledger.add(alert)
        out.append(alert)
    return out


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _drift_alerts(
    items: Sequence[NewItem], history: History, s: RuleSettings, ledger: _Ledger, now: datetime
) -> list[Alert]:
    today = now.date()
    new_by_thesis: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    touched: dict[str, list[NewItem]] = defaultdict(list)
    for it in items:
        day = min(_utc(it.published), now).date()
        for st in it.tags.theses:
            new_by_thesis[st.thesis][day] += 1.0 if st.stance == "support" else -1.0
            touched[st.thesis].append(it)
    out = []
    for thesis, new in new_by_thesis.items():
        before: dict[date, float] = defaultdict(float)
        for key, net in history.thesis_daily.get(thesis, {}).items():
            before[_day(key)] += net
        if history.includes_items:
            for day, net in new.items():
                before[day] -= net
        after = defaultdict(float, before)
        for day, net in new.items():
            after[day] += net

        def window(daily: Mapping[date, float], end: date) -> float:
            first = end - timedelta(days=s.drift_window_days - 1)
            return sum(v for d, v in daily.items() if first <= d <= end)

        ref = window(before, today - timedelta(days=1))
        prev = window(before, today)
        cur = window(after, today)
        event = None
        if (
            ref != 0
            and cur * ref < 0
            and abs(cur) >= s.drift_min_net
            and not (prev * cur > 0 and abs(prev) >= s.drift_min_net)
        ):
            event = "flip"
        elif abs(prev) < s.drift_threshold <= abs(cur):
            event = "cross"
        if event is None:
            continue
        negative = cur < 0
        bad = not negative if thesis == "risk" else negative
        sev: Severity = "warning" if bad else "info"
        if ledger.cooled("drift", (), thesis, sev):
            continue
        direction = "negative" if negative else "positive"
        what = (
            f"flipped {direction} against yesterday's window ({ref:+g})"
            if event == "flip"
            else f"crossed {'-' if negative else '+'}{s.drift_threshold:g}"
        )
        contributors = touched[thesis]
        alert = Alert(
            id=alert_id("drift", "", f"{thesis}:{event}:{direction}:{today.isoformat()}"),
            created=_iso(now),
            rule="drift",
            severity=sev,
            title=f"Thesis {thesis}: net evidence {what} ({prev:+g} -> {cur:+g})",
            message=(
                f"drift: net evidence on {thesis} (supporting minus challenging items over "
                f"{s.drift_window_days} days) went {prev:+g} -> {cur:+g} and {what}. "
                f"Latest: {contributors[-1].title}"
            ),
            url=contributors[-1].url,
            tickers=_unique(t for it in contributors for t in it.tags.ticker_ids),
            thesis=thesis,
            stance="challenge" if negative else "support",
            item_ids=tuple(dict.fromkeys(it.id for it in contributors)),
        )
        if alert.id in ledger.severity_by_id:
            continue
        ledger.add(alert)
        out.append(alert)
    return out


def evaluate(
    items: Sequence[NewItem], history: History, settings: RuleSettings, *, now: datetime
) -> list[Alert]:
    """Run every enabled rule over newly stored items; return the alerts to raise (most
    severe first). Deterministic: the same inputs give the same alerts and ids."""
    now = _utc(now)
    ledger = _Ledger(history.recent_alerts, settings, now)
    horizon = (
        now - timedelta(hours=settings.max_item_age_hours)
        if settings.max_item_age_hours > 0
        else datetime.min.replace(tzinfo=UTC)
    )
    items = list({it.id: it for it in items}.values())
    alerts: list[Alert] = []

    clusters: dict[str, list[NewItem]] = {}
    for it in sorted(items, key=lambda i: _utc(i.published)):
        if _utc(it.published) < horizon or _muted(it.tags.ticker_ids, history, now):
            continue
        clusters.setdefault(it.cluster_id or it.id, []).append(it)
    for cluster_id, group in clusters.items():
        alert = _story_alerts(cluster_id, group, settings, history, ledger, now)
        if alert is not None and alert.id not in ledger.severity_by_id:
            ledger.add(alert)
            alerts.append(alert)
    if "spike" in settings.enabled:
        alerts.extend(_spike_alerts(items, history, settings, ledger, now))
    if "drift" in settings.enabled:
        alerts.extend(_drift_alerts(items, history, settings, ledger, now))
    order = {a.id: i for i, a in enumerate(alerts)}
    return sorted(alerts, key=lambda a: (-_RANK[a.severity], order[a.id]))


# --- replay (``thesiswatch rules test``) -----------------------------------------------------


def replay(
    items: Sequence[NewItem],
    settings: RuleSettings,
    *,
    batch: timedelta = timedelta(minutes=10),
    rules: Iterable[str] | None = None,
) -> list[Alert]:
    """What the rules would have raised over stored items, oldest first, as if they had arrived
    in batches of ``batch`` (the poll interval). Mention and evidence statistics are rebuilt
    from the items themselves, so spike and drift replay too. ``rules`` limits the rules run
    (e.g. ``["keyword"]``). Alerts are stamped with the time of their batch."""
    if rules is not None:
        settings = replace(settings, enabled=frozenset(rules))
    ordered = sorted(items, key=lambda it: _utc(it.published))
    raised: list[Alert] = []
    hourly: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    daily: dict[str, dict[date | str, float]] = defaultdict(lambda: defaultdict(float))
    mentions: list[tuple[datetime, str]] = []
    first: datetime | None = None
    i = 0
    while i < len(ordered):
        start = _utc(ordered[i].published)
        first = first or start
        end = start + batch
        chunk = []
        while i < len(ordered) and _utc(ordered[i].published) < end:
            chunk.append(ordered[i])
            i += 1
        now = _utc(chunk[-1].published)
        window_start = now - timedelta(minutes=settings.spike_window_minutes)
        base_end = window_start.replace(minute=0, second=0, microsecond=0)
        hours = [base_end - timedelta(hours=h) for h in range(settings.spike_baseline_hours, 0, -1)]
        history = History(
            recent_alerts=raised[-500:],
            mentions_window=_count_window(mentions, window_start, now),
            mentions_hourly={t: [hourly[t].get(h, 0) for h in hours] for t in hourly},
            baseline_hours=min(
                settings.spike_baseline_hours, int((window_start - first).total_seconds() // 3600)
            ),
            thesis_daily={t: dict(d) for t, d in daily.items()},
        )
        raised.extend(evaluate(chunk, history, settings, now=now))
        for it in chunk:
            when = _utc(it.published)
            for t in it.tags.ticker_ids:
                hourly[t][when.replace(minute=0, second=0, microsecond=0)] += 1
                mentions.append((when, t))
            for st in it.tags.theses:
                daily[st.thesis][when.date()] += 1.0 if st.stance == "support" else -1.0
    return raised


def _count_window(
    mentions: Sequence[tuple[datetime, str]], start: datetime, end: datetime
) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for when, ticker in reversed(mentions):
        if when <= start:
            break
        if when <= end:
            counts[ticker] += 1
    return dict(counts)


# --- reading the store -----------------------------------------------------------------------


def _history_from_store(store: Any, *, now: datetime, settings: RuleSettings) -> History:
    """One read of each statistic, through the store's read-only ``query`` over the documented
    schema (``item_tickers``, ``thesis_daily``, ``items``) plus ``alerts``/``muted_tickers``."""
    longest = max([*settings.cooldown_minutes.values(), *DEFAULT_COOLDOWNS.values()])
    recent = store.alerts(
        limit=2000, since=now - timedelta(minutes=longest) - timedelta(days=2), include_hidden=True
    )
    window_start = now - timedelta(minutes=settings.spike_window_minutes)
    base_start = window_start - timedelta(hours=settings.spike_baseline_hours)
    ws, bs, end = _iso(window_start), _iso(base_start), _iso(now)
    _, rows = store.query(
        "SELECT ticker, count(*) FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker",
        (ws, end),
    )
    mentions_window = {t: int(n) for t, n in rows}
    hours = settings.spike_baseline_hours
    _, rows = store.query(
        "SELECT ticker, CAST((julianday(?) - julianday(ts)) * 24 AS INTEGER) AS h, count(*) "
        "FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker, h",
        (ws, bs, ws),
    )
    hourly: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    for ticker, ago, n in rows:
        if 0 <= int(ago) < hours:
            hourly[ticker][hours - 1 - int(ago)] += int(n)
    _, rows = store.query("SELECT min(fetched) FROM items")
    first = rows[0][0] if rows and rows[0][0] else None
    watched = (
        (window_start - _utc(datetime.fromisoformat(first))).total_seconds() / 3600 if first else 0
    )
    first_day = (now.date() - timedelta(days=settings.drift_window_days + 1)).isoformat()
    _, rows = store.query(
        "SELECT thesis, day, support - challenge FROM thesis_daily WHERE day >= ?", (first_day,)
    )
    daily: dict[str, dict[date | str, float]] = defaultdict(dict)
    for thesis, day, net in rows:
        daily[thesis][day] = float(net)
    return History(
        recent_alerts=[getattr(a, "alert", a) for a in recent],
        mentions_window=mentions_window,
        mentions_hourly=dict(hourly),
        baseline_hours=max(0, min(hours, int(watched))),
        thesis_daily=dict(daily),
        muted=store.muted_tickers(now),
        includes_items=True,
    )
