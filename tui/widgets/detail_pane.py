"""The detail pane: everything about the selected alert or item, as literal text."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

from thesiswatch.store.models import StoredAlert, StoredItem
from thesiswatch.tui.render import (
    LABEL_STYLE,
    SEVERITY_STYLE,
    STANCE_STYLE,
    ago,
    as_utc,
    stamp,
)
from thesiswatch.tui.text import clean, safe_text


def _field(name: str, value: Text | str, style: str = "") -> Text:
    line = Text(no_wrap=False)
    line.append(f"{name:<10}", style="bold dim")
    if isinstance(value, Text):
        line.append_text(value)
    else:
        line.append(value, style=style)
    return line


def item_renderable(item: StoredItem, now: datetime) -> list[RenderableType]:
    """Lines describing one stored item (title, sources, time, language, sentiment, ...)."""
    lines: list[RenderableType] = []
    title = safe_text(item.title, style="bold")
    title.no_wrap = False
    lines.append(title)
    lines.append(Text(""))
    lines.append(_field("sources", safe_text(", ".join(item.sources) or "—")))
    when = item.time
    lines.append(_field("time", f"{stamp(when)} ({ago(when, now)})"))
    if item.published is None:
        lines.append(_field("", "no publication time: showing when fetched", style="dim"))
    lines.append(_field("language", clean(item.lang or "?")))
    label = item.label or "neu"
    sentiment = Text(f"{label} {item.score or 0.0:+.2f}", style=LABEL_STYLE.get(label, ""))
    evidence = list(item.evidence or ())
    if evidence:
        sentiment.append("  ← ", style="dim")
        sentiment.append_text(safe_text(", ".join(evidence[:8])))
    lines.append(_field("sentiment", sentiment))
    lines.append(_field("tickers", safe_text(" ".join(item.tickers) or "—")))
    stances = Text()
    for thesis, stance in sorted(item.theses.items()):
        stances.append(clean(thesis))
        stances.append(f" {stance}  ", style=STANCE_STYLE.get(stance, ""))
    lines.append(_field("theses", stances if stances.plain else Text("—")))
    for event in item.events[:3]:
        line = safe_text(event.type, style="bold")
        roles = ", ".join(f"{t} {role}" for t, role in event.entities)
        if roles:
            line.append("  ")
            line.append_text(safe_text(roles))
        if event.evidence:
            line.append("  ← ", style="dim")
            line.append_text(safe_text(", ".join(event.evidence[:2])))
        lines.append(_field("event", line))
    if item.relevance:
        relevance = safe_text(
            "  ".join(f"{t} {r}" for t, r in sorted(item.relevance.items(), key=lambda x: -x[1]))
        )
        lines.append(_field("relevance", relevance))
    link = safe_text(item.url or "—", style="underline" if item.url else "dim")
    link.no_wrap = False
    lines.append(_field("link", link))
    if item.summary:
        lines.append(Text(""))
        summary = safe_text(item.summary, single_line=False)
        summary.no_wrap = False
        lines.append(summary)
    return lines


def alert_renderable(alert: StoredAlert, now: datetime) -> list[RenderableType]:
    """Lines describing one alert: severity, rule, why, tickers, thesis and its state."""
    lines: list[RenderableType] = []
    head = Text(no_wrap=False)
    head.append(
        f"{alert.severity.upper()} ", style=f"bold {SEVERITY_STYLE.get(alert.severity, '')}"
    )
    head.append_text(safe_text(alert.title, style="bold"))
    head.no_wrap = False
    lines.append(head)
    message = safe_text(alert.message, single_line=False)
    message.no_wrap = False
    lines.append(message)
    lines.append(Text(""))
    lines.append(_field("rule", safe_text(alert.rule)))
    lines.append(_field("raised", f"{stamp(alert.created)} ({ago(alert.created, now)})"))
    lines.append(_field("tickers", safe_text(" ".join(alert.tickers) or "—")))
    if alert.thesis:
        thesis = safe_text(alert.thesis)
        if alert.stance:
            thesis.append(f" {alert.stance}", style=STANCE_STYLE.get(alert.stance, ""))
        lines.append(_field("thesis", thesis))
    lines.append(_field("sources", str(alert.source_count or 0)))
    state = []
    if alert.acked:
        state.append("acknowledged")
    until = as_utc(alert.snoozed_until)
    if until is not None and until > now:
        state.append(f"snoozed until {stamp(until)}")
    if alert.false_positive:
        state.append("false positive")
    lines.append(_field("state", ", ".join(state) or "new", style="dim" if state else "bold"))
    return lines


class DetailPane(RichLog, can_focus=True):
    """Shows one alert (with its first item) or one item; j/k scroll.

    A ``RichLog`` renders its lines once, at the pane's width, into a scroll view of its own,
    so a new selection repaints this pane only and never re-lays-out the screen.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            wrap=True, markup=False, highlight=False, auto_scroll=False, min_width=20, **kwargs
        )
        self.lines_shown: list[RenderableType] = [Text("Nothing selected.", style="dim")]

    def on_mount(self) -> None:
        self._set(self.lines_shown)

    def _set(self, lines: list[RenderableType]) -> None:
        self.lines_shown = lines
        self.clear()
        width = self.scrollable_content_region.width
        self.write(Group(*lines), width=width if width > 0 else None, scroll_end=False)
        self.scroll_home(animate=False)

    def on_resize(self, event: events.Resize) -> None:
        # lines are wrapped when written: re-wrap them at the new width
        self._set(self.lines_shown)

    def show_item(self, item: StoredItem, now: datetime) -> None:
        self.border_subtitle = "item"
        self._set(item_renderable(item, now))

    def show_alert(self, alert: StoredAlert, item: StoredItem | None, now: datetime) -> None:
        self.border_subtitle = "alert"
        lines = alert_renderable(alert, now)
        if item is not None:
            lines.append(Text(""))
            lines.append(Text("── first item " + "─" * 20, style="dim"))
            lines.extend(item_renderable(item, now))
        elif alert.url:
            lines.append(_field("link", safe_text(alert.url, style="underline")))
        self._set(lines)

    def show_nothing(self, message: str = "Nothing selected.") -> None:
        self.border_subtitle = ""
        self._set([Text(message, style="dim")])
