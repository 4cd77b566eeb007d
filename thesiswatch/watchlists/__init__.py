"""Watchlists: the built-in one (the DeepSeek R1 report, ``deepseek_r1.toml`` in this folder,
as data) and loading a user's TOML file.

Parsing and validation live in ``thesiswatch.signals.watchlist`` (pure); this module only reads
bytes.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.events import Taxonomy, parse_taxonomy
from thesiswatch.signals.watchlist import Watchlist, parse_watchlist

BUILTIN_WATCHLIST = "deepseek_r1.toml"
BUILTIN_EVENTS = "events.toml"


def builtin_watchlist_text() -> str:
    """The text of the built-in watchlist (the DeepSeek R1 report)."""
    return (resources.files("thesiswatch.watchlists") / BUILTIN_WATCHLIST).read_text(
        encoding="utf-8"
    )


@lru_cache(maxsize=1)
def builtin_taxonomy() -> Taxonomy:
    """The built-in event taxonomy (docs/events.md), parsed once."""
    origin = f"<built-in {BUILTIN_EVENTS}>"
    try:
        text = (resources.files("thesiswatch.watchlists") / BUILTIN_EVENTS).read_text(
            encoding="utf-8"
        )
    except OSError as exc:
        raise WatchlistError(f"{origin}: cannot read the built-in event taxonomy: {exc}") from exc
    return parse_taxonomy(text, origin=origin)


def _with_taxonomy(watchlist: Watchlist, origin: str) -> Watchlist:
    """The built-in taxonomy with the watchlist's own [[events]] added or replacing."""
    base = builtin_taxonomy()
    tables = watchlist.taxonomy
    if not tables:
        return replace(watchlist, taxonomy=base)
    own = parse_taxonomy(tables, origin=origin, thesis_ids=[t.id for t in watchlist.theses])
    return replace(watchlist, taxonomy=base.merged(own))


def load_watchlist(path: Path | None = None) -> Watchlist:
    """Load and validate a watchlist; ``None`` loads the built-in one.

    Every problem (missing file, not UTF-8, bad TOML, unknown key, bad value) raises
    ``WatchlistError`` with the file and what is wrong, on one line.
    """
    if path is None:
        origin = f"<built-in {BUILTIN_WATCHLIST}>"
        try:
            text = builtin_watchlist_text()
        except OSError as exc:
            raise WatchlistError(f"{origin}: cannot read the built-in watchlist: {exc}") from exc
        return _with_taxonomy(parse_watchlist(text, origin=origin), origin)
    path = Path(path)
    origin = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise WatchlistError(f"{origin}: watchlist file not found") from exc
    except IsADirectoryError as exc:
        raise WatchlistError(f"{origin}: is a directory, expected a watchlist TOML file") from exc
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise WatchlistError(f"{origin}: cannot read watchlist file: {reason}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WatchlistError(
            f"{origin}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from exc
    return _with_taxonomy(parse_watchlist(text, origin=origin), origin)
