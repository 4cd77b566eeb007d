"""The tagger: language, covered tickers, theses with stance, and sentiment for one item.

One ``Tagger`` serves the daemon, the TUI's own poller and ``thesiswatch tag``. It is pure
(no I/O) and reusable across items; the linker and the mapper are built once per watchlist.
"""

from __future__ import annotations

from thesiswatch.signals.entities import Linker
from thesiswatch.signals.lang import detect_lang
from thesiswatch.signals.models import Tags
from thesiswatch.signals.sentiment import Scorer
from thesiswatch.signals.theses import ThesisMapper
from thesiswatch.signals.watchlist import Watchlist


class Tagger:
    """Tag items against one watchlist with one sentiment scorer.

    >>> from thesiswatch.watchlists import load_watchlist                 # doctest: +SKIP
    >>> Tagger(load_watchlist(), default_scorer()).tag("英伟达股价大跌17%")  # doctest: +SKIP
    """

    def __init__(self, watchlist: Watchlist, scorer: Scorer) -> None:
        self.watchlist = watchlist
        self.scorer = scorer
        self._linker = Linker(watchlist)
        self._mapper = ThesisMapper(watchlist)

    def tag(self, title: str, summary: str = "", lang: str | None = None) -> Tags:
        """Tag one item; ``lang`` is a hint ("zh"/"en"), detected from the text when absent."""
        text = f"{title}\n{summary}" if summary else title
        if lang not in ("zh", "en"):
            lang = detect_lang(title or summary)
        sentiment = self.scorer.score(title, summary, lang=lang)
        tickers = self._linker.link(text)
        theses = self._mapper.map(text, tickers, sentiment)
        return Tags(lang=lang, tickers=tickers, theses=theses, sentiment=sentiment)
