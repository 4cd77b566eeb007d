"""A phrase index: every phrase of many terms found in one pass over a text.

The event reader (thousands of taxonomy phrases) and the thesis mapper (the watchlist's cue
terms) both ask "which of my terms occur in this item, and where?". Scanning with one regex per
term costs a pass over the text per term; this index looks up, at each word start (Latin) and
each other character, only the phrases that can start there, so one pass answers for all.
Phrases are folded (``signals.entities.fold``) and matched with the watchlist's phrase rules
(whole Latin words, ``*`` for the rest of a word, a space or hyphen matching up to two or none).

>>> index = PhraseIndex()
>>> up, cut = index.term("@up", ["rais*", "上调"]), index.term("cut", ["cut"])
>>> index.build()
>>> hits = index.hits(fold("Nvidia raises guidance; 台积电上调指引"))
>>> sorted(hits) == [up], hits[up]
(True, [(7, 13), (27, 29)])
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from thesiswatch.signals.entities import compile_phrases, fold

_NOT_PLAIN = re.compile(r"[*\s\-:]")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
_LITERAL = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
_STARTS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")  # word starts and every other character


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


class PhraseIndex:
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
        (one when it is that short). In each bucket, plain phrases (no wildcard, space or
        hyphen) are looked up by length as strings; the rest are tried with their regex, and
        only when the text holds their longest literal run ("warning" of "profit warning")."""
        self._by_word: dict[str, _Bucket] = {}
        self._by2: dict[str, _Bucket] = {}
        self._by1: dict[str, _Bucket] = {}
        for folded, (pattern, tids) in self._phrases.items():
            word = _LATIN_WORD.match(folded)
            if word is not None and folded[word.end() : word.end() + 1] != "*":
                bucket = self._by_word.setdefault(word.group(), _Bucket())
            elif len(folded) >= 2 and folded[1] not in " -*":
                bucket = self._by2.setdefault(folded[:2], _Bucket())
            else:
                bucket = self._by1.setdefault(folded[0], _Bucket())
            if pattern is None:
                bucket.plain.setdefault(len(folded), {})[folded] = frozenset(tids)
            else:
                runs = _LITERAL.findall(folded.split("*")[0])
                bucket.regex.append((pattern, frozenset(tids), max(runs, key=len) if runs else ""))
        for index in (self._by_word, self._by2, self._by1):
            for bucket in index.values():
                bucket.lengths = tuple(sorted(bucket.plain))
        # the characters a non-Latin phrase can start with: most positions of a Chinese text
        # start none, and are skipped with one set lookup
        self._heads = frozenset(k[0] for k in self._by2) | frozenset(self._by1)

    def hits(self, folded: str) -> dict[int, list[tuple[int, int]]]:
        """term id -> spans where one of its phrases matches (tried at each word start and
        each other non-space character: a Latin phrase never starts inside a word)."""
        found: dict[int, list[tuple[int, int]]] = {}
        by_word, by1, by2 = self._by_word, self._by1, self._by2
        n = len(folded)
        present: dict[str, bool] = {"": True}
        heads = self._heads
        for start in _STARTS.finditer(folded):
            word = start.group()
            if word[0] >= "\x80" and word not in heads:
                continue
            i = start.start()
            buckets = (
                (by_word.get(word), by2.get(folded[i : i + 2]), by1.get(word[0]))
                if word[0] < "\x80"  # a Latin word
                else (by2.get(folded[i : i + 2]), by1.get(word))
            )
            for bucket in buckets:
                if bucket is None:
                    continue
                for length in bucket.lengths:
                    end = i + length
                    tids = bucket.plain[length].get(folded[i:end])
                    if tids is None:
                        continue
                    if end < n and folded[end - 1].isascii() and folded[end - 1].isalnum():
                        nxt = folded[end]
                        if nxt.isascii() and nxt.isalnum():
                            continue  # "cut" is not the start of "cutting"
                    for tid in tids:
                        found.setdefault(tid, []).append((i, end))
                for pattern, tids, need in bucket.regex:
                    ok = present.get(need)
                    if ok is None:
                        ok = present[need] = need in folded
                    if not ok:
                        continue
                    m = pattern.match(folded, i)
                    if m is None or m.end() <= i:
                        continue
                    for tid in tids:
                        found.setdefault(tid, []).append((i, m.end()))
        return found


class _Bucket:
    """The phrases that can start at one key: plain ones by length, the rest as regexes."""

    __slots__ = ("lengths", "plain", "regex")

    def __init__(self) -> None:
        self.plain: dict[int, dict[str, frozenset[int]]] = {}
        self.lengths: tuple[int, ...] = ()
        self.regex: list[tuple[_LazyPattern, frozenset[int], str]] = []


__all__ = ["PhraseIndex"]
