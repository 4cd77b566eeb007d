"""Records produced by tagging.

Pure data: frozen dataclasses, JSON-friendly via ``to_dict``. The JSON shapes are contracts
(see DESIGN.md): ``Tags.to_dict`` is merged into a tagged item. ``Alert`` lives in the kernel
(``thesiswatch.records``): the store, the alert rules and the sinks share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Label = Literal["pos", "neg", "neu"]
Stance = Literal["support", "challenge"]
THESIS_IDS: tuple[str, ...] = ("compute", "edge", "localization", "risk")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentiment:
    """The investor's reading of an item: label, score in [-1, 1], and why."""

    label: Label
    score: float
    evidence: tuple[str, ...] = ()
    scorer: str = ""
    version: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerMention:
    """A covered company found in an item: its id and the text spans that matched."""

    ticker: str
    spans: tuple[tuple[int, int], ...] = ()
    matched: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ThesisStance:
    """How an item bears on one thesis."""

    thesis: str
    stance: Stance
    strength: float = 1.0
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """An event found in an item (docs/events.md): its type, each covered company's role in
    it, the reading for its subject (after negation), and the words it was read from."""

    type: str
    entities: tuple[tuple[str, str], ...] = ()  # (ticker, "subject" | "counterparty")
    polarity: int = 0
    evidence: tuple[str, ...] = ()
    weight: float = 1.0
    materiality: str = "material"  # material | minor | schedule
    negated: bool = False
    magnitude: float | None = None  # a percentage named with the event (a 17 % fall)

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(t for t, role in self.entities if role == "subject")

    def to_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "entities": dict(self.entities),
            "polarity": self.polarity,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Tags:
    """Everything the tagger says about one item.

    ``tickers`` are the companies the item is about (relevance >= 50: subject or
    counterparty); ``relevance`` holds every covered company named, passing mentions too;
    ``by_ticker`` the reading per tagged ticker.
    """

    lang: str
    tickers: tuple[TickerMention, ...] = ()
    theses: tuple[ThesisStance, ...] = ()
    sentiment: Sentiment
    events: tuple[Event, ...] = ()
    relevance: tuple[tuple[str, int], ...] = ()
    by_ticker: tuple[tuple[str, Sentiment], ...] = ()

    @property
    def ticker_ids(self) -> list[str]:
        return [t.ticker for t in self.tickers]

    @property
    def thesis_map(self) -> dict[str, str]:
        return {t.thesis: t.stance for t in self.theses}

    def to_dict(self) -> dict[str, object]:
        sentiment = self.sentiment.to_dict()
        if self.by_ticker:
            sentiment["by_ticker"] = {t: s.to_dict() for t, s in self.by_ticker}
        return {
            "lang": self.lang,
            "sentiment": sentiment,
            "tickers": self.ticker_ids,
            "theses": self.thesis_map,
            "events": [e.to_dict() for e in self.events],
            "relevance": dict(self.relevance),
        }
