"""Story clustering: which items, across sources and languages, tell the same story.

Pure and in memory. ``StoryClusterer.assign`` gives each new item a cluster id, reusing the id
of a recent item of the same story:

- *near-duplicate titles* (any language): Jaccard similarity of shingles of the normalised,
  simplified title (Han text as character bigrams, Latin text as lightly stemmed words), or
  containment of a short title in a longer one ("Nvidia shares plunge 17%" in
  "Nvidia shares plunge 17% as DeepSeek rattles AI trade - Reuters");
- *the same event told in another language* (or in other words): the items share a covered
  ticker and a specific number (a percentage, a decimal, a number of two or more digits that is
  not a year) and were published within ``link_window`` of each other, so
  "英伟达股价大跌17%" and "Nvidia shares plunge 17%" an hour apart are one story.

Cluster ids are derived from the id of the story's first item, so replaying the same items
gives the same ids, and the state can be rebuilt after a restart from the store's recent
history with ``load``.

>>> c = StoryClusterer()
>>> from datetime import datetime, UTC
>>> t = datetime(2025, 1, 27, 14, tzinfo=UTC)
>>> a = c.assign("a", "英伟达股价大跌17%", lang="zh", tickers=("NVDA.US",), published=t)
>>> b = c.assign("b", "Nvidia shares plunge 17%", lang="en", tickers=("NVDA.US",), published=t)
>>> a == b
True
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from thesiswatch.signals.lang import to_simplified
from thesiswatch.signals.models import Tags

__all__ = ["StoryClusterer", "numbers_in", "shingles", "similarity", "story_events", "story_key"]


def story_events(tags: Tags) -> tuple[str, ...]:
    """``"ticker@event_type"`` keys of an item's main material event (its subjects): items
    sharing one within the clusterer's link window tell one story, in any language."""
    for event in tags.events:
        if event.materiality == "material" and event.subjects:
            return tuple(f"{t}@{event.type}" for t in event.subjects)
    return ()


_SOURCE_SUFFIX = re.compile(r"\s+[-–—|_]\s+[^-–—|_]{1,40}$")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:[.,]\d+)*)\s*(%|percent\b|per cent\b|pct\b)?")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "as",
        "by",
        "with",
        "from",
        "its",
        "it",
        "is",
        "are",
        "was",
        "be",
        "after",
        "amid",
        "over",
        "into",
        "than",
        "that",
        "this",
        "says",
        "said",
        "say",
        "new",
    )
)
_STEM_SUFFIXES = ("ing", "ed", "es", "s")


def _fold(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), simplified Chinese, lower case."""
    return to_simplified(unicodedata.normalize("NFKC", text)).casefold()


def _strip_source(title: str) -> str:
    """Drop a trailing " - Reuters" / " | 财联社" that aggregators append to titles."""
    stripped = _SOURCE_SUFFIX.sub("", title.strip())
    return stripped if len(stripped) >= 8 else title.strip()


def story_key(title: str, *, lang: str) -> str:
    """A fingerprint of the normalised title: equal for titles that differ only in case,
    punctuation, spacing, full-width forms, traditional/simplified script or a source suffix.

    >>> story_key("台積電 營收超預期！", lang="zh") == story_key("台积电营收超预期", lang="zh")
    True
    >>> story_key("Nvidia Shares Plunge 17% - Reuters", lang="en") == story_key(
    ...     "nvidia shares plunge 17%", lang="en")
    True
    """
    text = _NON_WORD.sub("", _fold(_strip_source(title)))
    digest = hashlib.sha1(f"{lang}\x1f{text}".encode()).hexdigest()
    return digest[:16]


def _stem(word: str) -> str:
    """Crude but consistent: plunge, plunges, plunged -> plung; shares -> shar."""
    for suffix in _STEM_SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def shingles(title: str) -> frozenset[str]:
    """Han runs as character bigrams, Latin words lightly stemmed, stop words dropped.

    >>> sorted(shingles("英伟达大跌 Nvidia shares"))
    ['nvidia', 'shar', '伟达', '大跌', '英伟', '达大']
    """
    text = _fold(_strip_source(title))
    out: set[str] = set()
    for run in _HAN_RUN.findall(text):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(_HAN_RUN.sub(" ", text)):
        if word not in _STOPWORDS:
            out.add(_stem(word))
    return frozenset(out)


def _looks_like_year(digits: str) -> bool:
    return len(digits) == 4 and 1990 <= int(digits) <= 2100


def numbers_in(title: str) -> frozenset[str]:
    """Specific numbers of a title: percentages, decimals, integers of two or more digits
    that are not years. Digits glued to letters (R1, V3, H20) are names, not numbers.

    >>> sorted(numbers_in("Nvidia shares plunge 17 percent, 2025 outlook, R1 model, 3 reasons"))
    ['17%']
    >>> sorted(numbers_in("英伟达股价大跌17%，市值蒸发5890亿美元"))
    ['17%', '5890']
    """
    out: set[str] = set()
    for match in _NUMBER.finditer(unicodedata.normalize("NFKC", title)):
        digits, percent = match.group(1).replace(",", ""), match.group(2)
        end = match.end(1)
        if (
            not percent
            and end < len(match.string)
            and match.string[end].isascii()
            and match.string[end].isalpha()
        ):
            continue  # "5nm", "3rd"... glued to a Latin word
        if percent:
            out.add(f"{digits}%")
        elif "." in digits or (len(digits) >= 2 and not _looks_like_year(digits)):
            out.add(digits)
    return frozenset(out)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity, or near-complete containment of a shorter title in a longer one."""
    return _score(len(a & b), len(a), len(b))


def _score(common: int, size_a: int, size_b: int) -> float:
    if not common:
        return 0.0
    jaccard = common / (size_a + size_b - common)
    smaller = min(size_a, size_b)
    containment = common / smaller if smaller >= 4 else 0.0
    return max(jaccard, 0.9 * containment)


class _Entry:
    """What the clusterer keeps of one recent item (about 0.9 KiB with its index entries).

    Shingles are canonical string objects shared with the inverted index (one copy of "英伟"
    however many items carry it), tuples instead of frozensets, a float timestamp instead of a
    datetime: a long-running daemon keeps tens of thousands of these.
    """

    __slots__ = (
        "cluster_id", "events", "item_id", "key", "numbers", "published", "rank", "shingles",
        "tickers",
    )  # fmt: skip

    def __init__(
        self,
        item_id: str,
        cluster_id: str,
        key: str,
        shingles: tuple[str, ...],
        numbers: tuple[str, ...],
        tickers: tuple[str, ...],
        published: float | None,
        events: tuple[str, ...] = (),
    ) -> None:
        self.item_id = item_id
        self.cluster_id = cluster_id
        self.key = key
        self.shingles = shingles
        self.numbers = numbers
        self.tickers = tickers
        self.published = published
        self.events = events  # "ticker@event_type" of the item's main event's subjects
        self.rank = 0  # items of its story assigned before it (novelty)

    def link_keys(self) -> list[str]:
        return [f"{t}|{n}" for t in self.tickers for n in self.numbers] + list(self.events)


def _timestamp(value: datetime | str | None) -> float | None:
    when = _utc(value)
    return None if when is None else when.timestamp()


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_cluster_id(item_id: str) -> str:
    """The id of a story first seen as ``item_id`` (stable across runs)."""
    return "s" + hashlib.sha1(item_id.encode("utf-8")).hexdigest()[:15]


class StoryClusterer:
    """Assign cluster ids to items of the same story across sources and languages.

    ``window``: how far apart two items with near-duplicate titles may be published.
    ``link_window``: how far apart items linked by shared tickers and numbers may be.
    ``threshold``: minimum title similarity (see ``similarity``) for a near-duplicate.
    State older than ``window`` (relative to the newest item seen) is dropped as items arrive,
    and at most ``max_entries`` items are kept (checked every 256 items; the oldest go first;
    about 0.8 KiB each, 1.5 KiB of a daemon's resident memory, see
    ``bench/soak.py``), so memory stays bounded in a long-running daemon however busy its
    sources are.
    ``max_posting``: a shingle shared by more recent items than this is too common to find
    candidates with (candidates come from the rarer shingles; scores use all of them).
    """

    def __init__(
        self,
        *,
        window: timedelta = timedelta(hours=48),
        link_window: timedelta = timedelta(hours=12),
        threshold: float = 0.55,
        max_entries: int = 20_000,
        max_posting: int = 100,
    ) -> None:
        self.window = window
        self.link_window = link_window
        self.threshold = threshold
        self.max_entries = max_entries
        self.max_posting = max_posting
        self._entries: dict[str, _Entry] = {}
        self._by_key: dict[str, str] = {}
        # shingle -> (the one shared copy of the shingle, ids of recent items carrying it)
        self._postings: dict[str, tuple[str, list[str]]] = {}
        self._links: dict[str, list[str]] = {}  # "ticker|figure", "ticker@event" -> item ids
        self._sizes: dict[str, int] = {}  # cluster id -> items of it in the window
        self._newest: float | None = None
        self._assigned = 0

    def __len__(self) -> int:
        return len(self._entries)

    def novelty(self, item_id: str) -> int:
        """100 for the first item of a story, then 75, 56, 42, ... (RavenPack's decay) for
        each later item of it still in the window; 100 for an item never assigned.

        >>> c = StoryClusterer()
        >>> _ = c.assign("a", "Nvidia shares plunge 17%", lang="en", tickers=("NVDA.US",))
        >>> _ = c.assign("b", "Nvidia shares plunge 17% - Wire", lang="en", tickers=("NVDA.US",))
        >>> c.novelty("a"), c.novelty("b")
        (100, 75)
        """
        entry = self._entries.get(item_id)
        rank = 0 if entry is None else entry.rank
        return round(100 * 0.75**rank)

    def load(
        self,
        recent: Iterable[tuple[str, str, str, str, Sequence[str], datetime | str | None]],
    ) -> None:
        """Rebuild the state from recent history: ``(item_id, cluster_id, title, lang,
        tickers, published)`` rows, e.g. the store's items of the last ``window``.
        Rows with an empty cluster id are clustered as if new (in the order given)."""
        for item_id, cluster_id, title, lang, tickers, published in recent:
            if cluster_id:
                if item_id not in self._entries:
                    self._remember(
                        item_id,
                        cluster_id,
                        story_key(title, lang=lang),
                        shingles(title),
                        numbers_in(title),
                        tickers,
                        _timestamp(published),
                    )
            else:
                self.assign(item_id, title, lang=lang, tickers=tickers, published=_utc(published))

    def assign(
        self,
        item_id: str,
        title: str,
        lang: str,
        tickers: Sequence[str] = (),
        published: datetime | None = None,
        events: Sequence[str] = (),
    ) -> str:
        """Return the cluster id for the item, creating a new story when nothing matches.

        ``events`` are ``"ticker@event_type"`` keys of the item's main event (its subjects):
        items in different languages sharing one within ``link_window`` are one story,
        whatever their wording or figures ("百亿订单" and "$1.4bn order"). The same ``item_id`` always gets
        the same cluster id back.
        """
        known = self._entries.get(item_id)
        if known is not None:
            return known.cluster_id
        when = _timestamp(published)
        key = story_key(title, lang=lang)
        sh = shingles(title)
        nums = numbers_in(title)
        # Event keys link across languages only: in one language a repeat shares its words
        # (the shingles find it), and two bans of DeepSeek by two governments on one day are
        # two stories however alike their keys.
        own = tuple(f"{e}#{lang}" for e in events)
        other = tuple(f"{e}#{x}" for e in events for x in ("zh", "en") if x != lang)
        cluster_id = self._by_key.get(key)
        if cluster_id is None:
            cluster_id = self._best_match(
                sh, nums, frozenset(tickers), when, other
            ) or new_cluster_id(item_id)
        self._remember(item_id, cluster_id, key, sh, nums, tickers, when, own)
        return cluster_id

    # -- internals ----------------------------------------------------------------------

    def _best_match(
        self,
        sh: frozenset[str],
        nums: frozenset[str],
        tickers: frozenset[str],
        when: float | None,
        events: tuple[str, ...] = (),
    ) -> str | None:
        """The cluster of the most similar recent item, found through inverted indexes (so a
        new item is compared only with items sharing a shingle, or a ticker and a figure)."""
        # Candidates come from the rarer shingles only: a shingle carried by hundreds of recent
        # items ("nvidia", "股价") finds nothing specific and would make every assign O(n).
        hits: Counter[str] = Counter()
        rare = 0
        for shingle in sh:
            posting = self._postings.get(shingle)
            if posting and len(posting[1]) <= self.max_posting:
                hits.update(posting[1])
                rare += 1
        need = min(2, rare)  # a near-duplicate shares more than one specific shingle
        common = {
            item_id: sum(1 for s in self._entries[item_id].shingles if s in sh)
            for item_id, n in hits.items()
            if n >= need
        }
        linked: set[str] = set()
        for ticker in tickers:
            for number in nums:
                ids = self._links.get(f"{ticker}|{number}")
                if ids and len(ids) <= self.max_posting:
                    linked.update(ids)
        by_event: set[str] = set()
        for key in events:
            ids = self._links.get(key)
            if ids and len(ids) <= self.max_posting:
                by_event.update(ids)
        window = self.window.total_seconds()
        link_window = self.link_window.total_seconds()
        best: tuple[float, str] | None = None
        for item_id in common.keys() | linked | by_event:
            entry = self._entries[item_id]
            apart = (
                abs(when - entry.published)
                if when is not None and entry.published is not None
                else None
            )
            if apart is not None and apart > window:
                continue
            if item_id in by_event and (apart is None or apart <= link_window):
                # Same subject, same kind of event, close in time: one story told twice.
                score = self.threshold * 0.8
                if best is None or score > best[0]:
                    best = (score, entry.cluster_id)
                continue
            if (tickers and entry.tickers and tickers.isdisjoint(entry.tickers)) or (
                nums and entry.numbers and nums.isdisjoint(entry.numbers)
            ):
                continue  # other companies, or other figures: another story
            score = _score(common.get(item_id, 0), len(sh), len(entry.shingles))
            if score < self.threshold:
                score = 0.0
                if item_id in linked and apart is not None and apart <= link_window:
                    # Same ticker, same specific figure, close in time: the same event.
                    # Ranked just under a textual near-duplicate, more so with more in common.
                    shared = sum(1 for n in entry.numbers if n in nums)
                    score = self.threshold * (0.5 + 0.1 * min(shared, 4))
            if score > 0 and (best is None or score > best[0]):
                best = (score, entry.cluster_id)
        return best[1] if best else None

    def _remember(
        self,
        item_id: str,
        cluster_id: str,
        key: str,
        sh: frozenset[str],
        nums: frozenset[str],
        tickers: Sequence[str],
        when: float | None,
        events: tuple[str, ...] = (),
    ) -> None:
        postings = self._postings
        canonical: list[str] = []
        for shingle in sh:
            posting = postings.get(shingle)
            if posting is None:
                postings[shingle] = (shingle, [item_id])
                canonical.append(shingle)
            else:
                posting[1].append(item_id)
                canonical.append(posting[0])
        entry = _Entry(
            item_id,
            cluster_id,
            key,
            tuple(canonical),
            tuple(nums),
            tuple(dict.fromkeys(tickers)),
            when,
            events,
        )
        entry.rank = self._sizes.get(cluster_id, 0)
        self._sizes[cluster_id] = entry.rank + 1
        self._entries[item_id] = entry
        self._by_key.setdefault(key, cluster_id)
        for link in entry.link_keys():
            self._links.setdefault(link, []).append(item_id)
        if when is not None and (self._newest is None or when > self._newest):
            self._newest = when
        self._assigned += 1
        if self._assigned % 256 == 0:
            self._prune()

    def _prune(self) -> None:
        if self._newest is None:
            return
        horizon = self._newest - self.window.total_seconds()
        stale = [
            e for e in self._entries.values() if e.published is not None and e.published < horizon
        ]
        excess = len(self._entries) - len(stale) - self.max_entries
        if excess > 0:
            stale_ids = {e.item_id for e in stale}
            newest = self._newest
            by_age = sorted(
                (e for e in self._entries.values() if e.item_id not in stale_ids),
                key=lambda e: newest if e.published is None else e.published,
            )
            stale.extend(by_age[:excess])
        if not stale:
            return
        gone = {e.item_id for e in stale}
        shingle_keys: set[str] = set()
        link_keys: set[str] = set()
        for entry in stale:
            del self._entries[entry.item_id]
            left = self._sizes.get(entry.cluster_id, 1) - 1
            if left > 0:
                self._sizes[entry.cluster_id] = left
            else:
                self._sizes.pop(entry.cluster_id, None)
            if self._by_key.get(entry.key) == entry.cluster_id:
                del self._by_key[entry.key]
            shingle_keys.update(entry.shingles)
            link_keys.update(entry.link_keys())
        for shingle in shingle_keys:
            canonical, ids = self._postings[shingle]
            kept = [i for i in ids if i not in gone]
            if kept:
                self._postings[shingle] = (canonical, kept)
            else:
                del self._postings[shingle]
        for link in link_keys:
            kept = [i for i in self._links[link] if i not in gone]
            if kept:
                self._links[link] = kept
            else:
                del self._links[link]
