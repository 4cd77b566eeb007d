"""User keyword rules: TrendRadar-style ``+must !exclude /regex/`` expressions matched against
an item's title and summary in Chinese or English."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from thesiswatch.records import SEVERITIES, Severity
from thesiswatch.signals.lang import to_simplified


def _fold(text: str) -> str:
    """NFKC, simplified Chinese, lower case: what terms and regexes are matched against."""
    return to_simplified(unicodedata.normalize("NFKC", text)).casefold()


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    """Latin terms match whole words ("AI" not in "said"); Chinese terms match as substrings."""
    folded = _fold(term)
    escaped = re.escape(folded)
    if folded.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_TOKEN = re.compile(r"""([+!]?)(?:/((?:\\.|[^/\\])+)/|"([^"]*)"|(\S+))""")


@dataclass(frozen=True)
class KeywordRule:
    """A user watch rule, matched against an item's title and summary in either language.

    ``must``: every term present; ``any``: at least one present (when given); ``exclude``: none
    present; ``regex``: matches (Python syntax, case-insensitive). Text and terms are compared
    after NFKC, traditional-to-simplified folding and lower-casing, so "台積電" matches
    "台积电"; Latin terms match whole words. An exclude-only rule is refused: it would match
    everything. ``tickers``: optionally, only items about one of these tickers.

    >>> rule = KeywordRule.parse("export-controls", '+出口管制 !传闻 英伟达 nvidia')
    >>> rule.match("美国收紧出口管制，英伟达H20受限")
    ('出口管制', '英伟达')
    >>> rule.match("传闻美国将收紧出口管制 英伟达") is None
    True
    """

    name: str
    must: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regex: str | None = None
    severity: Severity = "info"
    tickers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a keyword rule needs a name")
        if not (self.must or self.any or self.regex):
            raise ValueError(
                f"keyword rule {self.name!r} has nothing to match (give must, any or regex; "
                "exclude alone would match everything)"
            )
        if self.severity not in SEVERITIES:
            raise ValueError(f"keyword rule {self.name!r}: severity must be one of {SEVERITIES}")
        if self.regex is not None:
            try:
                _regex(self.regex)
            except re.error as exc:
                raise ValueError(f"keyword rule {self.name!r}: bad regex: {exc}") from exc
        for term in (*self.must, *self.any, *self.exclude):
            if not term.strip():
                raise ValueError(f"keyword rule {self.name!r} has an empty term")

    @classmethod
    def parse(
        cls,
        name: str,
        expression: str,
        *,
        severity: Severity = "info",
        tickers: Sequence[str] = (),
    ) -> KeywordRule:
        """Build a rule from TrendRadar-style syntax: ``+must``, ``!exclude``, ``/regex/``,
        plain words (any of), ``"quoted phrases"`` (with or without a prefix).

        >>> KeywordRule.parse("r", '+DeepSeek !"rumour mill" /R[0-9]/ 英伟达 NVIDIA')
        KeywordRule(name='r', must=('DeepSeek',), any=('英伟达', 'NVIDIA'), exclude=('rumour mill',), regex='R[0-9]', severity='info', tickers=())
        """
        must: list[str] = []
        any_: list[str] = []
        exclude: list[str] = []
        regexes: list[str] = []
        for match in _TOKEN.finditer(expression):
            prefix, regex, quoted, word = match.groups()
            if regex is not None:
                if prefix:
                    raise ValueError(f"keyword rule {name!r}: a /regex/ takes no + or ! prefix")
                regexes.append(regex)
                continue
            term = quoted if quoted is not None else word
            {"+": must, "!": exclude, "": any_}[prefix].append(term)
        combined = (
            "|".join(f"(?:{r})" for r in regexes)
            if len(regexes) > 1
            else (regexes[0] if regexes else None)
        )
        return cls(
            name=name,
            must=tuple(must),
            any=tuple(any_),
            exclude=tuple(exclude),
            regex=combined,
            severity=severity,
            tickers=tuple(tickers),
        )

    def match(self, text: str, tickers: Iterable[str] = ()) -> tuple[str, ...] | None:
        """The terms that matched (the evidence), or None when the rule does not fire."""
        if self.tickers and not set(self.tickers) & set(tickers):
            return None
        folded = _fold(text)
        if any(_term_pattern(t).search(folded) for t in self.exclude):
            return None
        hits = [t for t in self.must if _term_pattern(t).search(folded)]
        if len(hits) < len(self.must):
            return None
        if self.any:
            found = [t for t in self.any if _term_pattern(t).search(folded)]
            if not found:
                return None
            hits.extend(found)
        if self.regex is not None:
            m = _regex(self.regex).search(folded)
            if m is None:
                return None
            hits.append(m.group(0))
        return tuple(hits)
