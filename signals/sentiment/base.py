"""The scorer protocol and the score-to-label rule shared by every scorer."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from thesiswatch.signals.models import Label, Sentiment

#: |score| below this is neutral. One value for both languages, chosen on the dev sets.
NEUTRAL_BAND = 0.1


@runtime_checkable
class Scorer(Protocol):
    """Anything that reads a headline (+ summary) and returns a ``Sentiment``.

    ``name`` and ``version`` are stored with every score so history can be re-scored when
    either changes.
    """

    name: str
    version: str

    def score(self, title: str, summary: str = "", *, lang: str | None = None) -> Sentiment: ...


def label_for(score: float, band: float = NEUTRAL_BAND) -> Label:
    """Map a score in [-1, 1] to ``pos``/``neg``/``neu``.

    >>> label_for(0.4), label_for(-0.4), label_for(0.01)
    ('pos', 'neg', 'neu')
    """
    if score >= band:
        return "pos"
    if score <= -band:
        return "neg"
    return "neu"
