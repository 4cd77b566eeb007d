"""Full-text search helpers: what goes into the short-term index, and how a search is split.

The main index, ``items_fts``, uses FTS5's trigram tokenizer: it finds any substring of three
or more characters in any script (中芯国际, DeepSeek, "export controls"), case-insensitively,
and plain ``MATCH`` works from sqlite3 and Datasette. Trigrams cannot answer shorter terms,
and two-character terms are common in Chinese (小米, 芯片, 华为) and in English tickers and
jargon (AI, EV). Those go to ``items_fts_short``, a contentless index the store fills with
every Chinese character bigram of an item and its two-character Latin words. A one-character
term falls back to ``LIKE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HAN_BIGRAM = re.compile(r"(?=([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}))")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]{2}")
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD2 = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{2}(?![0-9A-Za-z])")
# The only characters outside ASCII whose lower case is an ASCII letter (İ -> i̇, Kelvin K -> k):
# with them, lowering the text can make a word that was not there, so words are found in the
# lowered text, as the index always did.
_LOWERS_TO_ASCII = re.compile("[\u0130\u212a]")
# Two-letter English words too common to be worth indexing: searching them means little.
_STOP2 = frozenset(
    [
        "am",
        "an",
        "as",
        "at",
        "be",
        "by",
        "do",
        "go",
        "he",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "no",
        "of",
        "oh",
        "on",
        "or",
        "so",
        "to",
        "up",
        "us",
        "we",
    ]
)
_TERM = re.compile(r'"([^"]+)"|(\S+)')


def short_terms(title: str, summary: str = "") -> str:
    """The space-separated terms of an item for ``items_fts_short``.

    >>> short_terms("小米汽车 SU7 交付", "AI chips in EV")
    '小米 米汽 汽车 交付 ai ev'
    """
    text = f"{title}\n{summary}" if summary else title
    # (the hot path of bulk ingest: an ASCII text has no Han bigrams to look for, and the
    # words are lowered one by one rather than the whole text, which is several times slower
    # on Chinese text; the same terms, see _LOWERS_TO_ASCII)
    terms = [] if text.isascii() else _HAN_BIGRAM.findall(text)
    if _ASCII_ALNUM.search(text):
        if _LOWERS_TO_ASCII.search(text):
            words = _WORD2.findall(text.lower())
        else:
            words = [w.lower() for w in _WORD2.findall(text)]
        terms += [w for w in words if w not in _STOP2]
    return " ".join(dict.fromkeys(terms))


def is_short_term(term: str) -> bool:
    """True when ``term`` is answered by ``items_fts_short`` (two Han characters or a 2-char word)."""
    if len(term) != 2:
        return False
    if _HAN_CHAR.fullmatch(term[0]) and _HAN_CHAR.fullmatch(term[1]):
        return True
    return bool(re.fullmatch(r"[0-9A-Za-z]{2}", term)) and term.lower() not in _STOP2


def fts_phrase(term: str) -> str:
    """Quote ``term`` as one FTS5 phrase (operators and punctuation lose their meaning)."""
    return '"' + term.replace('"', '""') + '"'


def fts_term(term: str) -> str:
    """``term`` as an FTS5 expression that also finds its simplified-Chinese form, so a search
    typed in traditional characters finds mainland news (台積電 finds 台积电).

    >>> fts_term("台積電")
    '("台積電" OR "台积电")'
    >>> fts_term("Nvidia")
    '"Nvidia"'
    """
    from thesiswatch.signals.lang import to_simplified  # (only when a search has Chinese in it)

    folded = to_simplified(term) if not term.isascii() else term
    if folded == term:
        return fts_phrase(term)
    return f"({fts_phrase(term)} OR {fts_phrase(folded)})"


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """A search split by index: all terms must match (AND)."""

    trigram: str | None  # an FTS5 MATCH expression for items_fts, or None
    short: tuple[str, ...]  # terms for items_fts_short, one MATCH each
    like: tuple[str, ...]  # terms only LIKE can find (one character, or 2-char stopwords)


def plan_search(search: str) -> SearchPlan:
    """Split a user's search into index lookups.

    Words are separated by spaces; ``"a phrase"`` keeps spaces; every term must match.

    >>> plan_search('小米 "export controls" AI 芯')
    SearchPlan(trigram='"export controls"', short=('小米', 'ai'), like=('芯',))

    (``short`` terms are MATCHed through ``fts_term``, as the trigram terms are.)
    """
    long_terms: list[str] = []
    short: list[str] = []
    like: list[str] = []
    for match in _TERM.finditer(search):
        term = (match.group(1) or match.group(2) or "").strip()
        if not term:
            continue
        if len(term) >= 3:
            long_terms.append(term)
        elif is_short_term(term):
            short.append(term.lower())
        else:
            like.append(term)
    trigram = " AND ".join(fts_term(t) for t in long_terms) if long_terms else None
    return SearchPlan(trigram=trigram, short=tuple(short), like=tuple(like))
