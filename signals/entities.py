"""Ticker linking: find the watchlist's companies in an item's text.

One compiled regex (a trie of every name and listing-code form, so a scan costs about one pass
over the text) runs over a *folded* copy of the text: traditional Chinese folded to simplified,
lower case, full-width ASCII to ASCII. Folding never changes the length, so match spans index
the caller's text. Each hit is then checked against the company's data:

- ``exact`` names must match case too (``AMD``, ``Apple``);
- ``exclude`` phrases void a hit they overlap (``小米粥``, ``大众速腾``, ``Big Apple``);
- ``ambiguous`` names need a ``require_near`` phrase and no ``unless_near`` phrase nearby
  (``理想`` needs car context; ``苹果`` next to 果园 is fruit).

Latin names only match whole words (``NIO`` not in ``UNION``), and at a given position the
longest name wins (``比亚迪电子`` before ``比亚迪``, ``速腾聚创`` before ``速腾``). Listing codes are
generated from ``listings`` in the forms people write them (``NVDA.US``, ``$NVDA``,
``2330.TW``, ``01810.HK``, ``002594.SZ``, ``SH688981``, a bare ``002594``).

>>> from thesiswatch.signals.watchlist import parse_watchlist
>>> wl = parse_watchlist('''
... name = "t"
... [[theses]]
... id = "edge"
... title = "Edge AI"
... [[companies]]
... id = "1810.HK"
... name = "Xiaomi"
... listings = ["1810.HK"]
... aliases = ["Xiaomi", "小米集团"]
... exclude = ["小米粥"]
... [[companies.ambiguous]]
... names = ["小米"]
... ''')
>>> [m.ticker for m in Linker(wl).link("小米发布新款手机 (01810.HK)")]
['1810.HK']
>>> Linker(wl).link("冬天喝小米粥养胃")
()
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from thesiswatch.signals.lang import to_simplified
from thesiswatch.signals.models import TickerMention
from thesiswatch.signals.watchlist import AmbiguousName, Company, Watchlist

# --------------------------------------------------------------------------- folding

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    """One translate table: full-width ASCII to ASCII and traditional to simplified Han.

    Built once from ``signals.lang.to_simplified`` applied char by char, so folding is one
    C-speed ``str.translate`` and never changes the length (phrase-level conversions such
    as 記憶體 -> 内存 are not needed to match names).
    """
    table = dict(_FULLWIDTH)
    chars = [chr(cp) for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
             for cp in range(lo, hi)]  # fmt: skip
    # One call over all chars, newline-separated so no multi-char phrase can match.
    simple = to_simplified("\n".join(chars)).split("\n")
    if len(simple) != len(chars):  # pragma: no cover - only if the table maps newlines
        simple = [to_simplified(ch) for ch in chars]
    for ch, folded in zip(chars, simple, strict=True):
        if len(folded) == 1 and folded != ch:
            table[ord(ch)] = ord(folded)
    return table


@lru_cache(maxsize=512)
def fold(text: str) -> str:
    """Fold text for matching, keeping its length: simplified Chinese, lower case, ASCII.

    Cached: the linker and the thesis mapper fold the same item text.

    >>> fold("輝達ＮＶＤＡ Shares")
    '辉达nvda shares'
    """
    text = text.translate(_fold_table())
    lowered = text.lower()
    if len(lowered) != len(text):  # e.g. "İ" lowers to two characters
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return lowered


# --------------------------------------------------------------------------- phrase regexes

_FLEX = "\x00"  # a space or hyphen inside a phrase: matches up to two spaces/hyphens, or none
_OPT_WS = "\x01"  # between Han and Latin: an optional space ("小米 SU7" = "小米SU7")
_END = "\x02"  # marks the end of a phrase in the trie
_WILD = "\x03"  # "*": the rest of a Latin word
_ALNUM = re.compile(r"[a-z0-9]")
_FLEX_CHARS = re.compile(r"[\s\-]+")


def _is_latin(ch: str) -> bool:
    return bool(_ALNUM.match(ch))


def phrase_key(text: str) -> str:
    """The lookup key of a (folded) phrase or match: spaces and hyphens removed."""
    return _FLEX_CHARS.sub("", text)


def _tokens(folded: str) -> list[str]:
    out: list[str] = []
    for ch in folded:
        if ch == "*":  # a word wildcard: the rest of the word ("tighten*", "walk* away")
            out.append(_WILD)
            continue
        if ch in " -\t":
            if out and out[-1] != _FLEX:
                out.append(_FLEX)
            continue
        if ch == ":":
            out.append(ch)
            out.append(_FLEX)
            continue
        if (
            out
            and out[-1] not in (_FLEX, _OPT_WS, _WILD)
            and _is_latin(ch) != _is_latin(out[-1])
            and (_HAN.match(ch) or _HAN.match(out[-1]))
        ):
            out.append(_OPT_WS)
        out.append(ch)
    while out and out[-1] == _FLEX:
        out.pop()
    return out


_TOKEN_RE = {_FLEX: r"[\s\-]{0,2}", _OPT_WS: r"\s?", _WILD: r"[a-z0-9]*"}


def _trie_regex(node: dict[str, dict]) -> str:
    alts: list[str] = []
    for tok in sorted((t for t in node if t != _END), key=lambda t: (t in _TOKEN_RE, t)):
        alts.append(_TOKEN_RE.get(tok) or re.escape(tok))
        alts[-1] += _trie_regex(node[tok])
    if _END in node:
        # "" = no condition (wildcard or non-Latin end); "b" = must end on a word boundary
        alts.append("" if "" in node[_END] else r"(?![a-z0-9])")
    if len(alts) == 1:
        return alts[0]
    return "(?:" + "|".join(alts) + ")"


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any phrase on folded text (longest first at each position).

    Latin phrases match whole words; ``*`` stands for the rest of a word (``tighten*``
    matches "tightened", ``walk* away`` "walked away"). Spaces/hyphens inside a phrase match
    any run of up to two, or none.
    """
    latin: dict[str, dict] = {}
    other: dict[str, dict] = {}
    for phrase in phrases:
        toks = _tokens(fold(phrase.strip()))
        if not toks or toks[0] == _WILD:
            continue
        node = latin if _is_latin(toks[0]) else other
        for tok in toks:
            node = node.setdefault(tok, {})
        boundary = "b" if _is_latin(toks[-1]) else ""
        node.setdefault(_END, {})[boundary] = {}
    parts: list[str] = []
    if latin:
        parts.append(r"(?<![a-z0-9])(?:" + _trie_regex(latin) + ")")
    if other:
        parts.append("(?:" + _trie_regex(other) + ")")
    if not parts:
        return None
    return re.compile("|".join(parts))


# --------------------------------------------------------------------------- listing codes


def code_forms(listing: str) -> tuple[str, ...]:
    """The ways people write a listing code, generated from the report form.

    >>> code_forms("1810.HK")
    ('1810.hk', '01810.hk', '1810 hk', '01810', 'hk01810', 'hkex: 1810')
    >>> code_forms("002594.CH")
    ('002594.ch', '002594.sz', 'sz002594', '002594', '002594 ch', '002594 cn')
    """
    symbol, _, suffix = listing.lower().rpartition(".")
    forms: list[str] = [listing.lower()]
    if suffix == "us":
        forms += [
            f"{symbol}.o",
            f"{symbol}.oq",
            f"{symbol}.n",
            f"${symbol}",
            f"nasdaq: {symbol}",
            f"nyse: {symbol}",
            f"{symbol} us",
        ]
    elif suffix == "hk" and symbol.isdigit():
        n = symbol.lstrip("0") or "0"
        forms += [f"{n.zfill(4)}.hk", f"{n.zfill(5)}.hk", f"{n.zfill(4)} hk"]
        if len(n) <= 4:
            forms += [n.zfill(5), f"hk{n.zfill(5)}"]
        forms.append(f"hkex: {n}")
    elif suffix in ("tt", "tw"):
        forms += [
            f"{symbol}.tw",
            f"{symbol}.tt",
            f"{symbol} tt",
            f"{symbol} tw",
            f"twse: {symbol}",
            f"tpe: {symbol}",
        ]
    elif suffix in ("ch", "sh", "sz", "ss", "bj") and symbol.isdigit() and len(symbol) == 6:
        exchange = {"6": "sh", "9": "sh", "0": "sz", "2": "sz", "3": "sz"}.get(symbol[0], "bj")
        forms += [
            f"{symbol}.ch",
            f"{symbol}.{exchange}",
            f"{exchange}{symbol}",
            symbol,
            f"{symbol} ch",
            f"{symbol} cn",
        ]
        if exchange == "sh":
            forms.append(f"{symbol}.ss")
    seen: dict[str, None] = {}
    for form in forms:
        seen.setdefault(form, None)
    return tuple(seen)


# --------------------------------------------------------------------------- the linker


@dataclass(frozen=True, slots=True)
class _Entry:
    company: int
    exact: str | None = None  # case-sensitive form (spaces/hyphens removed)
    ambiguous: AmbiguousName | None = None


class _CompanyRules:
    """A company's exclusion and context regexes, compiled once."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.exclude = compile_phrases(company.exclude)
        self.exclude_reach = max((len(p) for p in company.exclude), default=0) + 2
        self.require = {id(a): compile_phrases(a.require_near) for a in company.ambiguous}
        self.unless = {id(a): compile_phrases(a.unless_near) for a in company.ambiguous}

    def excluded(self, folded: str, start: int, end: int) -> bool:
        if self.exclude is None:
            return False
        lo = max(0, start - self.exclude_reach)
        hi = min(len(folded), end + self.exclude_reach)
        return any(
            m.start() < end and m.end() > start for m in self.exclude.finditer(folded, lo, hi)
        )

    def context_ok(self, amb: AmbiguousName, folded: str, start: int, end: int) -> bool:
        if amb.window:
            around = (
                folded[max(0, start - amb.window) : start] + "\n" + folded[end : end + amb.window]
            )
        else:
            around = folded[:start] + "\n" + folded[end:]
        unless = self.unless[id(amb)]
        if unless is not None and unless.search(around):
            return False
        require = self.require[id(amb)]
        return require is None or require.search(around) is not None


class Linker:
    """Links text to the watchlist's companies.

    ``link(text)`` returns one ``TickerMention`` per company found, ordered by first
    appearance (watchlist order breaks ties), with every accepted span and its text.
    """

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self._companies = watchlist.companies
        self._rules = [_CompanyRules(c) for c in self._companies]
        self._entries: dict[str, list[_Entry]] = {}
        phrases: list[str] = []
        for index, company in enumerate(self._companies):
            for name in company.aliases:
                self._add(phrases, name, _Entry(index))
            for listing in company.listings:
                for form in code_forms(listing):
                    self._add(phrases, form, _Entry(index))
            for name in company.exact:
                self._add(phrases, name, _Entry(index, exact=phrase_key(name)))
            for amb in company.ambiguous:
                for name in amb.names:
                    exact = phrase_key(name) if amb.case_sensitive else None
                    self._add(phrases, name, _Entry(index, exact=exact, ambiguous=amb))
        self._pattern = compile_phrases(phrases)

    def _add(self, phrases: list[str], phrase: str, entry: _Entry) -> None:
        key = phrase_key(fold(phrase.strip()))
        bucket = self._entries.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)
            phrases.append(phrase)

    def link(self, text: str) -> tuple[TickerMention, ...]:
        """Every covered company mentioned in ``text``, with spans into ``text``."""
        if self._pattern is None or not text:
            return ()
        folded = fold(text)
        found: dict[int, list[tuple[int, int]]] = {}
        for match in self._pattern.finditer(folded):
            start, end = match.span()
            entries = self._entries.get(phrase_key(match.group()))
            if not entries:
                continue
            for entry in entries:
                if entry.company in found and (start, end) in found[entry.company]:
                    continue
                if self._accept(entry, text, folded, start, end):
                    found.setdefault(entry.company, []).append((start, end))
        order = sorted(found, key=lambda i: (found[i][0][0], i))
        return tuple(
            TickerMention(
                ticker=self._companies[i].id,
                spans=tuple(found[i]),
                matched=tuple(text[s:e] for s, e in found[i]),
            )
            for i in order
        )

    def _accept(self, entry: _Entry, text: str, folded: str, start: int, end: int) -> bool:
        if entry.exact is not None:
            original = phrase_key(text[start:end].translate(_FULLWIDTH))
            if original != entry.exact:
                return False
        rules = self._rules[entry.company]
        if rules.excluded(folded, start, end):
            return False
        if entry.ambiguous is not None and entry.ambiguous.traditional and not _traditional(text):
            return False
        return entry.ambiguous is None or rules.context_ok(entry.ambiguous, folded, start, end)


def _traditional(text: str) -> bool:
    """Whether ``text`` is written in traditional Chinese: some Han character folds to another
    (full-width punctuation folds too, and is in simplified text as well)."""
    table = _fold_table()
    return any("\u3400" <= ch <= "\u9fff" and ord(ch) in table for ch in text)


__all__ = ["Linker", "code_forms", "compile_phrases", "fold", "phrase_key"]
