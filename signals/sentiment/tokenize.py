"""Finding lexicon terms in text: Chinese by longest match, English by word n-grams.

Chinese needs no word segmenter here: the lexicon is the dictionary, scanned left to right
with the longest term winning (so 跌幅收窄 beats 跌幅, and 涨跌幅 hides 涨 and 跌). That is
what makes the scorer faster than snownlp, whose segmenter dominates its cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from thesiswatch.signals.sentiment.lexicon import Entry, Lexicon
from thesiswatch.signals.sentiment.rules import Term

_ZH_CLAUSE = frozenset('，,；;：:、（）()【】[]“”"《》\n\t|')
_ZH_SENTENCE = frozenset("。！？!?\n")
# a percentage (or 个百分点 / 倍), optionally signed: 增长35%, -2.76%, 上升1.2个百分点
_ZH_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.])[+\-−]?\d+(?:\.\d+)?\s*(?:%|％|个百分点|倍)"  # a percentage
    r"|\d+(?:,\d{3})*(?:\.\d+)?\s*(?:万亿|亿|万|千)?(?![年月日季号时点\d.])"  # an amount
)
_ZH_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}


def zh_terms(text: str, lexicon: Lexicon) -> list[Term]:
    """Terms of a (simplified) Chinese text; positions are character offsets."""
    entries = lexicon.entries
    starts = lexicon.starts
    numbers = {m.start(): m for m in _ZH_NUMBER.finditer(text)}
    terms: list[Term] = []
    clause = sentence = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _ZH_SENTENCE:
            if ch in "?？":
                terms.append(Term(i, i + 1, ch, "q", 0.0, clause, sentence, (i, i + 1)))
            sentence += 1
            clause += 1
            i += 1
            continue
        if ch in _ZH_CLAUSE or (ch == " " and i + 1 < n and text[i + 1] == " "):
            clause += 1
            i += 1
            continue
        m = numbers.get(i)
        if m is not None:
            terms.append(_number(m.group(), m.start(), m.end(), clause, sentence))
            i = m.end()
            continue
        for size in starts.get(ch, ()):
            if size > n - i:
                continue
            chunk = text[i : i + size]
            entry = entries.get(chunk)
            if entry is not None:
                terms.append(
                    Term(
                        i, i + size, chunk, entry.kind, entry.value, clause, sentence, (i, i + size)
                    )
                )
                i += size
                break
        else:
            i += 1
    return terms


def _number(raw: str, start: int, end: int, clause: int, sentence: int) -> Term:
    body = raw.replace("−", "-").replace("％", "%").replace(",", "")
    value = float(re.match(r"[+\-]?\d+(?:\.\d+)?", body).group())  # type: ignore[union-attr]
    kind = "num"
    if "倍" in body:
        value *= 100.0
    elif not any(c in body for c in "%个"):
        kind = "amt"
        value *= next((v for k, v in _ZH_SCALE.items() if body.endswith(k)), 1.0)
    return Term(start, end, raw, kind, value, clause, sentence, (start, end))


_EN_TOKEN = re.compile(
    r"(?<![0-9a-z.])[+\-]?\d+(?:[.,]\d+)*\s?(?:%|per\s?cent|percent|pct)"  # a percentage
    r"|[a-z]+(?:'[a-z]+)?"  # a word, with n't / 's
    r"|\d+(?:[.,]\d+)*"  # a plain number: counts as a word position
    r"|[.;:!?,()\[\]\"|]|\s-\s|--"  # clause breaks
)
_EN_SENTENCE = frozenset(".;!?")
_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")


def en_terms(text: str, lexicon: Lexicon) -> list[Term]:
    """Terms of an English text; positions are word indexes, spans are character offsets."""
    lowered = _HYPHEN.sub(" ", text.lower().replace("’", "'"))
    entries = lexicon.entries
    starts = lexicon.starts
    words: list[tuple[str, int, int, int, int]] = []  # word, char start, end, clause, sentence
    clause = sentence = 0
    for m in _EN_TOKEN.finditer(lowered):
        tok = m.group()
        if tok[0].isalpha() or tok[0].isdigit() or (len(tok) > 1 and tok[0] in "+-"):
            words.append((tok, m.start(), m.end(), clause, sentence))
        else:
            if tok == "?":
                words.append(("?", m.start(), m.end(), clause, sentence))
            clause += 1
            # "3.5" never reaches here; a "." here ends a sentence
            if tok.strip() in _EN_SENTENCE:
                sentence += 1
    terms: list[Term] = []
    i, n = 0, len(words)
    while i < n:
        tok, cstart, cend, wclause, wsentence = words[i]
        if _is_number(tok):
            amount = _EN_AMOUNT.match(tok)
            value = float(amount.group().replace(",", "")) if amount else 0.0
            if tok[-1] in "%t":
                kind = "num"
            else:
                kind = "amt"
                scale = _EN_SCALE.get(words[i + 1][0], 0.0) if i + 1 < n else 0.0
                if not scale and value.is_integer() and 1950 <= value <= 2100:
                    kind = "stop"  # a year, not an amount
                value *= scale or 1.0
            terms.append(Term(i, i + 1, tok, kind, value, wclause, wsentence, (cstart, cend)))
            i += 1
            continue
        matched = False
        sizes = starts.get(tok, (1,))
        if sizes[-1] != 1:
            sizes = (*sizes, 1)  # the word alone may still match through an inflection
        for size in sizes:
            if i + size > n:
                continue
            span = words[i : i + size]
            if size > 1 and span[-1][3] != wclause:
                continue
            key = " ".join(w[0] for w in span)
            entry = entries.get(key)
            if entry is None and size == 1:
                entry = _lemma(key, entries)
            if entry is not None:
                terms.append(
                    Term(
                        i,
                        i + size,
                        key,
                        entry.kind,
                        entry.value,
                        wclause,
                        wsentence,
                        (cstart, span[-1][2]),
                    )
                )
                i += size
                matched = True
                break
        if not matched:
            i += 1
    return terms


_EN_AMOUNT = re.compile(r"[+\-]?\d+(?:,\d{3})*(?:\.\d+)?")
_EN_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "crore": 1e7,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
    "lakh": 1e5,
    "trillion": 1e12,
}


def _is_number(tok: str) -> bool:
    return tok[0].isdigit() or (tok[0] in "+-" and len(tok) > 1 and tok[1].isdigit())


def _lemma(word: str, entries: Mapping[str, Entry]) -> Entry | None:
    """Try a few English inflections: rises -> rise, slumped -> slump, gains -> gain."""
    if word.endswith("'s"):
        word = word[:-2]
        if word in entries:
            return entries[word]
    candidates: list[str] = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        candidates.append(word[:-1])
    if word.endswith("ed"):
        candidates += [word[:-2], word[:-1]]
        if len(word) > 4 and word[-3] == word[-4]:
            candidates.append(word[:-3])  # slumped is fine, "slipped" -> slip
        if word.endswith("ied"):
            candidates.append(word[:-3] + "y")
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e"]
        if len(word) > 5 and word[-4] == word[-5]:
            candidates.append(word[:-4])
    for c in candidates:
        if c in entries:
            return entries[c]
    return None
