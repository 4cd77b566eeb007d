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
class Tags:
    """Everything the tagger says about one item."""

    lang: str
    tickers: tuple[TickerMention, ...] = ()
    theses: tuple[ThesisStance, ...] = ()
    sentiment: Sentiment

    @property
    def ticker_ids(self) -> list[str]:
        return [t.ticker for t in self.tickers]

    @property
    def thesis_map(self) -> dict[str, str]:
        return {t.thesis: t.stance for t in self.theses}

    def to_dict(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "sentiment": self.sentiment.to_dict(),
            "tickers": self.ticker_ids,
            "theses": self.thesis_map,
        }
