"""The session a front end hands to application services: resolved global options, the
settings (loaded lazily, reloadable), the watchlist and a store factory.

The CLI fills one from its global options; services (daemon, source commands, rule replay,
the TUI launcher) take a ``Session`` and never the CLI's own context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thesiswatch.errors import ThesiswatchError

if TYPE_CHECKING:
    from thesiswatch.config import Settings
    from thesiswatch.signals.watchlist import Watchlist
    from thesiswatch.store import Store


class Session:
    """What the global options resolved to; settings load lazily on first use."""

    def __init__(self) -> None:
        self.config: str | None = None
        self.db: str | None = None
        self.watchlist: str | None = None
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self.load_settings()
        return self._settings

    def load_settings(self) -> Settings:
        """Read the config (again, on SIGHUP) without replacing the settings in use."""
        from thesiswatch.config import load_settings

        return load_settings(self.config, self.db, self.watchlist)

    def use(self, settings: Settings) -> None:
        """Switch to settings that were loaded and checked (a config reload)."""
        self._settings = settings

    def load_watchlist(self) -> Watchlist:
        from thesiswatch.watchlists import load_watchlist

        return load_watchlist(self.settings().watchlist_path)

    def open_store(self, *, readonly: bool = False) -> Store:
        from thesiswatch.store import Store

        path = self.settings().db_path
        if readonly and not path.exists():
            raise ThesiswatchError(
                f"{path}: no database yet (run `thesiswatch daemon --once` first)"
            )
        return Store.open(path, readonly=readonly)
