"""Events: what happened in an item, to whom, and what it means for the theses.

The taxonomy (``thesiswatch/watchlists/events.toml``, format in docs/events.md) gives every
event type its patterns, the reading it carries for its subject and counterparty, its weight,
materiality and thesis evidence. ``EventReader.read`` finds the events of one item, gives each
covered company a role (subject, counterparty, passing) and a relevance 0-100, and says how the
item bears on the theses. Pure: text and linked tickers in, frozen records out.

Matching runs on folded text (``signals.entities.fold``: simplified Chinese, lower case,
ASCII), which keeps the length, so spans index the caller's text. Every phrase of the
taxonomy is indexed by its first two characters; at each position of the text only the
phrases starting there are tried, so a scan costs about one pass over the text however large
the taxonomy is.

>>> from thesiswatch.signals.watchlist import parse_watchlist
>>> wl = parse_watchlist('''
... name = "t"
... [[theses]]
... id = "compute"
... title = "AI compute"
... [[companies]]
... id = "NVDA.US"
... name = "NVIDIA"
... aliases = ["Nvidia"]
... theses = ["compute"]
... ''')
>>> tax = parse_taxonomy('''
... [vocab]
... cut = ["cut*", "lower*"]
... guidance = ["guidance", "outlook"]
... [[events]]
... id = "guidance_cut"
... group = "results"
... polarity = -1
... weight = 3
... patterns = ["@cut ... @guidance"]
... ''', origin="demo")
>>> from thesiswatch.signals.entities import Linker
>>> text = "Nvidia cuts its outlook"
>>> read = EventReader(tax, wl).read(text, len(text), Linker(wl).link(text))
>>> [(e.type, dict(e.entities), e.polarity) for e in read.events], read.relevance
([('guidance_cut', {'NVDA.US': 'subject'}, -1)], {'NVDA.US': 90})
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.entities import compile_phrases, fold
from thesiswatch.signals.models import Event, ThesisStance, TickerMention
from thesiswatch.signals.watchlist import Watchlist, _Table

Role = Literal["subject", "counterparty", "passing"]
GROUPS = (
    "results", "orders", "launches", "spending", "sales", "pricing", "capital", "regulation",
    "supply", "safety", "market", "people", "schedule", "macro",
)  # fmt: skip
MATERIALITY = ("material", "minor", "schedule")
GAP_LATIN = 40
GAP_HAN = 12

_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.(?=\s)")
_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_PLAIN = re.compile(r"[*\s\-:]")
_LIMIT_MOVES = frozenset(("limit_up", "limit_down"))  # a 10 % (or 20 %) daily limit move
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_STARTS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")  # word starts and every other character
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?(?:%|％|个百分点|成)")
_CONJ = re.compile(r"^\s*(?:,|，|、|and|&|和|与|及|以及|跟|同)\s*$")
_PASSING_BEFORE = compile_phrases([
    "rival", "rivals", "rival to", "than", "like", "such as", "unlike", "versus", "vs", "vs.",
    "powered by", "made by", "built by", "supplied by", "based on", "on par with", "alongside",
    "competitor", "competitors", "alternative to", "replace", "replacing", "compared with",
    "compared to", "outpac*", "rivaling", "rivalling", "challenger to", "rivals", "below",
    "above", "china's", "china’s", "高于", "低于", "超过", "比肩", "叫板", "平替",
    "替代", "取代", "对标", "比", "相比", "相较", "媲美", "不输", "超越", "如", "像", "采用",
    "搭载", "基于", "继", "对手", "追赶", "落后于",
])  # fmt: skip
_PASSING_AFTER = compile_phrases([
    "'s rival", "’s rival", "rival", "rivals", "competitor", "-made", "made", "-powered",
    "powered", "等", "之后", "的对手", "代工", "的竞争对手", "同款", "一样", "之外", "以外",
    "概念股", "概念", "产业链",
])  # fmt: skip
_VENUE = re.compile(r"(?:'s |’s )?(?:app store|应用商店|商店|平台)")
_PASSING_REACH = 14


# --------------------------------------------------------------------------- taxonomy


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
    subject: Literal["before", "after"] = "before"
    negated: Literal["void", "flip", "ignore"] = "void"
    patterns: tuple[str, ...] = ()
    theses: tuple[ThesisEvidence, ...] = ()


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
    "patterns, theses"
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
    if subject not in ("before", "after"):
        raise t.fail("subject", '"before" or "after"', subject)
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
    )
    t.done(_EVENT_KEYS)
    return result


# --------------------------------------------------------------------------- matching


def _is_han(ch: str) -> bool:
    return bool(_HAN.match(ch))


@dataclass(frozen=True, slots=True)
class _Pattern:
    type_index: int
    terms: tuple[int, ...]  # term ids


class _LazyPattern:
    """A phrase's regex, compiled the first time a text could start it (a taxonomy has
    thousands; compiling them all made start-up slow for a one-item ``tag``)."""

    __slots__ = ("_pattern", "phrase")

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase
        self._pattern: re.Pattern[str] | None = None

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        if self._pattern is None:
            self._pattern = compile_phrases([self.phrase]) or re.compile(r"(?!)")
        return self._pattern.match(text, pos)


class _PhraseIndex:
    """Every phrase of every term, found at every position by a two-character index."""

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}
        # folded phrase -> (its regex, None for a plain phrase compared as a string; term ids)
        self._phrases: dict[str, tuple[_LazyPattern | None, set[int]]] = {}

    def term(self, key: str, phrases: Iterable[str]) -> int:
        if key not in self.term_ids:
            tid = self.term_ids[key] = len(self.term_ids)
            for phrase in phrases:
                folded = fold(phrase.strip())
                if not folded or folded.startswith("*"):
                    continue
                entry = self._phrases.get(folded)
                if entry is None:
                    # Only phrases with a wildcard, space, hyphen or colon need a regex (most
                    # are plain: compiling thousands of regexes was most of the start-up).
                    pattern = _LazyPattern(phrase) if _NOT_PLAIN.search(folded) else None
                    entry = self._phrases[folded] = (pattern, set())
                entry[1].add(tid)
        return self.term_ids[key]

    def build(self) -> None:
        """Index phrases for ``hits``: a Latin phrase by its whole first word (by its first two
        characters when that word ends in a wildcard), any other by its first two characters
        (one when it is that short). Plain phrases (no wildcard, space or hyphen) are compared
        as strings, the rest with their regex."""
        Entry = tuple[str | None, _LazyPattern | None, frozenset[int]]
        self._by_word: dict[str, list[Entry]] = {}
        self._by2: dict[str, list[Entry]] = {}
        self._by1: dict[str, list[Entry]] = {}
        for folded, (pattern, tids) in self._phrases.items():
            plain = folded if pattern is None else None
            entry = (plain, pattern, frozenset(tids))
            word = _LATIN_WORD.match(folded)
            if word is not None and folded[word.end() : word.end() + 1] != "*":
                self._by_word.setdefault(word.group(), []).append(entry)
                continue
            head = folded[:2]
            if len(head) == 2 and head[1] not in " -*":
                self._by2.setdefault(head, []).append(entry)
            else:
                self._by1.setdefault(folded[0], []).append(entry)

    def hits(self, folded: str) -> dict[int, list[tuple[int, int]]]:
        """term id -> spans where one of its phrases matches (tried at each word start and
        each other non-space character: a Latin phrase never starts inside a word)."""
        found: dict[int, list[tuple[int, int]]] = {}
        by_word, by1, by2 = self._by_word, self._by1, self._by2
        n = len(folded)
        for start in _STARTS.finditer(folded):
            i = start.start()
            for bucket in (
                by_word.get(start.group()),
                by2.get(folded[i : i + 2]),
                by1.get(folded[i]),
            ):
                if not bucket:
                    continue
                for plain, pattern, tids in bucket:
                    if plain is not None:
                        if not folded.startswith(plain, i):
                            continue
                        end = i + len(plain)
                        if end < n and plain[-1].isascii() and plain[-1].isalnum():
                            nxt = folded[end]
                            if nxt.isascii() and nxt.isalnum():
                                continue
                    elif pattern is not None:
                        m = pattern.match(folded, i)
                        if m is None or m.end() <= i:
                            continue
                        end = m.end()
                    else:
                        continue
                    for tid in tids:
                        found.setdefault(tid, []).append((i, end))
        return found


class _Cue:
    """A condition: terms joined by ' + ' (phrase, @group, $thesis, each maybe negated)."""

    def __init__(self, text: str, index: _PhraseIndex, vocab: Mapping[str, tuple[str, ...]]):
        self.terms: list[tuple[bool, str, int | None]] = []
        for raw in filter(None, (x.strip() for x in text.split(" + "))):
            negated = raw.startswith("!")
            term = raw[1:].strip() if negated else raw
            if term.startswith("$"):
                self.terms.append((negated, term[1:], None))
            else:
                phrases = vocab[term[1:]] if term.startswith("@") else (term,)
                self.terms.append((negated, term, index.term(term, phrases)))

    def holds(self, hits: Mapping[int, list[tuple[int, int]]], subject_theses: set[str]) -> bool:
        """``subject_theses``: the theses of the event's subjects' baskets, plus "nosubject"
        when no covered company is its subject."""
        for negated, term, tid in self.terms:
            present = term in subject_theses if tid is None else tid in hits
            if present == negated:
                return False
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What ``EventReader.read`` found in one item."""

    events: tuple[Event, ...] = ()
    roles: Mapping[str, Role] = field(default_factory=dict)
    relevance: Mapping[str, int] = field(default_factory=dict)
    by_ticker: Mapping[str, float] = field(default_factory=dict)  # summed reading per ticker
    theses: tuple[ThesisStance, ...] = ()
    polarity: float = 0.0  # summed reading of the events no covered company is the subject of
    title_schedule: Event | None = None  # a schedule/procedure event read in the title


@dataclass(slots=True)
class _Found:
    type_index: int
    start: int
    trigger: tuple[int, int]
    sentence: int
    negated: bool = False


class EventReader:
    """Finds events in items and gives covered companies their roles (docs/events.md)."""

    def __init__(self, taxonomy: Taxonomy, watchlist: Watchlist) -> None:
        self.taxonomy = taxonomy
        self.types = taxonomy.types
        self._index = _PhraseIndex()
        vocab = taxonomy.vocab
        self._patterns: list[_Pattern] = []
        for ti, etype in enumerate(self.types):
            for pattern in etype.patterns:
                terms = []
                for term in (x.strip() for x in pattern.split(" ... ")):
                    phrases = vocab[term[1:]] if term.startswith("@") else (term,)
                    terms.append(self._index.term(term, phrases))
                self._patterns.append(_Pattern(ti, tuple(terms)))
        self._by_first: dict[int, list[_Pattern]] = {}
        for p in self._patterns:
            self._by_first.setdefault(p.terms[0], []).append(p)
        self._negator = self._index.term("<negators>", taxonomy.negators)
        self._evidence = [
            [(ev, _Cue(ev.condition, self._index, vocab)) for ev in etype.theses]
            for etype in self.types
        ]
        self._index.build()
        self._basket = {c.id: set(c.theses) for c in watchlist.companies}
        self._risk = {t.id for t in watchlist.theses if getattr(t, "role", "") == "risk"}

    # -- finding events ---------------------------------------------------------------

    def _find(self, folded: str, hits: Mapping[int, list[tuple[int, int]]]) -> list[_Found]:
        bounds = [m.end() for m in _SENTENCE_END.finditer(folded)]

        def sentence(pos: int) -> int:
            return bisect_right(bounds, pos)

        found: dict[tuple[int, int], _Found] = {}  # (type, sentence) -> first occurrence
        for first, spans in hits.items():
            patterns = self._by_first.get(first)
            if not patterns:
                continue
            for start, end in spans:
                for p in patterns:
                    span = self._follow(folded, p.terms, start, end, hits)
                    if span is None:
                        continue
                    s = sentence(start)
                    key = (p.type_index, s)
                    known = found.get(key)
                    # the earliest trigger; for one trigger, the tightest reading (the last
                    # first term before it: "BYD deliveries rise while NIO deliveries fall")
                    if (
                        known is None
                        or span[0] < known.trigger[0]
                        or (span == known.trigger and start > known.start)
                    ):
                        found[key] = _Found(p.type_index, start, span, s)
        events = sorted(found.values(), key=lambda f: (f.trigger[0], f.type_index))
        # Schedule events own their words: "to report results on" is not a results event.
        by_sentence: dict[int, list[_Found]] = {}
        for f in events:
            by_sentence.setdefault(f.sentence, []).append(f)  # overlaps stay within a sentence
        schedule = {
            n: [f for f in group if self.types[f.type_index].group == "schedule"]
            for n, group in by_sentence.items()
        }
        kept = [
            f
            for f in events
            if self.types[f.type_index].group == "schedule"
            or not any(
                s.start <= f.trigger[1] and f.start <= s.trigger[1] for s in schedule[f.sentence]
            )
        ]
        by_sentence = {}
        for f in kept:
            by_sentence.setdefault(f.sentence, []).append(f)
        # An event whose words start inside another's ("curbs ... China" after "eases chip
        # curbs") is the same words read twice: the earlier (or, from one start, the wider)
        # reading wins, unless the inner one weighs more ("涨停" inside "股价涨").

        def weight(f: _Found) -> float:
            return self.types[f.type_index].weight

        kept = [
            f
            for f in kept
            if not any(
                g is not f
                and (
                    (g.start < f.start < g.trigger[1] and weight(g) >= weight(f))
                    or (g.start == f.start and f.trigger[1] < g.trigger[1])
                )
                for g in by_sentence[f.sentence]
            )
        ]
        for f in kept:
            f.negated = self._negated(folded, f.start, hits)
        return kept

    def _follow(
        self,
        folded: str,
        terms: tuple[int, ...],
        start: int,
        end: int,
        hits: Mapping[int, list[tuple[int, int]]],
    ) -> tuple[int, int] | None:
        """The trigger span (the last term's) when the terms follow ``start`` in order."""
        last = (start, end)
        for tid in terms[1:]:
            nxt = None
            for s, e in hits.get(tid, ()):
                if s < last[1]:
                    continue
                gap_text = folded[last[1] : s]
                han = (
                    last[1] > 0
                    and _is_han(folded[last[1] - 1])
                    and s < len(folded)
                    and _is_han(folded[s])
                )
                if (
                    len(gap_text) > (GAP_HAN if han else GAP_LATIN)
                    or _SENTENCE_END.search(gap_text)
                    or (_HAN.search(gap_text) and ("," in gap_text or "、" in gap_text))
                    # a Chinese clause ends at a comma (folded "，"); an English one runs past it
                ):
                    break
                nxt = (s, e)
                break
            if nxt is None:
                return None
            last = nxt
        return last

    def _negated(self, folded: str, start: int, hits: Mapping[int, list[tuple[int, int]]]) -> bool:
        for _s, e in hits.get(self._negator, ()):
            if e > start:
                continue
            between = folded[e:start]
            if _SENTENCE_END.search(between):
                continue
            if _HAN.search(folded[max(0, start - 1) : start] or " "):
                if start - e <= self.taxonomy.reach_chars:
                    return True
            elif len(between.split()) <= self.taxonomy.reach_words:
                return True
        return False

    # -- roles ------------------------------------------------------------------------

    def read(self, text: str, title_len: int, mentions: Sequence[TickerMention]) -> Reading:
        """Events, roles, relevance, per-ticker readings and thesis evidence of one item."""
        folded = fold(text)
        hits = self._index.hits(folded)
        found = self._find(folded, hits)
        spans = sorted(
            (s, e, m.ticker) for m in mentions for s, e in m.spans
        )  # every mention, in text order
        starts = [s for s, _, _ in spans]
        # A company is passing when its first mention is (a later "搭载自研神玑芯片" does not
        # make NIO a bystander in its own rollout).
        first: dict[str, tuple[int, int]] = {}
        for s, e, t in spans:
            first.setdefault(t, (s, e))
        passing = {t for t, (s, e) in first.items() if self._is_passing(folded, s, e, spans)}
        roles: dict[str, Role] = {}
        readings: dict[str, float] = {}
        events: list[Event] = []
        stance_score: dict[str, dict[str, float]] = {}
        stance_evidence: dict[tuple[str, str], list[str]] = {}
        no_subject_polarity = 0.0
        pending: list[tuple[_Found, EventType, list[str], int, str]] = []
        schedule: list[tuple[Event, _Found]] = []
        bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(folded)] + [len(folded) + 1]
        for f in found:
            etype = self.types[f.type_index]
            if f.negated and etype.negated == "void":
                continue
            sign = -1 if f.negated and etype.negated == "flip" else 1
            lo = bounds[bisect_right(bounds, f.start) - 1]
            hi = bounds[bisect_right(bounds, f.trigger[0])]
            in_sentence = [
                (s, e, t)
                for s, e, t in spans[bisect_left(starts, lo) : bisect_left(starts, hi)]
                if t not in passing
            ]
            subjects, counterparties = self._assign(folded, etype, f, in_sentence, lo)
            entities: dict[str, str] = {}
            for t in subjects:
                entities.setdefault(t, "subject")
            for t in counterparties:
                entities.setdefault(t, "counterparty")
            polarity = etype.polarity * sign
            magnitude = _magnitude(folded, lo, hi)
            weight = etype.weight
            if etype.group == "market" and (
                (magnitude is not None and magnitude >= 3) or etype.id in _LIMIT_MOVES
            ):
                weight *= 10  # the day's reading: a 6 % fall outweighs the beat it followed
            for t, role in entities.items():
                value = polarity if role == "subject" else etype.counterparty * sign
                readings[t] = readings.get(t, 0.0) + value * weight
                if roles.get(t) != "subject":
                    roles[t] = role  # type: ignore[assignment]
            if not subjects:
                no_subject_polarity += polarity * weight
            evidence_text = text[f.start : f.trigger[1]]
            events.append(
                Event(
                    type=etype.id,
                    entities=tuple(entities.items()),
                    polarity=polarity,
                    evidence=(evidence_text,),
                    weight=etype.weight,
                    materiality=etype.materiality,
                    negated=f.negated,
                    magnitude=magnitude,
                )
            )
            if etype.materiality == "schedule":
                schedule.append((events[-1], f))
            if not (f.negated and etype.negated != "ignore"):
                pending.append((f, etype, subjects, polarity, evidence_text))
        for f, etype, subjects, polarity, evidence_text in pending:
            net = sum(readings.get(t, 0.0) for t in subjects)
            if polarity and net and (polarity > 0) != (net > 0):
                continue  # "beats, but guides lower": the weaker event carries no evidence
            subject_theses = set().union(*(self._basket.get(t, set()) for t in subjects))
            if not subjects:
                subject_theses.add("nosubject")
            for ev, cue in self._evidence[f.type_index]:
                if ev.thesis in self._risk and ev.stance != "support":
                    continue
                if cue.holds(hits, subject_theses):
                    side = stance_score.setdefault(ev.thesis, {"support": 0.0, "challenge": 0.0})
                    side[ev.stance] += max(etype.weight, 1.0)
                    stance_evidence.setdefault((ev.thesis, ev.stance), []).append(
                        f"{etype.id}: {evidence_text}"
                    )
        title_types = {self.types[f.type_index].id for f in found if f.start < title_len}
        events = _merged(events)
        # the heaviest first; what the title says counts half as much again
        events.sort(key=lambda e: -e.weight * (1.5 if e.type in title_types else 1.0))
        relevance = self._relevance(spans, roles, passing, title_len)
        if not events:  # "none of the above": read, and nothing in the taxonomy happened
            events.append(Event(type="other", materiality="minor", weight=0.0))
        theses = tuple(
            ThesisStance(
                thesis=thesis,
                stance=max(sides, key=lambda k: sides[k]),  # type: ignore[arg-type]
                strength=round(abs(sides["support"] - sides["challenge"])
                               / (sides["support"] + sides["challenge"]), 3),
                evidence=tuple(
                    dict.fromkeys(stance_evidence[(thesis, max(sides, key=lambda k: sides[k]))])
                ),
            )
            for thesis, sides in stance_score.items()
            if sides["support"] != sides["challenge"]
        )  # fmt: skip
        title_type = next((e.type for e, f in schedule if f.start < title_len), None)
        title_schedule = next((e for e in events if e.type == title_type), None)
        if title_schedule is not None:  # a title announcing a date or a procedure is that
            events.remove(title_schedule)
            events.insert(0, title_schedule)
        return Reading(
            title_schedule=title_schedule,
            events=tuple(events),
            roles=roles,
            relevance=relevance,
            by_ticker=readings,
            theses=theses,
            polarity=no_subject_polarity,
        )

    def _assign(
        self,
        folded: str,
        etype: EventType,
        f: _Found,
        mentions: Sequence[tuple[int, int, str]],
        lo: int = 0,
    ) -> tuple[list[str], list[str]]:
        before = [m for m in mentions if m[1] <= f.start]
        after = [m for m in mentions if m[0] >= f.start]
        first, second = (
            (before[::-1], after) if etype.subject == "before" else (after, before[::-1])
        )
        if not first:
            if etype.subject == "before" and _named_before(folded[lo : f.start]):
                # "联想AI PC接入DeepSeek": someone we do not cover acts; ours is the object
                return [], list(dict.fromkeys(t for _, _, t in second))
            first, second = second, []
        if not first:
            return [], []
        chosen = [first[0]]
        for m in first[1:]:  # "X and Y cut prices": both are subjects
            a, b = sorted((chosen[-1], m))
            if _CONJ.match(folded[a[1] : b[0]]):
                chosen.append(m)
            else:
                break
        subjects = list(dict.fromkeys(t for _, _, t in chosen))
        counterparties = [t for _, _, t in second if t not in subjects]
        return subjects, list(dict.fromkeys(counterparties))

    @staticmethod
    def _is_passing(
        folded: str, start: int, end: int, spans: Sequence[tuple[int, int, str]] = ()
    ) -> bool:
        after = folded[end : end + _PASSING_REACH].lstrip(" ")
        if _VENUE.match(after):
            # "DeepSeek tops Apple's App Store": a venue, unless the store's owner leads.
            return any(s < start for s, _, _ in spans)
        lo = max(0, start - _PASSING_REACH)
        before = folded[lo:start]
        for m in _PASSING_BEFORE.finditer(before) if _PASSING_BEFORE else ():
            tail = before[m.end() :]
            if len(tail.split()) <= 1 and len(tail) <= 4:
                return True
        return _PASSING_AFTER is not None and _PASSING_AFTER.match(after) is not None

    @staticmethod
    def _relevance(
        spans: Sequence[tuple[int, int, str]],
        roles: Mapping[str, Role],
        passing: set[str],
        title_len: int,
    ) -> dict[str, int]:
        out: dict[str, int] = {}
        in_title = {t for s, _, t in spans if s < title_len}
        title_order = [t for s, _, t in spans if s < title_len]
        any_subject = any(r == "subject" for r in roles.values())
        for _, _, t in spans:
            if t in out:
                continue
            role = roles.get(t)
            if role == "subject":
                out[t] = 90 if t in in_title else 80
            elif role == "counterparty":
                out[t] = 65
            elif t in passing:
                out[t] = 30
            elif t in in_title:
                first = title_order and title_order[0] == t
                out[t] = 85 if first and not any_subject else 55 if not any_subject else 45
            else:
                out[t] = 40  # named only in the summary, in no event: background
        return out


_ACTOR = re.compile(r"[a-z][a-z0-9&'’.-]{2,}|[\u3400-\u9fff]{2,}")
_NOT_ACTOR = frozenset(("report", "reports", "reportedly", "sources", "the", "breaking", "update"))


def _named_before(text: str) -> bool:
    """Whether a sentence names someone before its trigger ("Lenovo AI PCs integrate ...",
    "联想AI PC接入..."), so a covered company after the trigger is not its subject."""
    text = re.sub(r"^.{0,6}[:：]", "", text.strip())  # "报道：", "Update:" lead-ins
    return any(m.group() not in _NOT_ACTOR for m in _ACTOR.finditer(text))


def _merged(events: Sequence[Event]) -> list[Event]:
    """One event per type: a title and a summary telling the same event are one event, with
    the roles of both (a subject stays a subject) and both readings' words."""
    by_type: dict[str, Event] = {}
    for event in events:
        known = by_type.get(event.type)
        if known is None:
            by_type[event.type] = event
            continue
        roles = dict(known.entities)
        for ticker, role in event.entities:
            if roles.get(ticker) != "subject":
                roles[ticker] = role
        evidence = known.evidence + tuple(e for e in event.evidence if e not in known.evidence)
        by_type[event.type] = replace(
            known,
            entities=tuple(roles.items()),
            evidence=evidence[:3],
            magnitude=known.magnitude if known.magnitude is not None else event.magnitude,
        )
    return list(by_type.values())


def _magnitude(folded: str, lo: int, hi: int) -> float | None:
    m = _PERCENT.search(folded, lo, hi)
    if m is None:
        return None
    value = float(m.group(1))
    return value * 10 if m.group(0).endswith("成") else value


__all__ = [
    "EventReader",
    "EventType",
    "Reading",
    "Taxonomy",
    "ThesisEvidence",
    "parse_taxonomy",
]
