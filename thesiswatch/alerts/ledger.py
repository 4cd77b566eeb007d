"""What was already raised: stable alert ids, known severities, running cooldowns, mutes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from thesiswatch.alerts.history import History
from thesiswatch.alerts.settings import RuleSettings
from thesiswatch.clock import as_utc
from thesiswatch.records import SEVERITY_RANK, Alert, Severity


def alert_id(rule: str, cluster_id: str, key: str) -> str:
    """Stable alert id: the same rule, story and key always give the same id."""
    return hashlib.sha1(f"{rule}\x1f{cluster_id}\x1f{key}".encode()).hexdigest()[:20]


_NAMED_EVENT = re.compile(r"(?:^|\. also |; )event ([a-z0-9_]+): ")


def cooled_rules(alert: Alert) -> tuple[str, ...]:
    """The rules an alert starts a cooldown for: its own, and for an ``event`` alert every
    other event type its message names ("also event deliveries_down: ..."), so a repeat of
    the story read with another main event (in another language) stays quiet too."""
    if alert.rule.split(":", 1)[0] != "event":
        return (alert.rule,)
    named = (f"event:{t}" for t in _NAMED_EVENT.findall(alert.message))
    return tuple(dict.fromkeys([alert.rule, *named]))


def story_alert_id(cluster_id: str, severity: Severity) -> str:
    """The id of a story's alert at one severity: a story alerts once per severity, and only
    upwards (``AlertLedger.story_rank``)."""
    return alert_id("story", cluster_id, severity)


def _subjects(rule: str, tickers: Sequence[str], thesis: str | None) -> tuple[str, ...]:
    """What a cooldown is about, beside the rule (``event:<type>`` keys it by event type):
    the tickers, or the thesis for thesis/risk/drift alerts."""
    base = rule.split(":", 1)[0]
    if base in ("drift", "thesis", "risk") and thesis:
        return (f"thesis={thesis}",)
    return tuple(tickers) or ("*",)


class AlertLedger:
    """Known alert ids, severities and running cooldowns (updated as alerts are raised)."""

    def __init__(self, recent: Sequence[Alert], settings: RuleSettings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.severity_by_id: dict[str, Severity] = {}
        self.title_by_id: dict[str, str] = {}
        self.cooling: dict[tuple[str, str], tuple[datetime, int]] = {}
        for alert in recent:
            self.add(alert)

    def add(self, alert: Alert, *, start: datetime | None = None) -> None:
        """Record an alert: its id and severity, and its cooldowns from ``start`` (default:
        when it was raised; a story alert of this batch passes its item's time, so a backlog
        read in one poll is cooled by item time, as it would have been live)."""
        self.severity_by_id[alert.id] = alert.severity
        self.title_by_id[alert.id] = alert.title
        if start is None:
            try:
                start = as_utc(datetime.fromisoformat(alert.created))
            except ValueError:
                return
        until = start + self.settings.cooldown(alert.rule)
        rank = SEVERITY_RANK[alert.severity]
        for rule in cooled_rules(alert):
            for subject in _subjects(rule, alert.tickers, alert.thesis):
                key = (rule, subject)
                prev = self.cooling.get(key)
                if prev is None or prev[1] < rank or prev[0] < until:
                    self.cooling[key] = (
                        max(until, prev[0]) if prev else until,
                        max(rank, prev[1]) if prev else rank,
                    )

    def story_rank(self, cluster_id: str) -> int:
        """The rank of the most severe alert this story raised (-1: none)."""
        return max(
            (SEVERITY_RANK[s] for s in SEVERITY_RANK
             if story_alert_id(cluster_id, s) in self.severity_by_id),  # type: ignore[arg-type]
            default=-1,
        )  # fmt: skip

    def story_titles(self, cluster_id: str) -> list[str]:
        """The titles of the alerts this story raised."""
        ids = (story_alert_id(cluster_id, s) for s in ("info", "warning", "critical"))
        return [self.title_by_id[i] for i in ids if i in self.title_by_id]

    def cooled(
        self,
        rule: str,
        tickers: Sequence[str],
        thesis: str | None,
        severity: Severity,
        *,
        at: datetime | None = None,
    ) -> bool:
        """True when every subject of the would-be alert is cooling down at this severity at
        ``at`` (default: now)."""
        rank = SEVERITY_RANK[severity]
        when = at or self.now
        for subject in _subjects(rule, tickers, thesis):
            state = self.cooling.get((rule, subject))
            if state is None or state[1] < rank or state[0] <= when:
                return False
        return True


def all_muted(tickers: Sequence[str], history: History, now: datetime) -> bool:
    if not tickers:
        return False
    for ticker in tickers:
        if ticker not in history.muted:
            return False
        until = history.muted[ticker]
        if until is not None and as_utc(until) <= now:
            return False
    return True


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
