"""Watchlists: the built-in one (the DeepSeek R1 report, ``deepseek_r1.toml`` in this folder,
as data) and loading a user's TOML file.

Parsing and validation live in ``thesiswatch.signals.watchlist`` (pure); this module only reads
bytes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from thesiswatch.errors import WatchlistError
from thesiswatch.signals.watchlist import Watchlist, parse_watchlist

BUILTIN_WATCHLIST = "deepseek_r1.toml"


def builtin_watchlist_text() -> str:
    """The text of the built-in watchlist (the DeepSeek R1 report)."""
    return (resources.files("thesiswatch.watchlists") / BUILTIN_WATCHLIST).read_text(
        encoding="utf-8"
    )


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
        return parse_watchlist(text, origin=origin)
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
    return parse_watchlist(text, origin=origin)
