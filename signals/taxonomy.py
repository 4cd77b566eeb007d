"""The event taxonomy as data: event types, their phrase groups and negators.

``parse_taxonomy`` reads the taxonomy TOML (``thesiswatch/watchlists/events.toml``, or a
watchlist's own ``[[events]]`` tables; format in docs/events.md) into frozen records, naming
the key of any problem; ``signals.events.EventReader`` does the reading.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.watchlist import _Table

GROUPS = (
    "results", "orders", "launches", "spending", "sales", "pricing", "capital", "regulation",
    "supply", "safety", "market", "people", "schedule", "macro",
)  # fmt: skip
MATERIALITY = ("material", "minor", "schedule")

@dataclass(frozen=True, slots=True)
class ThesisEvidence:
    """An event's evidence on a thesis, when ``condition`` (a cue, see docs/events.md) holds."""

    thesis: str
    stance: Literal["support", "challenge"]
    condition: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventType:
    """One event type of the taxonomy (docs/events.md)."""

    id: str
    group: str
    polarity: int = 0
    counterparty: int = 0
    weight: float = 1.0
    materiality: str = "material"
    subject: Literal["before", "after", "first"] = "before"
    negated: Literal["void", "flip", "ignore"] = "void"
    patterns: tuple[str, ...] = ()
    theses: tuple[ThesisEvidence, ...] = ()
    polarity_if: tuple[tuple[str, int], ...] = ()  # (condition, polarity): the first that holds
    lexicon: bool = True  # may the lexicon's tone stand in when no event of the item is polar?


@dataclass(frozen=True, slots=True, kw_only=True)
class Taxonomy:
    """Event types, their phrase groups and the negators, as read from a taxonomy file."""

    types: tuple[EventType, ...] = ()
    vocab: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    negators: tuple[str, ...] = ()
    reach_words: int = 3
    reach_chars: int = 6

    def type(self, id: str) -> EventType:
        for t in self.types:
            if t.id == id:
                return t
        raise KeyError(id)

    def merged(self, other: Taxonomy) -> Taxonomy:
        """This taxonomy with ``other``'s types added (new ids) or replacing (same ids)."""
        replaced = {t.id: t for t in other.types}
        types = [replaced.pop(t.id, t) for t in self.types] + list(replaced.values())
        return Taxonomy(
            types=tuple(types),
            vocab={**self.vocab, **other.vocab},
            negators=self.negators + tuple(n for n in other.negators if n not in self.negators),
            reach_words=self.reach_words,
            reach_chars=self.reach_chars,
        )


_EVENT_KEYS = (
    "id, group, title, polarity, counterparty, weight, materiality, subject, negated, "
    "patterns, theses, polarity_if, lexicon"
)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_taxonomy(
    source: str | Mapping[str, Any], *, origin: str, thesis_ids: Sequence[str] | None = None
) -> Taxonomy:
    """A ``Taxonomy`` from taxonomy TOML text (or its parsed tables): ``[vocab]``,
    ``[negation]`` and ``[[events]]``. Problems raise ``WatchlistError`` naming the key."""
    if isinstance(source, str):
        try:
            data: Mapping[str, Any] = tomllib.loads(source)
        except tomllib.TOMLDecodeError as exc:
            raise WatchlistError(f"{origin}: not valid TOML: {exc}") from exc
    else:
        data = source
    top = _Table(data, "", origin)
    top.integer("version", default=1, low=1, high=1)
    vocab: dict[str, tuple[str, ...]] = {}
    vocab_table = top.table("vocab") or top.table("event_vocab")
    if vocab_table is not None:
        for key in vocab_table.data:
            if not _ID.match(key):
                raise vocab_table.fail(key, "a group name of [a-z0-9_] starting with a letter", key)
            vocab[key] = vocab_table.texts(key)
    negators: tuple[str, ...] = ()
    reach_words, reach_chars = 3, 6
    negation = top.table("negation")
    if negation is not None:
        negators = negation.texts("before")
        reach_words = negation.integer("reach_words", default=3, low=0, high=10)
        reach_chars = negation.integer("reach_chars", default=6, low=0, high=20)
        negation.done("before, reach_words, reach_chars")
    types: list[EventType] = []
    for t in top.tables("events"):
        types.append(_event_type(t, vocab, thesis_ids))
        if sum(1 for x in types if x.id == types[-1].id) > 1:
            raise t.fail("id", "an event id not used before in this file", types[-1].id)
    top.done("version, vocab, negation, events")
    return Taxonomy(
        types=tuple(types),
        vocab=vocab,
        negators=negators,
        reach_words=reach_words,
        reach_chars=reach_chars,
    )


def _event_type(
    t: _Table, vocab: Mapping[str, tuple[str, ...]], thesis_ids: Sequence[str] | None
) -> EventType:
    eid = t.text("id", required=True)
    if not _ID.match(eid):
        raise t.fail("id", "an id of [a-z0-9_] starting with a letter", eid)
    group = t.text("group", required=True)
    if group not in GROUPS:
        raise t.fail("group", f"one of {', '.join(GROUPS)}", group)
    t.text("title")
    materiality = t.text("materiality", default="material")
    if materiality not in MATERIALITY:
        raise t.fail("materiality", f"one of {', '.join(MATERIALITY)}", materiality)
    subject = t.text("subject", default="before")
    if subject not in ("before", "after", "first"):
        raise t.fail("subject", '"before", "after" or "first"', subject)
    negated = t.text("negated", default="void")
    if negated not in ("void", "flip", "ignore"):
        raise t.fail("negated", '"void", "flip" or "ignore"', negated)
    patterns = t.texts("patterns")
    for pattern in patterns:
        for term in pattern.split(" ... "):
            term = term.strip()
            if not term or (term.startswith("@") and term[1:] not in vocab):
                raise t.fail(
                    "patterns", "terms that are phrases or @groups defined in [vocab]", pattern
                )
    evidence: list[ThesisEvidence] = []
    raw = t.data.get("theses", [])
    t.used.add("theses")
    if not isinstance(raw, list):
        raise t.fail("theses", "an array of {thesis, stance, if} tables", raw)
    for row in raw:
        if not isinstance(row, dict) or set(row) - {"thesis", "stance", "if"}:
            raise t.fail("theses", "{thesis = ..., stance = ..., if = ...} tables", row)
        thesis, stance, cond = row.get("thesis"), row.get("stance"), row.get("if", "")
        if not isinstance(thesis, str) or (thesis_ids is not None and thesis not in thesis_ids):
            raise t.fail("theses", "a thesis id of the watchlist", thesis)
        if stance not in ("support", "challenge"):
            raise t.fail("theses", '"support" or "challenge"', stance)
        if not isinstance(cond, str):
            raise t.fail("theses", "an if cue string", cond)
        for term in filter(None, (x.strip().lstrip("!") for x in cond.split(" + "))):
            if term.startswith("@") and term[1:] not in vocab:
                raise t.fail("theses", "conditions using @groups defined in [vocab]", cond)
        evidence.append(ThesisEvidence(thesis, stance, cond))
    overrides: list[tuple[str, int]] = []
    raw = t.data.get("polarity_if", [])
    t.used.add("polarity_if")
    if not isinstance(raw, list):
        raise t.fail("polarity_if", "an array of {if, polarity} tables", raw)
    for row in raw:
        if (
            not isinstance(row, dict)
            or set(row) != {"if", "polarity"}
            or not isinstance(row["if"], str)
            or row["polarity"] not in (-1, 0, 1)
        ):
            raise t.fail("polarity_if", "{if = \"cue\", polarity = -1, 0 or 1} tables", row)
        for term in filter(None, (x.strip().lstrip("!") for x in row["if"].split(" + "))):
            if term.startswith("@") and term[1:] not in vocab:
                raise t.fail("polarity_if", "conditions using @groups defined in [vocab]", row)
        overrides.append((row["if"], int(row["polarity"])))
    result = EventType(
        id=eid,
        group=group,
        polarity=int(t.integer("polarity", default=0, low=-1, high=1)),
        counterparty=int(t.integer("counterparty", default=0, low=-1, high=1)),
        weight=t.number("weight", default=1.0, low=0.0, high=10.0),
        materiality=materiality,
        subject=subject,  # type: ignore[arg-type]
        negated=negated,  # type: ignore[arg-type]
        patterns=patterns,
        theses=tuple(evidence),
        polarity_if=tuple(overrides),
        lexicon=t.boolean("lexicon", default=True),
    )
    t.done(_EVENT_KEYS)
    return result



__all__ = [
    "GROUPS",
    "MATERIALITY",
    "EventType",
    "Taxonomy",
    "ThesisEvidence",
    "parse_taxonomy",
]
