"""Materiality and the severity table: which events of an item deserve an alert, and how severe.

An event deserves an alert (is *material*) when its type is ``material`` in the taxonomy
(thesiswatch/watchlists/events.toml), it is not negated, and a covered company named with
relevance >= ``min_relevance`` is its subject or counterparty; a share move of
``critical_move_pct`` or more counts as material whatever its type's materiality. Items that
name a schedule/procedure event (a results date, a launch date, a halt pending an
announcement, a monthly return) never alert, whatever else they name. The table (``[rules.severity]``, all keys
optional, defaults below) grades a material event:

- ``critical``: event types critical when a covered company is their *subject* (guidance cut
  or withdrawn, export controls or a licence tightened or eased, sanction listing, a safety
  recall);
- ``critical_if_fatal``: types critical when the item names a death (a fatal accident);
- ``moves`` / ``critical_move_pct``: share-move types critical when the move named with them
  is at least this many per cent (``limit_moves`` are critical whatever their size: an
  A-share's 10 % daily limit);
- ``stakes`` / ``critical_stake_pct`` / ``critical_stake_usd_millions``: placements and
  stake sales critical at that share of the company or that amount (read from the title and
  summary: "US$1.2 billion", "5亿美元", "39亿港元", "20亿元" converted at ``usd_per``);
- every other material event: ``warning`` (``info`` for the types listed in ``info``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from thesiswatch.errors import ConfigError
from thesiswatch.records import Severity
from thesiswatch.signals.models import Event

SCHEDULE = "schedule"

DEFAULT_USD_PER: Mapping[str, float] = MappingProxyType(
    {"USD": 1.0, "HKD": 0.128, "CNY": 0.138, "TWD": 0.031, "EUR": 1.08}
)


@dataclass(frozen=True, kw_only=True)
class SeverityTable:
    """The severity of a material event, as data (``[rules.severity]``)."""

    min_relevance: int = 50
    critical: frozenset[str] = frozenset(
        (
            "guidance_cut",
            "export_control_tighten",
            "export_control_ease",
            "license_required",
            "license_granted",
            "sanction_listing",
            "recall",
        )
    )
    critical_if_fatal: frozenset[str] = frozenset({"accident"})
    moves: frozenset[str] = frozenset(
        {"shares_up", "shares_down", "limit_up", "limit_down", "market_value_loss", "record_high"}
    )
    limit_moves: frozenset[str] = frozenset({"limit_up", "limit_down"})
    critical_move_pct: float = 5.0
    stakes: frozenset[str] = frozenset({"share_placement", "stake_sale"})
    critical_stake_pct: float = 5.0
    critical_stake_usd_millions: float = 500.0
    info: frozenset[str] = frozenset()
    quiet: frozenset[str] = frozenset()
    thesis_needs_cover: frozenset[str] = frozenset({"product_launch"})
    usd_per: Mapping[str, float] = field(default_factory=lambda: DEFAULT_USD_PER)

    @classmethod
    def from_config(cls, table: object, *, where: str) -> SeverityTable:
        """Validate ``[rules.severity]``; a bad key or value raises one ``ConfigError`` line
        naming it.

        >>> SeverityTable.from_config({"critical_move_pct": 8}, where="rules.severity").critical_move_pct
        8
        """
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        default = cls()
        for key, value in table.items():
            at = f"{where}.{key}"
            if key not in known:
                raise ConfigError(
                    f"{at}: unknown key (expected one of: {', '.join(sorted(known))})"
                )
            current = getattr(default, key)
            if isinstance(current, frozenset):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{at}: expected a list of event types")
                kwargs[key] = frozenset(value)
            elif key == "usd_per":
                if not isinstance(value, dict) or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                    for v in value.values()
                ):
                    raise ConfigError(f"{at}: expected a table of currency = US dollars per unit")
                kwargs[key] = MappingProxyType({**DEFAULT_USD_PER, **value})
            else:
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise ConfigError(f"{at}: expected a number >= 0")
                kwargs[key] = value
        return cls(**kwargs)


@dataclass(frozen=True, kw_only=True)
class Graded:
    """One material event of an item, graded by the table."""

    event: Event
    severity: Severity
    reason: str  # why this severity, in a few words
    covered: tuple[tuple[str, str], ...]  # (ticker, role) of the covered names in it


_FATAL = re.compile(
    r"fatal|\bdeath|\bdead\b|\bdies\b|\bdied\b|\bkill(?:s|ed|ing)?\b|死亡|身亡|遇难|丧生|罹难|致死|喪生|罹難|遇難",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?P<cur>US\$|HK\$|NT\$|\$|€|RMB|USD|HKD)?\s*(?P<num>\d+(?:[.,]\d+)*)\s*"
    r"(?P<unit>billion|bn|million|mn|m\b|亿|億|万|萬)\s*(?P<cur2>美元|港元|港币|港幣|元|人民币|新台币|台币|欧元|dollars?|yuan|euros?)?",
    re.IGNORECASE,
)
_STAKE_PCT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|％|per ?cent)")
_NEAR_PCT = re.compile(r"\D{0,12}?(\d+(?:\.\d+)?)\s*(?:%|％|per ?cent)", re.IGNORECASE)


def move_size(event: Event, text: str) -> float | None:
    """The size of a share move: the event's magnitude, or else a percentage named right after
    the words it was read from ("falls 9%", "大跌17%", "涨约7%")."""
    if event.magnitude is not None:
        return event.magnitude
    lowered = text.casefold()
    for phrase in event.evidence:
        at = lowered.find(phrase.casefold())
        if at >= 0:
            m = _NEAR_PCT.match(text, at + len(phrase))
            if m:
                return float(m.group(1))
    return None


def amount_usd_millions(text: str, usd_per: Mapping[str, float]) -> float | None:
    """The largest money amount named in ``text``, in US$ millions (None if none is named).

    >>> amount_usd_millions("raises HK$3.9 billion in a share placement", DEFAULT_USD_PER)
    499.2
    >>> amount_usd_millions("配售新股募资约5亿美元", DEFAULT_USD_PER)
    500.0
    """
    best: float | None = None
    for m in _AMOUNT.finditer(text):
        cur = (m.group("cur") or "").upper()
        cur2 = m.group("cur2") or ""
        unit = m.group("unit").lower()
        if not cur and not cur2:
            continue  # a bare count ("10 million units"), not money
        number = float(m.group("num").replace(",", ""))
        scale = {"billion": 1000.0, "bn": 1000.0, "亿": 100.0, "億": 100.0, "万": 0.01,
                 "萬": 0.01}.get(unit, 1.0)  # fmt: skip
        if cur in ("HK$", "HKD") or cur2 in ("港元", "港币", "港幣"):
            code = "HKD"
        elif cur == "NT$" or cur2 in ("新台币", "台币"):
            code = "TWD"
        elif cur == "€" or cur2.lower().startswith("euro") or cur2 == "欧元":
            code = "EUR"
        elif cur == "RMB" or cur2 in ("元", "人民币") or cur2.lower() == "yuan":
            code = "CNY"
        else:
            code = "USD"
        value = number * scale * usd_per.get(code, 1.0)
        best = value if best is None else max(best, value)
    return round(best, 1) if best is not None else None


def is_schedule(events: Sequence[Event]) -> bool:
    """True for a schedule/procedure item: one that names a schedule event (a launch date, a
    halt pending an announcement, a monthly return) whatever else it names."""
    return any(e.materiality == SCHEDULE for e in events)


def grade(events: Sequence[Event], relevance: Mapping[str, int], text: str,
          table: SeverityTable) -> list[Graded]:  # fmt: skip
    """The material events of one item with their severity, most severe first; none when its
    item names a schedule/procedure event."""
    if not events or is_schedule(events):
        return []
    out: list[Graded] = []
    for event in events:
        if event.negated or event.materiality == SCHEDULE or event.type in table.quiet:
            continue
        covered = tuple(
            (t, role) for t, role in event.entities if relevance.get(t, 100) >= table.min_relevance
        )
        if not covered:
            continue
        subject = any(role == "subject" for _, role in covered)
        size = move_size(event, text) if event.type in table.moves else None
        big_move = event.type in table.moves and (
            event.type in table.limit_moves
            or (size is not None and size >= table.critical_move_pct)
        )
        if event.materiality != "material" and not big_move:
            continue
        severity: Severity = "info" if event.type in table.info else "warning"
        reason = "material event, covered subject"
        if subject and event.type in table.critical:
            severity, reason = "critical", f"{event.type} hits the subject"
        elif subject and event.type in table.critical_if_fatal and _FATAL.search(text):
            severity, reason = "critical", "fatal"
        elif subject and big_move:
            severity = "critical"
            reason = (
                f"move {size:g}% >= {table.critical_move_pct:g}%"
                if size is not None
                else "daily limit move"
            )
        elif subject and event.type in table.stakes:
            pct = [float(m.group(1)) for m in _STAKE_PCT.finditer(text)]
            usd = amount_usd_millions(text, table.usd_per)
            if pct and max(pct) >= table.critical_stake_pct:
                severity, reason = (
                    "critical",
                    f"{max(pct):g}% of shares >= {table.critical_stake_pct:g}%",
                )
            elif usd is not None and usd >= table.critical_stake_usd_millions:
                severity = "critical"
                reason = f"US${usd:,.0f}m >= US${table.critical_stake_usd_millions:,.0f}m"
        if not subject:
            reason = "covered counterparty"
            severity = "info" if event.type in table.info else "warning"
        out.append(Graded(event=event, severity=severity, reason=reason, covered=covered))
    rank = {"info": 0, "warning": 1, "critical": 2}
    out.sort(key=lambda g: -rank[g.severity])
    return out
