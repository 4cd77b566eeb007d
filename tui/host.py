"""``AppHost``: what screens may ask of the app, as a base class the app implements, with
the app-wide key bindings.

Screens type ``self.app`` as ``AppHost`` instead of importing ``tui/app.py`` (which imports
the screens), so the app and its screens do not import each other. ``ThesisWatchApp`` defines
every method below; these bodies only say what each one is for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

if TYPE_CHECKING:
    from thesiswatch.pipeline import Pipeline
    from thesiswatch.signals.watchlist import Watchlist
    from thesiswatch.store import Store
    from thesiswatch.store.models import StoredAlert


class AppHost(App[None]):
    """The app as its screens see it: the store, the watchlist, the pipeline (None when
    attached), the app's clock, its triage actions, and the keys it offers everywhere (the
    help screen lists them)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Quit thesiswatch (also ctrl+q)"),
        Binding("question_mark", "help", "Help", tooltip="This list of every key"),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Re-read the database; when polling, poll every source now",
        ),
        Binding(
            "d",
            "toggle_dark",
            "Light/dark",
            show=False,
            tooltip="Switch between the light and the dark theme",
        ),
        Binding(
            "tab",
            "focus_next",
            "Next pane",
            show=False,
            tooltip="Board, alerts, news, detail, in turn",
        ),
        Binding("shift+tab", "focus_previous", "Prev pane", show=False),
    ]

    store: Store
    watchlist: Watchlist
    pipeline: Pipeline | None
    stale_screens: set[Screen[Any]]
    seen_mark: datetime

    def resumed(self, screen: Screen[Any]) -> None:
        """``screen`` is on top again: it re-reads when data changed while it was hidden."""
        if screen in self.stale_screens:
            self.stale_screens.discard(screen)
            reload = getattr(screen, "reload", None)
            if reload is not None:
                reload()

    def now(self) -> datetime:
        """The app's clock (fixed in tests and snapshots)."""
        raise NotImplementedError

    def is_new(self, when: datetime | str | None) -> bool:
        """True for a time after the user's last look (new alerts and items are marked)."""
        raise NotImplementedError

    def update_status(self, *, reread: bool = False) -> None:
        """Rebuild the status bar."""
        raise NotImplementedError

    def open_ticker(self, ticker: str | None) -> None:
        """Open a ticker's screen."""
        raise NotImplementedError

    def pick_ticker(
        self, then: Callable[[str | None], object], *, current: str | None = None
    ) -> None:
        """Ask for a ticker of the watchlist; call ``then`` with it."""
        raise NotImplementedError

    def open_link(self, url: str) -> None:
        """Open a web link in the browser."""
        raise NotImplementedError

    def ack_alert(self, alert: StoredAlert | None) -> None:
        """Acknowledge an alert."""
        raise NotImplementedError

    def mark_false_positive(self, alert: StoredAlert | None) -> None:
        """Mark an alert a false positive."""
        raise NotImplementedError

    def snooze_alert(self, alert: StoredAlert | None) -> None:
        """Snooze an alert."""
        raise NotImplementedError

    def mute_for_alert(self, alert: StoredAlert | None) -> None:
        """Mute the tickers of an alert."""
        raise NotImplementedError
