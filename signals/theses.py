"""Thesis mapping: which of the watchlist's theses an item bears on, and how.

Stance is not sentiment. The tagger takes stances from events first (``signals.events``);
this mapper reads the watchlist's explicit cues (see ``signals.watchlist`` for the cue syntax),
which fill a thesis the events leave out. The same headline can be bad news for a company and
good for a thesis: "US tightens H20 curbs" hurts NVIDIA and supports *localization* and *risk*
(a listed risk came true), with no *compute* stance by itself.

For each thesis:

1. The item is *about* the thesis when a linked company belongs to it or one of its
   ``topics`` occurs.
2. Every matching cue adds its weight (its number of positive terms, so a specific
   ``"@export_controls + @tighter"`` outweighs a bare ``"@down"``) to ``support`` or
   ``challenge``; ``support``/``challenge`` cues always count, ``*_if_about`` cues only when
   the item is about the thesis.
3. The larger side wins; a tie leaves the thesis out. When no cue matched at all, an item
   about the thesis takes the sign of a sentiment at least ``stance_from_sentiment`` strong
   (0, the built-in watchlist's value, disables this). ``*_if_about`` cues count only when the
   watchlist sets ``stance_from_basket`` (off in the built-in one: basket membership times a
   word made any good day of an edge company "edge: support"). A thesis with
   ``role = "risk"`` only ever supports: a listed risk can materialise, not un-materialise.

``ThesisStance.strength`` is the winning margin over the total weight (1.0 = unopposed);
``evidence`` lists the matched phrases, as written in the item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from thesiswatch.signals.entities import fold
from thesiswatch.signals.models import Sentiment, ThesisStance, TickerMention
from thesiswatch.signals.phrases import PhraseIndex
from thesiswatch.signals.watchlist import Thesis, Watchlist


@dataclass(frozen=True, slots=True)
class _Term:
    negated: bool
    key: str  # "@vocab" or a phrase, as written


@dataclass(frozen=True, slots=True)
class _Cue:
    text: str
    terms: tuple[_Term, ...]

    @property
    def weight(self) -> int:
        return sum(1 for t in self.terms if not t.negated)


def _parse(cue: str) -> _Cue:
    terms = []
    for raw in cue.split(" + "):
        term = raw.strip()
        negated = term.startswith("!")
        terms.append(_Term(negated, term[1:].strip() if negated else term))
    return _Cue(cue, tuple(terms))


@dataclass(frozen=True, slots=True)
class _CompiledThesis:
    thesis: Thesis
    tickers: frozenset[str]
    topics: tuple[_Cue, ...]
    support: tuple[_Cue, ...]
    challenge: tuple[_Cue, ...]
    support_if_about: tuple[_Cue, ...]
    challenge_if_about: tuple[_Cue, ...]


class _Scan:
    """Term lookups for one item: one pass of the phrase index finds every term."""

    def __init__(
        self,
        spans: Mapping[int, list[tuple[int, int]]],
        term_ids: dict[str, int],
        text: str,
        linked_theses: dict[str, str],
    ) -> None:
        self.term_ids = term_ids
        self.text = text
        self.spans = spans
        self.linked_theses = linked_theses  # thesis id -> first linked ticker of it

    def find(self, key: str) -> tuple[int, int] | None:
        spans = self.spans.get(self.term_ids[key])
        return min(spans) if spans else None

    def matches(self, cue: _Cue) -> list[str] | None:
        """The evidence of a matching cue (phrases as written in the item), else None."""
        evidence: list[str] = []
        for term in cue.terms:
            if term.key.startswith("#"):
                ticker = self.linked_theses.get(term.key[1:])
                if (ticker is None) != term.negated:
                    return None
                if ticker is not None:
                    evidence.append(ticker)
                continue
            span = self.find(term.key)
            if term.negated:
                if span is not None:
                    return None
            elif span is None:
                return None
            else:
                evidence.append(self.text[span[0] : span[1]])
        return evidence


class ThesisMapper:
    """Maps an item to stances on the watchlist's theses.

    >>> from thesiswatch.watchlists import load_watchlist
    >>> from thesiswatch.signals.entities import Linker
    >>> wl = load_watchlist()
    >>> text = "US tightens export curbs on Nvidia's H20 chips to China"
    >>> stances = ThesisMapper(wl).map(text, Linker(wl).link(text))
    >>> {s.thesis: s.stance for s in stances}
    {'localization': 'support', 'risk': 'support'}
    """

    def __init__(
        self, watchlist: Watchlist, *, basket: bool | None = None, index: PhraseIndex | None = None
    ) -> None:
        """``index``: a phrase index shared with the event reader (its owner builds it, and
        passes each item's hits to ``map``); by default the mapper has its own."""
        self.watchlist = watchlist
        self._threshold = watchlist.stance_from_sentiment
        # ``*_if_about`` cues read basket membership times a word ("any rise of an edge
        # company supports edge"); off unless the watchlist asks (stance_from_basket).
        self._basket = watchlist.stance_from_basket if basket is None else basket
        self._risk = {t.id for t in watchlist.theses if t.role == "risk"}
        vocab = watchlist.vocabulary
        self._own = index is None
        self._index = PhraseIndex() if index is None else index
        self._terms: dict[str, int] = {}
        compiled: list[_CompiledThesis] = []
        for thesis in watchlist.theses:
            groups = {
                name: tuple(_parse(c) for c in getattr(thesis, name))
                for name in (
                    "topics",
                    "support",
                    "challenge",
                    "support_if_about",
                    "challenge_if_about",
                )
            }
            for cues in groups.values():
                for cue in cues:
                    for term in cue.terms:
                        if term.key not in self._terms and not term.key.startswith("#"):
                            phrases = (
                                vocab[term.key[1:]] if term.key.startswith("@") else (term.key,)
                            )
                            self._terms[term.key] = self._index.term(
                                "watchlist:" + term.key, phrases
                            )
            compiled.append(
                _CompiledThesis(thesis=thesis, tickers=frozenset(thesis.tickers), **groups)
            )
        self._theses = tuple(compiled)
        if self._own:
            self._index.build()

    def map(
        self,
        text: str,
        tickers: Sequence[TickerMention],
        sentiment: Sentiment | None = None,
        hits: Mapping[int, list[tuple[int, int]]] | None = None,
    ) -> tuple[ThesisStance, ...]:
        """Stances on the theses ``text`` bears on, in watchlist order."""
        linked = {t.ticker for t in tickers}
        linked_theses: dict[str, str] = {}
        for mention in tickers:
            for ct in self._theses:
                if mention.ticker in ct.tickers:
                    linked_theses.setdefault(ct.thesis.id, mention.ticker)
        if hits is None:
            hits = self._index.hits(fold(text))
        scan = _Scan(hits, self._terms, text, linked_theses)
        out: list[ThesisStance] = []
        for ct in self._theses:
            # Whether the item is about the thesis matters only to the basket cues and the
            # sentiment fallback; with both off (the built-in watchlist) its scan is skipped.
            about = (self._basket or self._threshold > 0) and (
                bool(linked & ct.tickers) or any(scan.matches(cue) is not None for cue in ct.topics)
            )
            about_cues = about and self._basket
            support, support_ev = self._score(scan, ct.support, ct.support_if_about, about_cues)
            challenge, challenge_ev = self._score(
                scan, ct.challenge, ct.challenge_if_about, about_cues
            )
            if ct.thesis.id in self._risk:
                challenge, challenge_ev = 0, []  # a listed risk can only materialise
            if support != challenge:
                win, lose = max(support, challenge), min(support, challenge)
                out.append(
                    ThesisStance(
                        thesis=ct.thesis.id,
                        stance="support" if support > challenge else "challenge",
                        strength=round((win - lose) / (win + lose), 3),
                        evidence=tuple(support_ev if support > challenge else challenge_ev),
                    )
                )
            elif support == 0 and about and self._leans(sentiment):
                assert sentiment is not None
                out.append(
                    ThesisStance(
                        thesis=ct.thesis.id,
                        stance="support" if sentiment.score > 0 else "challenge",
                        strength=round(min(1.0, abs(sentiment.score)), 3),
                        evidence=(f"sentiment {sentiment.label} {sentiment.score:+.2f}",),
                    )
                )
        return tuple(out)

    def _leans(self, sentiment: Sentiment | None) -> bool:
        return (
            sentiment is not None
            and self._threshold > 0
            and sentiment.label != "neu"
            and abs(sentiment.score) >= self._threshold
        )

    @staticmethod
    def _score(
        scan: _Scan, always: tuple[_Cue, ...], if_about: tuple[_Cue, ...], about: bool
    ) -> tuple[int, list[str]]:
        score = 0
        evidence: dict[str, None] = {}
        for cue in always + (if_about if about else ()):
            found = scan.matches(cue)
            if found is not None:
                score += cue.weight
                evidence.update(dict.fromkeys(found))
        return score, list(evidence)


__all__ = ["ThesisMapper"]
