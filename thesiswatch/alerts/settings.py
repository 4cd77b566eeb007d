"""Rule thresholds: ``RuleSettings`` and the validation of the ``[rules]`` config table.

Old names keep loading with a one-line deprecation note (``RuleSettings.notes``, logged by
``from_config``): the rule ``shock`` is now ``event`` (in ``enabled`` and ``cooldown_minutes``),
``shock_threshold`` is now ``unread_event_sentiment`` (the sentiment from which an item about a
covered company in which no event was read alerts) and ``shock_critical`` is ignored (the
severity table grades events).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from thesiswatch.alerts.keyword import KeywordRule
from thesiswatch.alerts.severity import SeverityTable
from thesiswatch.errors import ConfigError
from thesiswatch.records import SEVERITIES

log = logging.getLogger("thesiswatch.alerts")

RULES: tuple[str, ...] = ("event", "risk", "thesis", "keyword", "spike", "drift")
RENAMED_RULES: Mapping[str, str] = MappingProxyType({"shock": "event"})
"""Old rule name -> current name (old configs keep loading, with a note)."""
RENAMED_KEYS: Mapping[str, str] = MappingProxyType({"shock_threshold": "unread_event_sentiment"})
RETIRED_KEYS: tuple[str, ...] = ("shock_critical",)

DEFAULT_COOLDOWNS: Mapping[str, float] = MappingProxyType(
    {"event": 720, "thesis": 60, "risk": 60, "keyword": 30, "spike": 180, "drift": 720}
)


@dataclass(frozen=True, kw_only=True)
class RuleSettings:
    """Thresholds of every rule; built from the ``[rules]`` config table by ``from_config``."""

    enabled: frozenset[str] = frozenset(RULES)
    max_item_age_hours: float = 0.0  # 0 = no limit
    unread_event_sentiment: float = 0.6  # 0 = off
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
    severity: SeverityTable = field(default_factory=SeverityTable)
    notes: tuple[str, ...] = ()  # deprecation notes from from_config, one line each

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

        >>> RuleSettings.from_config({"thesis_min_strength": 0.7, "keyword": [
        ...     {"name": "export", "match": "+出口管制 !传闻", "severity": "warning"}]}).thesis_min_strength
        0.7
        >>> RuleSettings.from_config({"enabled": ["shock"]}).notes
        ('config: rules.enabled: rule "shock" is now "event" (deprecated name, still read)',)
        """
        known = {f.name: f for f in fields(cls) if f.name != "notes"} | {"keyword": None}
        kwargs: dict[str, Any] = {}
        notes: list[str] = []

        def renamed(rule: str, where: str) -> str:
            base, sep, rest = rule.partition(":")
            if base in RENAMED_RULES:
                new = RENAMED_RULES[base] + sep + rest
                notes.append(f'{where}: rule "{rule}" is now "{new}" (deprecated name, still read)')
                return new
            return rule

        for key, value in table.items():
            where = f"{origin}: rules.{key}"
            if key in RENAMED_KEYS:
                notes.append(f'{where}: now "{RENAMED_KEYS[key]}" (deprecated name, still read)')
                key, where = RENAMED_KEYS[key], f"{origin}: rules.{RENAMED_KEYS[key]}"
            if key in RETIRED_KEYS:
                notes.append(
                    f"{where}: ignored (deprecated: the severity table grades events, "
                    "see [rules.severity])"
                )
                continue
            if key == "severity":
                kwargs[key] = SeverityTable.from_config(value, where=where)
                continue
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
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and renamed(v, where) in RULES for v in value
                ):
                    raise ConfigError(f"{where}: expected a list of rule names from {list(RULES)}")
                kwargs[key] = frozenset(RENAMED_RULES.get(v, v) for v in value)
            elif key == "cooldown_minutes":
                if not isinstance(value, dict):
                    raise ConfigError(f"{where}: expected a table of rule = minutes")
                value = {renamed(rule, where): minutes for rule, minutes in value.items()}
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
        for note in dict.fromkeys(notes):
            log.warning("%s", note)
        return cls(**kwargs, notes=tuple(dict.fromkeys(notes)))


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
