"""Reading our word lists: ``signals/data/sentiment_<lang>.tsv``.

One line per term: ``term<TAB>kind<TAB>value``; ``#`` starts a comment line. Kinds:

=======  ==================================================================  =============
kind     meaning                                                             value
=======  ==================================================================  =============
pol      a term with its own polarity (涨停, 立案调查, "plunge")              weight, signed
dir      a direction word whose polarity flips after a "bad" noun           weight, signed
         (增长/下降, "rise"/"fall": 亏损收窄 and "costs fell" read positive)
inv      a "bad" noun that flips a nearby ``dir`` word (亏损, 成本, "loss")   own weight
neg      a negator (不, 未, "not", "failed to")                               unused (0)
int      an intensifier or a diminisher (大幅, 略, "sharply", "slightly")     multiplier
but      a contrast word: the clause after it counts more (但, "but"), or   0 or 1
         with value 1 a concession whose clause counts less (尽管, "despite")
cmp      a comparison marker: states after it are the old ones and read      own weight
         reversed (而去年同期, "compared with"; "up from" also has a weight)
brk      a word that ends a verb's reach to a noun ("to", "into"): "slipped   unused (0)
         to a loss" is a destination, not "cut losses"
met      a metric whose amounts are compared (营业利润, "net sales")          +1 or -1
q        a question marker (吗, 是否, "?"): its sentence asserts less         unused (0)
tpl      a boilerplate marker (disclaimers: 虚假记载; 小知识 boxes; 权益分派   0, or 1 for a
         notices): the sentence holding it is template text, counts nothing  body-only one
         (value 1, 数据显示: only after the lead sentence, which is the news)
evt      a corporate action ("to buy", "sells", "partners", "raises"): it     weight, signed
         counts only in a headline-length text in which nothing else does
stop     a word that must be read whole and carries nothing (涨跌幅, 无人机,  0
         "set up"): it stops a shorter term from matching inside it
=======  ==================================================================  =============

English terms are lower case, several words separated by single spaces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Kind = Literal[
    "pol", "dir", "inv", "neg", "int", "but", "stop", "cmp", "brk", "met", "q", "tpl", "evt"
]
KINDS: frozenset[str] = frozenset(
    {"pol", "dir", "inv", "neg", "int", "but", "stop", "cmp", "brk", "met", "q", "tpl", "evt"}
)


@dataclass(frozen=True, slots=True)
class Entry:
    kind: Kind
    value: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Terms of one language. ``starts`` maps a term's first character (Chinese) or first
    word (English) to the lengths of the terms that begin with it, longest first, so the
    scanners try only lengths that can match."""

    entries: dict[str, Entry]
    starts: dict[str, tuple[int, ...]]
    digest: str

    @property
    def lengths(self) -> tuple[int, ...]:
        """Every term length present, longest first."""
        return tuple(sorted({n for ns in self.starts.values() for n in ns}, reverse=True))


def parse_lexicon(text: str, *, origin: str, words: bool) -> Lexicon:
    """Parse lexicon text; ``words`` measures term length in words (English) not characters.

    Raises ``ValueError`` naming the line for a malformed line or a duplicated term: a term
    listed twice with two meanings is a bug in the word list, not something to guess around.
    """
    entries: dict[str, Entry] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t") if p.strip()]
        if len(parts) != 3 or parts[1] not in KINDS:
            raise ValueError(f"{origin}:{lineno}: expected 'term<TAB>kind<TAB>value': {raw!r}")
        term = " ".join(parts[0].lower().split()) if words else parts[0]
        try:
            value = float(parts[2])
        except ValueError as exc:
            raise ValueError(f"{origin}:{lineno}: value is not a number: {raw!r}") from exc
        if term in entries:
            raise ValueError(f"{origin}:{lineno}: {term!r} is listed twice")
        entries[term] = Entry(parts[1], value)  # type: ignore[arg-type]
    starts: dict[str, set[int]] = {}
    for term in entries:
        first, size = (term.split(" ")[0], term.count(" ") + 1) if words else (term[0], len(term))
        starts.setdefault(first, set()).add(size)
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    ordered = {k: tuple(sorted(v, reverse=True)) for k, v in starts.items()}
    return Lexicon(entries, ordered, digest)


def load_lexicon(lang: str) -> Lexicon:
    """Load the packaged lexicon of ``lang`` (``"zh"`` or ``"en"``)."""
    name = f"sentiment_{lang}.tsv"
    text = resources.files("thesiswatch.signals").joinpath("data", name).read_text(encoding="utf-8")
    return parse_lexicon(text, origin=name, words=lang == "en")
