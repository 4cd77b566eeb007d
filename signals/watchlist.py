"""The watchlist: a report's theses and covered companies as data, parsed from TOML text.

A watchlist says which companies to link (names, listing codes, ambiguous names with the
contexts that decide them) and how news bears on each thesis (topics and stance cues). The
built-in one is ``thesiswatch/watchlists/deepseek_r1.toml``; the format is documented for users
in ``docs/watchlist.md``. This module is pure: it parses a ``str`` (``thesiswatch.watchlists``
reads files) and every mistake in the text raises ``WatchlistError`` naming the origin, the key
and what was expected, on one line.

Cue syntax (thesis ``topics``, ``support``, ``challenge``, ``support_if_about``,
``challenge_if_about``): a cue is one or more terms joined by ``" + "``, all of which must
hold for the item; a term is a phrase, ``@name`` (any phrase of ``[vocab].name``) or
``#thesis`` (a linked company belongs to that thesis), and a leading ``!`` makes a term one
that must *not* hold::

    "@export_controls + @tighter + !@eased"
    "@volume + @volume_down + #edge"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.models import THESIS_IDS

STANCES: tuple[str, ...] = ("support", "challenge")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LISTING = re.compile(r"^[A-Za-z0-9]+\.[A-Za-z]{1,3}$")
_VOCAB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class AmbiguousName:
    """Names that mean the company only in the right context.

    ``require_near``: at least one of these phrases must occur within ``window`` characters
    of the name (0 = anywhere in the text); ``unless_near``: none of these may;
    ``traditional``: only in text written in traditional Chinese (超微 is AMD in Taiwan and Hong
    Kong, Super Micro on the mainland).
    """

    names: tuple[str, ...]
    case_sensitive: bool = False
    require_near: tuple[str, ...] = ()
    unless_near: tuple[str, ...] = ()
    window: int = 40
    traditional: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Company:
    """A covered company (or, like DeepSeek, a covered unlisted one)."""

    id: str
    name: str
    name_zh: str = ""
    listings: tuple[str, ...] = ()
    theses: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ambiguous: tuple[AmbiguousName, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Thesis:
    """One thesis of the report and the cues that say how an item bears on it."""

    id: str
    title: str
    title_zh: str = ""
    statement: str = ""
    statement_zh: str = ""
    tickers: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    challenge: tuple[str, ...] = ()
    support_if_about: tuple[str, ...] = ()
    challenge_if_about: tuple[str, ...] = ()
    role: str = ""  # "risk": a board of risks, whose evidence can only materialise (support)


@dataclass(frozen=True, slots=True, kw_only=True)
class Watchlist:
    """A parsed watchlist: theses, companies (in file order), shared vocabularies, facts."""

    name: str
    description: str = ""
    theses: tuple[Thesis, ...] = ()
    companies: tuple[Company, ...] = ()
    facts: tuple[str, ...] = ()
    vocab: tuple[tuple[str, tuple[str, ...]], ...] = ()
    stance_from_sentiment: float = 0.0
    stance_from_basket: bool = False
    stance_from_cues: str = "fill"  # "fill": cues fill theses the events leave out; "fallback":
    # only for items whose events carry no thesis evidence; "off"
    taxonomy: Any = None  # the watchlist's own [[events]] / [event_vocab] tables as read;
    # the loader (thesiswatch.watchlists) parses them with signals.events.parse_taxonomy and
    # puts the built-in taxonomy merged with them here
    _thesis_index: dict[str, Thesis] = field(init=False, repr=False, compare=False)
    _company_index: dict[str, Company] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_thesis_index", {t.id: t for t in self.theses})
        object.__setattr__(self, "_company_index", {c.id: c for c in self.companies})

    def thesis(self, id: str) -> Thesis:
        """The thesis with this id (``KeyError`` if the watchlist has none)."""
        try:
            return self._thesis_index[id]
        except KeyError:
            raise KeyError(f"no thesis {id!r} in watchlist {self.name!r}") from None

    def company(self, id: str) -> Company:
        """The company with this id (``KeyError`` if the watchlist has none)."""
        try:
            return self._company_index[id]
        except KeyError:
            raise KeyError(f"no company {id!r} in watchlist {self.name!r}") from None

    @property
    def ticker_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.companies)

    @property
    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        return dict(self.vocab)


# --------------------------------------------------------------------------- parsing


class _Table:
    """A TOML table being read: typed getters that name the key path on error."""

    def __init__(self, data: Mapping[str, Any], path: str, origin: str) -> None:
        self.data = data
        self.path = path
        self.origin = origin
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, expected: str, got: object) -> WatchlistError:
        shown = repr(got)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return WatchlistError(f"{self.origin}: {self.key(name)}: expected {expected}, got {shown}")

    def _get(self, name: str, required: bool) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise WatchlistError(f"{self.origin}: {self.key(name)}: missing (required)")
            return None
        return self.data[name]

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(name, "a string", value)
        if required and not value.strip():
            raise self.fail(name, "a non-empty string", value)
        return value

    def texts(
        self,
        name: str,
        *,
        check: Callable[[str], bool] | None = None,
        expected: str = "a list of non-empty strings",
    ) -> tuple[str, ...]:
        value = self._get(name, False)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(name, expected, value)
        for item in value:
            if not isinstance(item, str) or not item.strip() or (check and not check(item)):
                raise self.fail(name, expected, item)
        return tuple(value)

    def number(self, name: str, *, default: float, low: float, high: float) -> float:
        value = self._get(name, False)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.fail(name, f"a number from {low:g} to {high:g}", value)
        return float(value)

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self._get(name, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(name, f"an integer from {low} to {high}", value)
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self._get(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, "true or false", value)
        return value

    def tables(self, name: str) -> list[_Table]:
        value = self._get(name, False)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(name, f"an array of tables ([[{self.key(name)}]])", value)
        return [_Table(v, f"{self.key(name)}[{i}]", self.origin) for i, v in enumerate(value)]

    def table(self, name: str) -> _Table | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(name, f"a table ([{self.key(name)}])", value)
        return _Table(value, self.key(name), self.origin)

    def done(self, allowed_hint: str) -> None:
        """Reject keys nobody asked for (typos must not pass silently)."""
        for name in self.data:
            if name not in self.used:
                raise WatchlistError(
                    f"{self.origin}: {self.key(name)}: unknown key (expected one of: {allowed_hint})"
                )


def _parse_cue(
    cue: str,
    vocab: Mapping[str, tuple[str, ...]],
    thesis_ids: Sequence[str],
    table: _Table,
    key: str,
) -> None:
    """Validate one cue string (see the module docstring)."""
    for raw in cue.split(" + "):
        term = raw.strip()
        if term.startswith("!"):
            term = term[1:].strip()
        if not term or term in ("@", "#", "*") or term.startswith("*"):
            raise table.fail(key, 'cues like "phrase", "@vocab + phrase" or "!@vocab"', cue)
        if term.startswith("@") and term[1:] not in vocab:
            known = ", ".join(sorted(vocab)) or "none defined"
            raise table.fail(key, f"@names defined in [vocab] ({known})", cue)
        if term.startswith("#") and term[1:] not in thesis_ids:
            raise table.fail(
                key, f"#thesis ids defined in [[theses]] ({', '.join(thesis_ids)})", cue
            )
    if all(t.strip().startswith("!") for t in cue.split(" + ")):
        raise table.fail(key, "a cue with at least one positive term", cue)


_TOP_KEYS = (
    "name, description, facts, stance_from_sentiment, stance_from_basket, stance_from_cues, "
    "vocab, theses, companies, events, event_vocab"
)
_THESIS_KEYS = (
    "id, title, title_zh, statement, statement_zh, role, tickers, topics, support, challenge, "
    "support_if_about, challenge_if_about"
)
_COMPANY_KEYS = "id, name, name_zh, listings, theses, aliases, exact, exclude, ambiguous, note"
_AMBIGUOUS_KEYS = "names, case_sensitive, require_near, unless_near, window, traditional"
_CUE_KEYS = ("topics", "support", "challenge", "support_if_about", "challenge_if_about")


def parse_watchlist(text: str, *, origin: str = "<watchlist>") -> Watchlist:
    """Parse watchlist TOML text into a ``Watchlist``.

    >>> wl = parse_watchlist('''
    ... name = "Demo"
    ... [[theses]]
    ... id = "compute"
    ... title = "AI compute demand"
    ... support = ["capex"]
    ... [[companies]]
    ... id = "NVDA.US"
    ... name = "NVIDIA"
    ... aliases = ["Nvidia", "英伟达"]
    ... theses = ["compute"]
    ... ''')
    >>> wl.thesis("compute").tickers
    ('NVDA.US',)
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WatchlistError(f"{origin}: not valid TOML: {exc}") from exc

    top = _Table(data, "", origin)
    name = top.text("name", required=True)
    description = top.text("description")
    facts = top.texts("facts")
    from_sentiment = top.number("stance_from_sentiment", default=0.0, low=0.0, high=1.0)
    from_basket = top.boolean("stance_from_basket", default=False)
    from_cues = top.text("stance_from_cues", default="fill")
    if from_cues not in ("fill", "fallback", "off"):
        raise top.fail("stance_from_cues", '"fill", "fallback" or "off"', from_cues)
    event_tables = {k: top.data[k] for k in ("events", "event_vocab") if k in top.data}
    top.used.update(event_tables)

    vocab: dict[str, tuple[str, ...]] = {}
    vocab_table = top.table("vocab")
    if vocab_table is not None:
        for key in vocab_table.data:
            if not _VOCAB_NAME.match(key):
                raise vocab_table.fail(
                    key, "a vocabulary name of [a-z0-9_] starting with a letter", key
                )
            words = vocab_table.texts(key)
            if not words:
                raise vocab_table.fail(key, "a non-empty list of phrases", vocab_table.data[key])
            vocab[key] = words

    company_tables = top.tables("companies")
    thesis_tables = top.tables("theses")
    top.done(_TOP_KEYS)
    if not thesis_tables:
        raise WatchlistError(f"{origin}: theses: expected at least one [[theses]] table")

    # Theses first (without tickers), so companies can be checked against their ids.
    raw_theses: list[dict[str, Any]] = []
    for t in thesis_tables:
        tid = t.text("id", required=True)
        if not _ID.match(tid):
            raise t.fail("id", "an id of letters, digits, '.', '_' or '-'", tid)
        if any(r["id"] == tid for r in raw_theses):
            raise t.fail("id", "a thesis id not used before", tid)
        fields: dict[str, Any] = {
            "id": tid,
            "title": t.text("title", required=True),
            "title_zh": t.text("title_zh"),
            "statement": t.text("statement"),
            "statement_zh": t.text("statement_zh"),
            "role": t.text("role"),
            "tickers": t.texts("tickers"),
        }
        if fields["role"] not in ("", "risk"):
            raise t.fail("role", '"risk" (or no role)', fields["role"])
        for key in _CUE_KEYS:
            fields[key] = t.texts(key)
        t.done(_THESIS_KEYS)
        raw_theses.append(fields)
    thesis_ids = [r["id"] for r in raw_theses]
    for t, fields in zip(thesis_tables, raw_theses, strict=True):
        for key in _CUE_KEYS:
            for cue in fields[key]:
                _parse_cue(cue, vocab, thesis_ids, t, key)

    companies: list[Company] = []
    for c in company_tables:
        cid = c.text("id", required=True)
        if not _ID.match(cid):
            raise c.fail("id", "an id of letters, digits, '.', '_' or '-'", cid)
        if any(x.id == cid for x in companies):
            raise c.fail("id", "a company id not used before", cid)
        listings = c.texts(
            "listings",
            check=lambda s: bool(_LISTING.match(s)),
            expected='listing codes like "NVDA.US", "1810.HK", "002594.CH"',
        )
        theses = c.texts(
            "theses",
            check=lambda s: s in thesis_ids,
            expected=f"thesis ids defined in [[theses]] ({', '.join(thesis_ids)})",
        )
        ambiguous: list[AmbiguousName] = []
        for a in c.tables("ambiguous"):
            names = a.texts("names")
            if not names:
                raise WatchlistError(f"{origin}: {a.key('names')}: missing (required)")
            ambiguous.append(
                AmbiguousName(
                    names=names,
                    case_sensitive=a.boolean("case_sensitive", default=False),
                    require_near=a.texts("require_near"),
                    unless_near=a.texts("unless_near"),
                    window=a.integer("window", default=40, low=0, high=10_000),
                    traditional=a.boolean("traditional", default=False),
                )
            )
            a.done(_AMBIGUOUS_KEYS)
        company = Company(
            id=cid,
            name=c.text("name", required=True),
            name_zh=c.text("name_zh"),
            listings=listings,
            theses=theses,
            aliases=c.texts("aliases"),
            exact=c.texts("exact"),
            exclude=c.texts("exclude"),
            ambiguous=tuple(ambiguous),
            note=c.text("note"),
        )
        c.done(_COMPANY_KEYS)
        if not (company.aliases or company.exact or company.ambiguous or company.listings):
            raise c.fail("aliases", "at least one of aliases, exact, ambiguous or listings", [])
        companies.append(company)
    company_ids = [c.id for c in companies]

    theses_out: list[Thesis] = []
    for t, fields in zip(thesis_tables, raw_theses, strict=True):
        for ticker in fields["tickers"]:
            if ticker not in company_ids:
                raise t.fail("tickers", "company ids defined in [[companies]]", ticker)
        # A thesis's tickers: those it lists plus the companies that name it, in company order.
        claimed = {c.id for c in companies if fields["id"] in c.theses} | set(fields["tickers"])
        fields["tickers"] = tuple(cid for cid in company_ids if cid in claimed)
        theses_out.append(Thesis(**fields))

    by_thesis = {t.id: t.tickers for t in theses_out}
    companies = [
        _with_theses(c, tuple(tid for tid in thesis_ids if c.id in by_thesis[tid]))
        for c in companies
    ]
    return Watchlist(
        name=name,
        description=description,
        theses=tuple(theses_out),
        companies=tuple(companies),
        facts=facts,
        vocab=tuple(vocab.items()),
        stance_from_sentiment=from_sentiment,
        stance_from_basket=from_basket,
        stance_from_cues=from_cues,
        taxonomy=event_tables or None,
    )


def _with_theses(company: Company, theses: tuple[str, ...]) -> Company:
    return company if company.theses == theses else replace(company, theses=theses)


__all__ = [
    "STANCES",
    "THESIS_IDS",
    "AmbiguousName",
    "Company",
    "Thesis",
    "Watchlist",
    "parse_watchlist",
]
