"""The Textual app: wires the store, the watchlist and (optionally) the poller to the screens.

``make_app`` is the one factory the CLI and the tests share::

    app = make_app(settings, store=Store.open(path, readonly=True), watchlist=load_watchlist())
    app.run()

Two modes:

- **attached** (``pipeline=None``): another process (the daemon) writes the database; a timer
  checks ``store.data_version()`` and the screens re-read when it changes. Nothing here imports
  the sentiment scorer, so snownlp is never loaded.
- **polling**: one long-running worker runs ``pipeline.run_forever``; each finished cycle
  (``pipeline.on_cycle``) makes the screens re-read. Fetching is async and tagging runs in a
  thread inside the pipeline, so the UI never waits on the network or on scoring.
"""

from __future__ import annotations

import asyncio
import contextlib
import webbrowser
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from thesiswatch import ALERTS_SEEN_KEY as SEEN_KEY
from thesiswatch.errors import ThesiswatchError
from thesiswatch.store.models import StoredAlert
from thesiswatch.tui.host import AppHost
from thesiswatch.tui.render import as_utc
from thesiswatch.tui.screens.main import MainScreen
from thesiswatch.tui.screens.pick import PickScreen
from thesiswatch.tui.text import clean, is_web_url
from thesiswatch.tui.widgets.status_bar import Status, StatusBar

if TYPE_CHECKING:
    from thesiswatch.config import Settings
    from thesiswatch.pipeline import CycleReport, Pipeline
    from thesiswatch.signals.watchlist import Watchlist
    from thesiswatch.store import Store, StoreStats

Clock = Callable[[], datetime]

SNOOZE_CHOICES: dict[str, tuple[str, timedelta]] = {
    "1h": ("for 1 hour", timedelta(hours=1)),
    "4h": ("for 4 hours", timedelta(hours=4)),
    "24h": ("for 24 hours", timedelta(hours=24)),
    "7d": ("for 7 days", timedelta(days=7)),
}
MUTE_FOR = timedelta(hours=24)
AGE_REFRESH = 60.0  # seconds between re-reads when nothing changed
NEW_LIMIT = 1000  # new alerts counted at most (the header then shows "1000+")
NEVER = datetime.min.replace(tzinfo=UTC)  # no last look yet: every alert is new


def system_clock() -> datetime:
    return datetime.now(UTC)


class CyclePolled(Message):
    """The poll worker finished a cycle (new items and alerts may be stored)."""

    def __init__(self, report: CycleReport) -> None:
        super().__init__()
        self.report = report


class ThesisWatchApp(AppHost):
    """thesiswatch's terminal UI. Build it with :func:`make_app`."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses may live elsewhere
    TITLE = "thesiswatch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (Textual's own type)

    def __init__(
        self,
        settings: Settings | None,
        *,
        store: Store,
        watchlist: Watchlist,
        pipeline: Pipeline | None = None,
        clock: Clock | None = None,
        watch_interval: float = 2.0,
        daemon_probe: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.watchlist = watchlist
        self.pipeline = pipeline
        self.clock: Clock = clock or system_clock
        self.watch_interval = watch_interval
        self.daemon_probe = daemon_probe
        """Attached mode: True while the daemon holds the database's lock (checked each tick)."""
        self.daemon_alive: bool | None = None
        self.stale_screens: set[Screen[Any]] = set()
        """Screens below the top one that missed a data change (they re-read on resume)."""
        self._data_version: object = None
        self._stop_polling = asyncio.Event()
        self._stats: StoreStats | None = None
        self._overdue_read: tuple[datetime, int] | None = None
        self.seen_mark: datetime = NEVER
        """Your last look (the mark `thesiswatch alerts` shares): alerts after it are new."""
        self.new_alerts = 0
        self._critical_since: datetime | None = None  # bell/notify for critical alerts after
        self.startup_notice: str | None = None
        """Shown once on start (the demo says when its held-back items arrive)."""

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return "polling" if self.pipeline is not None else "attached"

    def now(self) -> datetime:
        return self.clock()

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen()

    def on_mount(self) -> None:
        self._data_version = self.store.data_version()
        mark = self.store.meta_get(SEEN_KEY)
        self.seen_mark = as_utc(mark) or NEVER
        self._critical_since = self.now()
        self.check_daemon()
        self.set_interval(self.watch_interval, self.check_for_changes, name="watch-db")
        # ages ("5m", "2h") and the 24 h windows move on even when no data arrives
        self.set_interval(AGE_REFRESH, self.data_changed, name="refresh-ages")
        if self.pipeline is not None:
            self._hook_pipeline(self.pipeline)
            self.run_poller()
        self._welcome_back()
        self._dead_deliveries()
        if self.startup_notice:
            self.notify(self.startup_notice, title="Demo", timeout=20, markup=False)

    def on_unmount(self) -> None:
        self._stop_polling.set()
        self._store_mark(self.now())

    def _store_mark(self, when: datetime) -> None:
        """Advance the "last look" mark (shared with `thesiswatch alerts`) when writable."""
        if not getattr(self.store, "readonly", False):
            with contextlib.suppress(ThesiswatchError):
                self.store.meta_set(SEEN_KEY, when.isoformat(timespec="seconds"))

    def action_mark_seen(self) -> None:
        """Everything shown so far counts as seen: the new count and markers clear."""
        now = self.now()
        self.seen_mark = now
        self._store_mark(now)
        self.notify("Marked everything as seen.", timeout=2)
        self.data_changed()

    def is_new(self, when: datetime | str | None) -> bool:
        """True for a time after your last look."""
        moment = as_utc(when)
        return moment is not None and moment > self.seen_mark

    def _count_new(self, now: datetime) -> int:
        since = None if self.seen_mark is NEVER else self.seen_mark
        alerts = self.store.alerts(since=since, limit=NEW_LIMIT, now=now)
        return sum(1 for a in alerts if self.is_new(a.created))

    def _ring_for_critical(self) -> None:
        """Bell and/or desktop notification for critical alerts raised since the last check
        (both off unless ``[tui] bell`` / ``desktop_notify`` are true in the config)."""
        settings = self.settings
        if settings is None or not (settings.tui_bell or settings.tui_desktop_notify):
            return
        since = self._critical_since
        fresh = [
            a
            for a in self.store.alerts(since=since, limit=50, now=self.now())
            if a.severity == "critical" and (since is None or (as_utc(a.created) or NEVER) > since)
        ]
        if not fresh:
            return
        self._critical_since = max(as_utc(a.created) or NEVER for a in fresh)
        if settings.tui_bell:
            self.bell()
        if settings.tui_desktop_notify:
            self._desktop_notify(
                f"{len(fresh)} critical alert{'s' if len(fresh) > 1 else ''}",
                clean(fresh[0].title)[:200],
            )

    @work(thread=True, group="notify", exit_on_error=False)
    def _desktop_notify(self, title: str, body: str) -> None:
        """``notify-send`` when there is one (Linux desktops); nothing otherwise."""
        import shutil
        import subprocess

        command = shutil.which("notify-send")
        if command is not None:
            subprocess.run(  # a fixed program, its arguments passed as a list
                [command, "--app-name=thesiswatch", "--urgency=critical", title, body],
                check=False,
                timeout=10,
            )

    def _dead_deliveries(self) -> None:
        """Alert deliveries the daemon gave up on (outbox rows ``dead``), once at start."""
        dead = self.store.outbox(status="dead")
        if not dead:
            return
        where = ", ".join(sorted({e.destination for e in dead}))
        self.notify(
            f"{len(dead)} alert deliveries given up ({where}): `thesiswatch alerts` lists them.",
            title="Deliveries failed",
            severity="warning",
            timeout=12,
            markup=False,
        )

    def _welcome_back(self) -> None:
        """The "while you were away" summary: what fired since the last look (this app's last
        exit, or `thesiswatch alerts`)."""
        mark = self.store.meta_get(SEEN_KEY)
        if not mark:
            return
        since = datetime.fromisoformat(mark)
        alerts = self.store.alerts(since=since, limit=1000)
        if not alerts:
            return
        critical = sum(1 for a in alerts if a.severity == "critical")
        self.notify(
            f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} since "
            f"{since:%Y-%m-%d %H:%M} UTC, {critical} critical.",
            title="While you were away",
            timeout=12,
            markup=False,
        )

    def _hook_pipeline(self, pipeline: Pipeline) -> None:
        previous = pipeline.on_cycle

        def cycle_done(report: CycleReport) -> None:
            if previous is not None:
                previous(report)
            self.post_message(CyclePolled(report))

        pipeline.on_cycle = cycle_done

    @work(group="poller", exclusive=True, exit_on_error=False)
    async def run_poller(self) -> None:
        """The one long-running poll worker (own-poll mode)."""
        assert self.pipeline is not None
        await self.pipeline.resume_outbox()  # alerts a previous run still owed its sinks
        await self.pipeline.run_forever(self._stop_polling)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker errors end here: one notification, the app carries on."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            message = (
                str(error)
                if isinstance(error, ThesiswatchError)
                else f"{type(error).__name__}: {error}"
            )
            self.notify(
                clean(message),
                title=f"{event.worker.group or 'worker'} failed",
                severity="error",
                markup=False,
            )

    def on_cycle_polled(self, message: CyclePolled) -> None:
        self.data_changed()

    # -- data changes ---------------------------------------------------------------------

    def check_daemon(self) -> None:
        """Attached mode: notice the daemon stopping (its lock released) or starting again."""
        if self.daemon_probe is None or self.pipeline is not None:
            return
        alive = self.daemon_probe()
        if alive == self.daemon_alive:
            return
        was, self.daemon_alive = self.daemon_alive, alive
        if not alive:
            self.notify(
                "The daemon stopped: nothing is polling. Start `thesiswatch daemon` again.",
                title="Daemon stopped",
                severity="warning",
                timeout=10,
                markup=False,
            )
        elif was is False:
            self.notify("The daemon is running again.", timeout=4)
        self.update_status()

    def check_for_changes(self) -> None:
        """Timer: re-read when another connection (the daemon) committed."""
        self.check_daemon()
        try:
            version = self.store.data_version()
        except ThesiswatchError as exc:
            self.notify(clean(exc), severity="error", markup=False)
            return
        if version != self._data_version:
            self._data_version = version
            self.data_changed()
        else:
            self.update_status()

    def data_changed(self) -> None:
        """Re-read the visible screen now; the ones below re-read when shown again."""
        self._ring_for_critical()
        for screen in self.screen_stack[:-1]:
            if hasattr(screen, "reload"):
                self.stale_screens.add(screen)
        self._reload_screen(self.screen)
        self.update_status(reread=True)

    def _reload_screen(self, screen: Screen[Any]) -> None:
        reload = getattr(screen, "reload", None)
        if reload is not None:
            reload()
        elif len(self.screen_stack) > 1:
            # a modal on top: reload the screen under it
            under = self.screen_stack[-2]
            reload_under = getattr(under, "reload", None)
            if reload_under is not None:
                reload_under()

    def update_status(self, *, reread: bool = False) -> None:
        """Rebuild the status bar; ``reread`` re-reads the store's stats (after new data)."""
        now = self.now()
        if reread or self._stats is None:
            self._stats = self.store.stats(now)
            self._overdue_read = (now, self._stats.overdue_sources)
            self.new_alerts = self._count_new(now)
        stats = self._stats
        filters = ""
        main = self._main_screen()
        if main is not None:
            filters = main.filters.describe(self._source_name(main.filters.source_id))
            if main.show_hidden:
                filters = f"{filters}, hidden shown" if filters else "hidden shown"
        status = Status(
            mode=self.mode,
            why=self.sub_title,
            busy=bool(getattr(self.pipeline, "polling", False)),
            last_poll=stats.last_poll,
            items_today=stats.items_today,
            items_total=stats.items_total,
            failing=stats.failing_sources,
            overdue=self._overdue(now),
            new_alerts=self.new_alerts,
            sources=stats.sources_active,
            daemon=(
                ""
                if self.daemon_alive is None or self.pipeline is not None
                else "running"
                if self.daemon_alive
                else "stopped"
            ),
            filters=filters,
            now=now,
        )
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.status = status

    def _overdue(self, now: datetime) -> int:
        """Overdue sources, re-read every 30 s even when nothing changes (no new data arrives
        precisely when the poller has stopped)."""
        read = self._overdue_read
        if read is None or now - read[0] >= timedelta(seconds=30):
            read = self._overdue_read = (now, self.store.overdue_sources(now))
        return read[1]

    def _main_screen(self) -> MainScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def _source_name(self, source_id: str | None) -> str | None:
        if not source_id:
            return None
        for source in self.store.source_health():
            if source.source_id == source_id:
                return source.name
        return source_id

    # -- navigation -----------------------------------------------------------------------

    def action_help(self) -> None:
        from thesiswatch.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_sources(self) -> None:
        from thesiswatch.tui.screens.sources import SourcesScreen

        if not isinstance(self.screen, SourcesScreen):
            self.push_screen(SourcesScreen())

    def action_report(self) -> None:
        from thesiswatch.tui.screens.report import ReportScreen

        if not isinstance(self.screen, ReportScreen):
            self.push_screen(ReportScreen())

    def open_ticker(self, ticker: str | None) -> None:
        """Open the ticker screen for ``ticker``, asking which one when it is None."""
        from thesiswatch.tui.screens.ticker import TickerScreen

        if ticker is None:
            self.pick_ticker(lambda chosen: chosen and self.push_screen(TickerScreen(chosen)))
        else:
            self.push_screen(TickerScreen(ticker))

    def pick_ticker(
        self, then: Callable[[str | None], object], *, current: str | None = None
    ) -> None:
        """Ask for a ticker of the watchlist (or "all"); call ``then`` with it."""
        options: list[tuple[str, Text | str]] = [("", Text("all tickers", style="italic"))]
        for company in self.watchlist.companies:
            label = Text(f"{company.id:<11}", style="bold")
            label.append(clean(company.name))
            if company.name_zh:
                label.append(f"  {clean(company.name_zh)}", style="dim")
            options.append((company.id, label))

        def chosen(ticker: str | None) -> None:
            if ticker is not None:
                then(ticker or None)

        self.push_screen(PickScreen("Filter by ticker", options, current=current or ""), chosen)

    def action_refresh(self) -> None:
        """Re-read now; when polling, poll every source now too."""
        if self.pipeline is not None:
            self.pipeline.wake()
            self.notify("Polling every source now.", timeout=2)
        self._data_version = self.store.data_version()
        self.data_changed()

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        """Textual's own link opening goes through the same http(s)-only check."""
        self.open_link(url)

    def open_link(self, url: str) -> None:
        """Open an http(s) link in the browser; anything else is refused."""
        if not url:
            self.notify("This has no link.", severity="warning", timeout=2)
            return
        if not is_web_url(url):
            self.notify(
                f"Not opening a non-web link: {clean(url)[:80]}",
                severity="warning",
                markup=False,
            )
            return
        self._open_in_browser(url)

    @work(thread=True, group="browser", exit_on_error=False)
    def _open_in_browser(self, url: str) -> None:
        webbrowser.open(url, new=2)

    # -- alert state (stored through the Store) --------------------------------------------

    def _need_alert(self, alert: StoredAlert | None) -> StoredAlert | None:
        if alert is None:
            self.notify("Select an alert first.", severity="warning", timeout=2)
        return alert

    def _stored(self, write: Callable[[], object]) -> bool:
        """Run one triage write; a database that cannot be written is reported, not fatal."""
        try:
            write()
        except ThesiswatchError as exc:
            self.notify(f"Not saved: {exc}", severity="error", timeout=6, markup=False)
            return False
        return True

    def _alert_state_changed(self, message: str) -> None:
        self.notify(message, timeout=2, markup=False)
        self.data_changed()

    def ack_alert(self, alert: StoredAlert | None) -> None:
        if (alert := self._need_alert(alert)) is None:
            return
        if self._stored(lambda: self.store.set_alert_state(alert.id, acked=not alert.acked)):
            self._alert_state_changed(
                "Alert unacknowledged." if alert.acked else "Alert acknowledged."
            )

    def mark_false_positive(self, alert: StoredAlert | None) -> None:
        if (alert := self._need_alert(alert)) is None:
            return
        if not self._stored(
            lambda: self.store.set_alert_state(alert.id, false_positive=not alert.false_positive)
        ):
            return
        self._alert_state_changed(
            "False-positive mark removed."
            if alert.false_positive
            else "Alert marked as a false positive."
        )

    def snooze_alert(self, alert: StoredAlert | None) -> None:
        if (target := self._need_alert(alert)) is None:
            return
        options: list[tuple[str, Text | str]] = [
            (key, label) for key, (label, _) in SNOOZE_CHOICES.items()
        ]
        if target.snoozed_until is not None:
            options.append(("0", "wake it now (unsnooze)"))

        def chosen(key: str | None) -> None:
            if key is None:
                return
            if key == "0":
                # the store keeps a snooze unless given another time: end it a second ago
                if self._stored(
                    lambda: self.store.set_alert_state(
                        target.id, snoozed_until=self.now() - timedelta(seconds=1)
                    )
                ):
                    self._alert_state_changed("Alert unsnoozed.")
                return
            label, span = SNOOZE_CHOICES[key]
            if self._stored(
                lambda: self.store.set_alert_state(target.id, snoozed_until=self.now() + span)
            ):
                self._alert_state_changed(f"Alert snoozed {label}.")

        self.push_screen(PickScreen("Snooze this alert", options), chosen)

    def mute_for_alert(self, alert: StoredAlert | None) -> None:
        """Mute the alert's ticker for 24 hours, or unmute it when it is muted already (with
        several tickers, pick one; muted ones are marked)."""
        if (target := self._need_alert(alert)) is None:
            return
        if not target.tickers:
            self.notify("This alert names no ticker.", severity="warning", timeout=2)
            return
        try:
            muted = self.store.muted_tickers(self.now())
        except ThesiswatchError as exc:
            self.notify(f"Cannot read mutes: {exc}", severity="error", timeout=6, markup=False)
            return
        if len(target.tickers) == 1:
            self.toggle_mute(target.tickers[0], muted=target.tickers[0] in muted)
            return
        options: list[tuple[str, Text | str]] = [
            (t, f"{t}  (muted: choose to unmute)" if t in muted else t) for t in target.tickers
        ]

        def chosen(ticker: str | None) -> None:
            if ticker:
                self.toggle_mute(ticker, muted=ticker in muted)

        self.push_screen(
            PickScreen(f"Mute which ticker for {MUTE_FOR.total_seconds() / 3600:.0f} h?", options),
            chosen,
        )

    def toggle_mute(self, ticker: str, *, muted: bool) -> None:
        if muted:
            if self._stored(lambda: self.store.unmute_ticker(ticker)):
                self._alert_state_changed(f"Alerts about {clean(ticker)} unmuted.")
        elif self._stored(lambda: self.store.mute_ticker(ticker, self.now() + MUTE_FOR)):
            self._alert_state_changed(f"Alerts about {clean(ticker)} muted for 24 hours.")

    # -- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the app is here, plus Textual's own (theme, keys, screenshot)."""
        yield from super().get_system_commands(screen)
        main = self._main_screen()
        yield SystemCommand("Help", "Every key binding", self.action_help)
        yield SystemCommand(
            "Refresh", "Re-read the database (and poll now when polling)", self.action_refresh
        )
        yield SystemCommand(
            "Sources", "Health of every source; refresh one or all", self.action_sources
        )
        yield SystemCommand("Report", "The report's facts and theses", self.action_report)
        yield SystemCommand(
            "Ticker view",
            "Sentiment, mentions, items and alerts of a ticker",
            lambda: self.open_ticker(None),
        )
        yield SystemCommand(
            "Toggle light/dark", "Switch between the light and dark theme", self.action_toggle_dark
        )
        if main is None:
            return
        yield SystemCommand(
            "Search",
            "Full-text search of titles and summaries",
            self._on_main(main, main.action_search),
        )
        yield SystemCommand(
            "Filters",
            "Language, sentiment, source, time window",
            self._on_main(main, main.action_filters),
        )
        yield SystemCommand(
            "Clear filters", "Show everything", self._on_main(main, main.action_clear_filters)
        )
        yield SystemCommand(
            "Show only new / everything",
            "Alerts and news after your last look",
            self._on_main(main, main.action_toggle_new),
        )
        yield SystemCommand(
            "Mark everything seen",
            "The new count and markers clear (shared with `thesiswatch alerts`)",
            self.action_mark_seen,
        )
        yield SystemCommand(
            "Zoom pane", "The focused pane alone fills the screen", main.action_zoom
        )
        yield SystemCommand(
            "Show/hide hidden alerts",
            "Snoozed, muted and false positives",
            self._on_main(main, main.action_toggle_hidden),
        )
        yield SystemCommand(
            "Filter by ticker…", "Pick a ticker", self._on_main(main, main.action_pick_ticker)
        )
        for thesis in self.watchlist.theses:
            yield SystemCommand(
                f"Filter by thesis: {clean(thesis.title)}",
                f"Alerts and news bearing on '{thesis.id}' (again to clear)",
                self._on_main(main, partial(main.set_thesis, thesis.id)),
            )
        for company in self.watchlist.companies:
            yield SystemCommand(
                f"Filter by ticker: {company.id} {clean(company.name)}",
                f"Alerts and news about {clean(company.name)} {clean(company.name_zh or '')}",
                self._on_main(main, partial(main.set_ticker, company.id)),
                discover=False,
            )
            yield SystemCommand(
                f"Ticker view: {company.id} {clean(company.name)}",
                "Sentiment over time, mentions, recent items and alerts",
                partial(self.open_ticker, company.id),
                discover=False,
            )
        yield SystemCommand(
            "Open link", "Open the selected item's link in the browser", main.action_open_link
        )
        yield SystemCommand(
            "Acknowledge alert", "Mark the selected alert as seen (again to undo)", main.action_ack
        )
        yield SystemCommand(
            "Snooze alert", "Hide the selected alert for a while", main.action_snooze
        )
        yield SystemCommand(
            "Mute ticker",
            "Silence alerts about the selected alert's ticker for 24 h (again to unmute)",
            main.action_mute,
        )
        yield SystemCommand(
            "Mark false positive",
            "Tell the rules this alert was wrong (again to undo)",
            main.action_false_positive,
        )

    def _on_main(self, main: MainScreen, action: Callable[[], object]) -> Callable[[], None]:
        """Run ``action`` on the main screen, going back to it first if another screen is on top."""

        def run() -> None:
            while len(self.screen_stack) > 1 and self.screen is not main:
                self.pop_screen()
            action()

        return run


def make_app(
    settings: Settings | None,
    *,
    store: Store,
    watchlist: Watchlist,
    pipeline: Pipeline | None = None,
    clock: Clock | None = None,
    daemon_probe: Callable[[], bool] | None = None,
) -> ThesisWatchApp:
    """The app, wired. ``pipeline=None`` attaches to a database others write; then
    ``daemon_probe`` says whether the daemon writing it still runs."""
    return ThesisWatchApp(
        settings,
        store=store,
        watchlist=watchlist,
        pipeline=pipeline,
        clock=clock,
        daemon_probe=daemon_probe,
    )
