"""The one-line status bar: polling or attached, last poll, items today, failing sources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from thesiswatch.tui.render import age_since


@dataclass(frozen=True, slots=True)
class Status:
    """What the status bar shows; the app builds one from the store's stats."""

    mode: str = "attached"  # "polling" | "attached"
    why: str = ""  # why attached, from the CLI (e.g. "attached to the running daemon")
    busy: bool = False  # a poll cycle is running right now
    last_poll: datetime | None = None
    items_today: int = 0
    items_total: int = 0
    failing: int = 0
    overdue: int = 0  # sources nobody has polled for over twice their interval
    sources: int = 0
    daemon: str = ""  # attached: "running" | "stopped" ("" when unknown or polling)
    new_alerts: int = 0  # alerts raised since the last look
    filters: str = ""
    now: datetime | None = None


class StatusBar(Widget):
    """Shows a :class:`Status`; replace ``status`` to update it."""

    status: reactive[Status] = reactive(Status, layout=False)
    """The status on display."""

    def render(self) -> Text:
        status = self.status
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" thesiswatch ", style="bold reverse")
        if status.mode == "polling":
            text.append(" ● polling", style="bold green")
            if status.busy:
                text.append("…", style="green")
        elif status.daemon == "stopped":
            text.append(" ✗ daemon stopped", style="bold red")
        else:
            text.append(" ◌ attached", style="bold cyan")
            if status.daemon == "running" or (status.why and "daemon" in status.why):
                text.append(" to daemon", style="cyan")
        if status.overdue:  # early: the status bar is cut at the right on narrow terminals
            text.append(f"  ⚠ poll overdue ({status.overdue})", style="bold red")
        if status.new_alerts:
            more = "+" if status.new_alerts >= 1000 else ""
            text.append(f"  ● {status.new_alerts}{more} new", style="bold yellow")
        last = age_since(status.last_poll, status.now) if status.now else "—"
        text.append(f"  last poll {last}", style="")
        text.append(f"  {status.items_today:,} today", style="")
        text.append(f" / {status.items_total:,}", style="dim")
        if status.failing:
            text.append(f"  ✗ {status.failing} failing", style="bold red")
        elif status.sources:
            text.append(f"  ✓ {status.sources} sources", style="green")
        if status.filters:
            text.append("  ⏷ ", style="bold yellow")
            text.append(status.filters, style="yellow")
        return text
