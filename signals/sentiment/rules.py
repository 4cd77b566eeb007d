"""The rules shared by both languages, applied to a list of matched terms.

A language's tokenizer turns text into ``Term`` records (lexicon matches, percentages and
amounts, with positions in its own unit: characters for Chinese, words for English);
``weigh`` then applies, for every term that carries polarity:

1. intensifiers and diminishers next to it (大幅下跌, "fell sharply" / 小幅, "slightly");
2. subject inversion: a direction word next to a "bad" noun flips (亏损收窄, "costs fell",
   "cut losses"); the noun's own weight is spent unless both read the same way (亏损扩大);
3. negation: a negator a few units before it in the same clause flips and damps it;
4. a percentage right after a direction word scales it (增长35% > 增长3%); a negative
   figure flips it (增长-12%);
5. contrast: after 但/"but" a clause counts more; after 尽管/"despite" it counts less;
6. comparison: a state named after 而去年同期/"compared with"/"up from" is the old one and
   reads reversed ("profit of 9, compared with a loss of 2" is good news); two amounts of
   one metric compared with no direction word read as the change between them;
7. destination: "swung to a loss" reads as the loss, not as "cut losses";
8. position and mood: later sentences of a long text weigh less (news leads with what
   matters; for Chinese by how many characters precede the term, so the second line of a
   short post still counts but the tail of a 500-character report hardly does), a question
   (吗, "?") asserts less than a statement, and a sentence holding a boilerplate marker
   (``tpl``: disclaimers, "小知识" boxes, routine distribution notices) counts nothing;
9. events: a headline-length text in which nothing else carries polarity, but which names a
   corporate action (``evt``: "to buy", "sells", "partners with", "raises"), reads mildly
   positive: the news is the deal itself. In a longer text such words are background.

The result is a raw sum plus the evidence (the matched text, strongest first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from thesiswatch.signals.sentiment.lexicon import Kind

NEGATION_FACTOR = -0.7
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.3
CONCESSION_FACTOR = 0.3
QUESTION_FACTOR = 0.5
TEMPLATE_FACTOR = 0.0  # a sentence of boilerplate says nothing about the news
EVENT_FACTOR = 1.0
NUMBER_CAP = 50.0  # percent: 增长35% weighs 1.35 times 增长, 300% no more than 50%
COMPARISON_FACTOR = -0.8
DESTINATION_FACTOR = 2.0
AMOUNT_WEIGHT = 1.5
MAX_EVIDENCE = 8


@dataclass(slots=True)
class Term:
    """One matched term: where it is, what it is, and the text shown as evidence."""

    start: int
    end: int
    text: str
    kind: Kind | str  # a lexicon kind, or "num" for a percentage
    value: float
    clause: int
    sentence: int
    span: tuple[int, int] = (0, 0)  # character span in the scored text, for evidence
    spent: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class Gaps:
    """How far (in the tokenizer's unit) each modifier may sit from the term it modifies."""

    intensifier: int
    negation: int
    inversion_before: int
    inversion_after: int
    number: int
    decay: float = 1.0  # later sentences weigh less: exponent of the decay below
    lead_chars: float = 0.0  # 0: decay by sentence index; else by characters read so far
    event_words: int = 0  # a text of at most this many words is a headline: events count


def weigh(terms: list[Term], text: str, gaps: Gaps) -> tuple[float, list[tuple[float, str]]]:
    """Apply the rules; return the raw sum and ``(weight, evidence text)`` pairs."""
    reversed_from = _comparison_starts(terms)
    destinations = _destinations(terms)
    contributions: list[tuple[Term, float, int, int]] = []
    for idx, term in enumerate(terms):
        if term.kind == "cmp" and term.value:
            contributions.append((term, term.value, *term.span))
            continue
        if idx in destinations.values() and term.kind == "met":
            weight = term.value * DESTINATION_FACTOR  # "swung to a profit": weighs on its own
            contributions.append((term, weight, terms[idx - 2].span[0], term.span[1]))
            continue
        if term.kind not in ("pol", "dir", "inv") or term.value == 0.0 or term.spent:
            continue
        weight = term.value
        lo, hi = term.span
        if idx in destinations:  # "fell to a loss": the loss says it, the verb is spent
            continue
        # 2. inversion (before negation: "未能降低成本" is a negated positive)
        if term.kind == "dir":
            partner = _find(terms, idx, "inv", gaps.inversion_before, gaps.inversion_after)
            if partner is not None:
                weight = -weight
                # 亏损扩大: both read negative, both count; 亏损收窄: the flip replaces the noun
                partner.spent = weight * partner.value <= 0
                lo, hi = min(lo, partner.span[0]), max(hi, partner.span[1])
        # 1. intensifiers directly before
        j = idx - 1
        while j >= 0 and terms[j].kind == "int" and terms[j].clause == term.clause:
            if terms[j + 1].start - terms[j].end > gaps.intensifier:
                break
            weight *= terms[j].value
            lo = min(lo, terms[j].span[0])
            j -= 1
        # ... and an adverb right after ("fell sharply", "上涨明显")
        if idx + 1 < len(terms):
            nxt = terms[idx + 1]
            if nxt.kind == "int" and nxt.clause == term.clause and nxt.start == term.end:
                weight *= nxt.value
                hi = max(hi, nxt.span[1])
        # 3. negation
        neg = _find(terms, idx, "neg", gaps.negation, -1)
        if neg is not None:
            weight *= NEGATION_FACTOR
            lo = min(lo, neg.span[0])
        # 4. a percentage right after a direction word (or right next to a price move)
        num = _find(terms, idx, "num", -1, gaps.number if term.kind == "dir" else 1)
        if num is not None and term.kind in ("dir", "pol"):
            weight *= 1.0 + min(abs(num.value), NUMBER_CAP) / 100.0
            if num.value < 0 and term.kind == "dir":
                weight = -weight
            hi = max(hi, num.span[1])
        # 6. a state after "compared with" / "versus" / "up from" is the old state: reversed
        if term.kind in ("pol", "inv") and term.start > reversed_from.get(term.sentence, 1 << 30):
            weight *= COMPARISON_FACTOR
        # 7. the destination of a move ("swung to a profit") counts more
        if idx in destinations.values():
            weight *= DESTINATION_FACTOR
        contributions.append((term, weight, lo, hi))
    contributions += _amount_comparisons(terms, reversed_from)
    # 5. contrast, sentence by sentence
    buts = [(t.sentence, t.clause, t.start, t.value) for t in terms if t.kind == "but"]
    questions = {t.sentence for t in terms if t.kind == "q"}
    # boilerplate sentences; a marker with value 1 ("数据显示") only marks body text, not the lead
    templates = {t.sentence for t in terms if t.kind == "tpl" and not (t.value and not t.sentence)}
    total = 0.0
    evidence: list[tuple[float, str]] = []
    if gaps.event_words and not contributions and len(text.split()) <= gaps.event_words:
        # 9. a short headline naming only a corporate action ("X to buy Y", "X sells unit")
        contributions = [(t, t.value * EVENT_FACTOR, *t.span) for t in terms if t.kind == "evt"]
    for term, weight, lo, hi in contributions:
        if term.spent and term.kind == "inv":
            continue
        for sentence, clause, at, concessive in buts:
            if sentence != term.sentence:
                continue
            if not concessive:  # "A, but B": B counts more
                weight *= CONTRAST_BEFORE if term.start < at else CONTRAST_AFTER
            elif term.start > at and term.clause == clause:  # "A despite B": B counts less
                weight *= CONCESSION_FACTOR
            else:
                weight *= CONTRAST_AFTER
        weight *= _position_factor(term, gaps)  # news leads with what matters
        if term.sentence in templates:  # boilerplate says nothing about the news
            weight *= TEMPLATE_FACTOR
        if term.sentence in questions:
            weight *= QUESTION_FACTOR
        total += weight
        evidence.append((weight, text[lo:hi]))
    evidence.sort(key=lambda e: -abs(e[0]))
    return total, evidence


def _position_factor(term: Term, gaps: Gaps) -> float:
    """How much a term counts for where it stands: the first sentence fully, later ones less.

    By sentence index, ``1 / (1 + sentence) ** decay``. With ``lead_chars`` set, by how far
    into the text the term stands instead, ``1 / (1 + offset / lead_chars) ** decay``: in a
    two-line post the second line still counts nearly fully, in a 500-character report the
    figures and boilerplate of its tail count little against its opening sentence.
    """
    if not term.sentence:
        return 1.0
    if gaps.lead_chars:
        return float((1.0 + term.span[0] / gaps.lead_chars) ** -gaps.decay)
    return float((1.0 + term.sentence) ** -gaps.decay)


def _comparison_starts(terms: list[Term]) -> dict[int, int]:
    """Sentence -> position of its first comparison marker (``cmp``)."""
    starts: dict[int, int] = {}
    for t in terms:
        if t.kind == "cmp" and t.sentence not in starts:
            starts[t.sentence] = t.start
    return starts


def _destinations(terms: list[Term]) -> dict[int, int]:
    """Direction word index -> index of the state it moves to ("slipped to a net loss")."""
    found: dict[int, int] = {}
    for i in range(len(terms) - 2):
        verb, to = terms[i], terms[i + 1]
        if verb.kind != "dir" or to.kind != "brk" or to.text not in ("to", "into"):
            continue
        if to.start != verb.end:
            continue
        nxt = terms[i + 2]
        if (
            nxt.kind in ("pol", "inv", "met")
            and nxt.clause == to.clause
            and nxt.start - to.end <= 3
        ):
            found[i] = i + 2
    return found


def _amount_comparisons(
    terms: list[Term], reversed_from: dict[int, int]
) -> list[tuple[Term, float, int, int]]:
    """Read "Operating profit was EUR 9.4 mn, compared with EUR 11.7 mn" as a fall.

    A sentence comparing two amounts of one metric, with no direction word of its own, reads
    as the change between them (for a "bad" metric such as a loss, the other way round).
    """
    out: list[tuple[Term, float, int, int]] = []
    for sentence, at in reversed_from.items():
        in_sentence = [t for t in terms if t.sentence == sentence]
        if any(t.kind in ("dir",) or (t.kind == "cmp" and t.value) for t in in_sentence):
            continue
        before = [t for t in in_sentence if t.start < at]
        after = [t for t in in_sentence if t.start > at]
        if any(t.kind in ("pol", "inv", "met") for t in after):
            continue  # the old state is named ("而去年同期亏损"): the reversal rule reads it
        metric = next((t for t in before if t.kind in ("met", "inv")), None)
        old = next((t for t in after if t.kind == "amt"), None)
        new = next((t for t in reversed(before) if t.kind == "amt"), None)
        if metric is None or old is None or new is None or new.start < metric.start:
            continue
        if old.value == new.value:
            continue
        sign = (1.0 if new.value > old.value else -1.0) * (1.0 if metric.value >= 0 else -1.0)
        out.append((metric, sign * AMOUNT_WEIGHT, metric.span[0], old.span[1]))
    return out


def _find(terms: list[Term], idx: int, kind: str, before: int, after: int) -> Term | None:
    """The nearest unspent term of ``kind`` within the gaps, in the same clause as ``idx``."""
    me = terms[idx]
    if before >= 0:
        edge = me.start
        for j in range(idx - 1, -1, -1):
            other = terms[j]
            if other.clause != me.clause or edge - other.end > before:
                break
            if other.kind == kind and not other.spent:
                return other
            if kind == "neg" and other.kind in ("pol", "dir"):
                break  # a negator reaches the first polar term after it, not past it
            if kind == "inv" and other.kind in ("pol", "met", "cmp"):
                break  # "pre-tax profit surged": the noun nearest the verb is its subject
    if after >= 0:
        edge = me.end
        for j in range(idx + 1, len(terms)):
            other = terms[j]
            if other.clause != me.clause or other.start - edge > after:
                break
            if other.kind == kind and not other.spent:
                return other
            if kind == "num" and other.kind in ("pol", "dir"):
                break
            if kind == "inv" and other.kind in ("brk", "cmp"):
                break  # "slipped to a loss" is a destination, not "cut losses"
    return None


def squash(total: float, alpha: float) -> float:
    """Map a raw sum into (-1, 1), VADER-style: x / sqrt(x^2 + alpha)."""
    if total == 0.0:
        return 0.0
    return total / math.sqrt(total * total + alpha)


def merge_evidence(*groups: list[tuple[float, str]]) -> tuple[str, ...]:
    """Strongest evidence first, duplicates and blanks dropped, at most ``MAX_EVIDENCE``."""
    merged = sorted((e for g in groups for e in g), key=lambda e: -abs(e[0]))
    seen: list[str] = []
    for _, text in merged:
        text = text.strip()
        if text and text not in seen:
            seen.append(text)
        if len(seen) == MAX_EVIDENCE:
            break
    return tuple(seen)
