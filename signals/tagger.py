"""The tagger: language, events, covered tickers with relevance, theses with stance, and
sentiment per ticker and per item.

One ``Tagger`` serves the daemon, the TUI's own poller and ``thesiswatch tag``. It is pure
(no I/O) and reusable across items; the linker, the event reader and the mapper are built once
per watchlist. How the parts combine (docs/events.md):

- the linker finds every covered company named; the event reader finds the events and gives
  each company a role and a relevance; ``tickers`` keeps relevance >= 50;
- a ticker's reading comes from its roles in the events; the lexicon scorer's reading is the
  fallback for an item with no polar event; the item label follows the subjects (opposite
  signs give ``neu``), and schedule/procedure items read ``neu``;
- stances come from the events' thesis evidence and the watchlist's explicit cues
  (``stance_from_cues``: "fill" the theses the events leave out, or "fallback": only for items
  whose events carry no thesis evidence at all, as the built-in watchlist does; cue words were
  right about half the time on the tuning sets where events had spoken, events nine times in
  ten).
"""

from __future__ import annotations

from thesiswatch.signals.entities import Linker
from thesiswatch.signals.events import EventReader, Reading, Taxonomy
from thesiswatch.signals.lang import detect_lang
from thesiswatch.signals.models import Label, Sentiment, Tags, ThesisStance, TickerMention
from thesiswatch.signals.phrases import PhraseIndex
from thesiswatch.signals.sentiment import Scorer
from thesiswatch.signals.theses import ThesisMapper
from thesiswatch.signals.watchlist import Watchlist

RELEVANT = 50
"""Relevance from which a named company is one the item is about (a tagged ticker)."""


def _label(score: float) -> Label:
    return "pos" if score > 0 else "neg" if score < 0 else "neu"


def _event_score(total: float, lexicon: Sentiment) -> float:
    """A score in [-1, 1] for a summed event reading, firmer when the lexicon agrees."""
    base = min(0.9, 0.45 + 0.1 * abs(total))
    if lexicon.label == _label(total):
        base = max(base, min(1.0, abs(lexicon.score)))
    return base if total > 0 else -base


class Tagger:
    """Tag items against one watchlist with one sentiment scorer.

    >>> from thesiswatch.watchlist import load_watchlist                 # doctest: +SKIP
    >>> Tagger(load_watchlist(), default_scorer()).tag("英伟达股价大跌17%")  # doctest: +SKIP
    """

    def __init__(
        self, watchlist: Watchlist, scorer: Scorer, taxonomy: Taxonomy | None = None
    ) -> None:
        self.watchlist = watchlist
        self.scorer = scorer
        self._linker = Linker(watchlist)
        taxonomy = taxonomy if taxonomy is not None else watchlist.taxonomy
        # One phrase index for the event reader and the thesis mapper: one pass per item.
        index = PhraseIndex() if taxonomy is not None else None
        self._mapper = ThesisMapper(watchlist, index=index)
        self._reader = EventReader(taxonomy, watchlist, index) if taxonomy is not None else None
        if index is not None:
            index.build()
        self._order = {t.id: i for i, t in enumerate(watchlist.theses)}

    def tag(self, title: str, summary: str = "", lang: str | None = None) -> Tags:
        """Tag one item; ``lang`` is a hint ("zh"/"en"), detected from the text when absent."""
        text = f"{title}\n{summary}" if summary else title
        if lang not in ("zh", "en"):
            lang = detect_lang(title or summary)
        lexicon = self.scorer.score(title, summary, lang=lang)
        mentions = self._linker.link(text)
        if self._reader is None:
            theses = self._mapper.map(text, mentions, lexicon)
            return Tags(lang=lang, tickers=mentions, theses=theses, sentiment=lexicon)
        reading = self._reader.read(text, len(title), mentions)
        tickers = tuple(m for m in mentions if reading.relevance.get(m.ticker, 0) >= RELEVANT)
        mode = self.watchlist.stance_from_cues
        use_cues = mode == "fill" or (mode == "fallback" and not reading.theses)
        cues = (
            self._mapper.map(text, tickers, lexicon, hits=reading.hits)
            if use_cues and not reading.hedged
            else ()
        )
        theses = self._combine(reading.theses, cues)
        by_ticker: dict[str, Sentiment] = {}
        polar = reading.settled or any(e.polarity for e in reading.events)
        for m in tickers:
            total = 0.0 if reading.title_schedule else reading.by_ticker.get(m.ticker, 0.0)
            if total:
                score = _event_score(total, lexicon)
                by_ticker[m.ticker] = Sentiment(label=_label(score), score=score,
                                                evidence=("event",), scorer="events")  # fmt: skip
            elif (
                not polar
                and reading.title_schedule is None
                and reading.roles.get(m.ticker, "subject") == "subject"
            ):
                by_ticker[m.ticker] = lexicon
            else:
                by_ticker[m.ticker] = Sentiment(label="neu", score=0.0, scorer="events")
        sentiment = self._item_sentiment(reading, tickers, theses, by_ticker, lexicon)
        return Tags(
            lang=lang,
            tickers=tickers,
            theses=theses,
            sentiment=sentiment,
            events=reading.events,
            relevance=tuple(reading.relevance.items()),
            by_ticker=tuple(by_ticker.items()),
        )

    @staticmethod
    def _item_sentiment(
        reading: Reading,
        tickers: tuple[TickerMention, ...],
        theses: tuple[ThesisStance, ...],
        by_ticker: dict[str, Sentiment],
        lexicon: Sentiment,
    ) -> Sentiment:
        """The item label from its subjects (opposite signs: neu); schedule items are neu."""
        main = reading.events[0] if reading.events else None
        if reading.title_schedule is not None:
            main = reading.title_schedule  # the title announces a date or a procedure
        if main is not None and main.materiality == "schedule" and not main.polarity:
            return Sentiment(label="neu", score=0.0, evidence=(f"event {main.type}",),
                             scorer="events", version=lexicon.version)  # fmt: skip
        if not tickers and not theses:
            # About no covered company and no thesis: nothing for the watchlist to read.
            return Sentiment(label="neu", score=0.0, evidence=("no covered subject",),
                             scorer="events", version=lexicon.version)  # fmt: skip
        subjects = [t.ticker for t in tickers if reading.roles.get(t.ticker) == "subject"]
        signs = {by_ticker[t].label for t in subjects if t in by_ticker} - {"neu"}
        if len(signs) > 1:
            return Sentiment(label="neu", score=0.0, evidence=("subjects move apart",),
                             scorer="events", version=lexicon.version)  # fmt: skip
        if signs:
            label = signs.pop()
            scores = [by_ticker[t].score for t in subjects if by_ticker[t].label == label]
            score = max(scores, key=abs)
            return Sentiment(label=label, score=score, evidence=lexicon.evidence,
                             scorer=lexicon.scorer, version=lexicon.version)  # fmt: skip
        if reading.polarity:
            score = _event_score(reading.polarity, lexicon)
            return Sentiment(label=_label(score), score=score, evidence=lexicon.evidence,
                             scorer=lexicon.scorer, version=lexicon.version)  # fmt: skip
        if reading.settled:
            return Sentiment(label="neu", score=0.0, evidence=("read as neutral",),
                             scorer="events", version=lexicon.version)  # fmt: skip
        return lexicon

    def _combine(
        self, from_events: tuple[ThesisStance, ...], from_cues: tuple[ThesisStance, ...]
    ) -> tuple[ThesisStance, ...]:
        """Event evidence first; a cue's stance fills a thesis the events leave out."""
        out = {s.thesis: s for s in from_cues}
        out.update({s.thesis: s for s in from_events})
        return tuple(sorted(out.values(), key=lambda s: self._order.get(s.thesis, 99)))
