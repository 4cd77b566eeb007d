"""The live alert list: newest first, severity colour, rule, ticker, thesis, sources, age."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from thesiswatch.store.models import StoredAlert
from thesiswatch.tui.render import (
    SEVERITY_MARK,
    SEVERITY_STYLE,
    STANCE_MARK,
    STANCE_STYLE,
    age_since,
    as_utc,
)
from thesiswatch.tui.text import safe_text
from thesiswatch.tui.widgets.record_table import RecordTable


class AlertList(RecordTable[StoredAlert]):
    """A table of alerts. Highlighting a row posts :class:`AlertList.AlertHighlighted`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding(
            "a",
            "screen.ack",
            "Ack",
            tooltip="Acknowledge the alert (it leaves the list; again to undo)",
        ),
        Binding(
            "s", "screen.snooze", "Snooze", tooltip="Hide the alert for 1 h, 4 h, 24 h or 7 days"
        ),
        Binding(
            "m",
            "screen.mute",
            "Mute",
            tooltip="Mute alerts about the alert's ticker for 24 hours (again to unmute)",
        ),
        Binding(
            "x",
            "screen.false_positive",
            "False+",
            tooltip="Mark the alert as a false positive (again to undo)",
        ),
        Binding(
            "H",
            "screen.toggle_hidden",
            "Hidden",
            show=False,
            tooltip="Show or hide acknowledged, snoozed, muted and false-positive alerts",
        ),
    ]

    class AlertHighlighted(Message):
        """The cursor moved onto an alert."""

        def __init__(self, alert: StoredAlert) -> None:
            super().__init__()
            self.alert = alert

    COLUMNS: ClassVar[list[tuple[str, int, int]]] = [
        ("", 1, 1),  # ● new since the last look
        ("", 2, 2),
        ("age", 4, 3),
        ("rule", 16, 10),
        ("ticker", 10, 9),
        ("thesis", 13, 8),
        ("src", 3, 3),
    ]

    @property
    def alerts(self) -> list[StoredAlert]:
        """The alerts shown, newest first."""
        return self.records

    def cells(self, alert: StoredAlert, now: datetime) -> list[Text]:
        hidden = bool(alert.false_positive) or _is_snoozed(alert, now)
        dim = "dim" if alert.acked or hidden else ""
        severity = alert.severity
        sev = Text(SEVERITY_MARK.get(severity, "  "), style=SEVERITY_STYLE.get(severity, ""))
        if alert.false_positive:
            sev = Text("✗ ", style="dim")
        elif alert.acked:
            sev = Text("✓ ", style="dim")
        thesis = Text(no_wrap=True)
        if alert.thesis:
            thesis.append(
                STANCE_MARK.get(alert.stance or "", " "),
                style=STANCE_STYLE.get(alert.stance or "", ""),
            )
            thesis.append_text(safe_text(alert.thesis))
        tickers = list(alert.tickers)
        ticker = safe_text(tickers[0] if tickers else "—")
        if len(tickers) > 1:
            ticker.append(f"+{len(tickers) - 1}", style="dim")
        title_style = (
            f"{SEVERITY_STYLE.get(severity, '')} {dim}".strip() if severity == "critical" else dim
        )
        return [
            self.new_mark(alert.created),
            sev,
            Text(age_since(alert.created, now), style="dim"),
            safe_text(alert.rule, style=dim),
            ticker,
            thesis,
            Text(str(alert.source_count or ""), style=dim, justify="right"),
            safe_text(alert.title, style=title_style),
        ]

    def highlighted(self, alert: StoredAlert) -> None:
        self.post_message(self.AlertHighlighted(alert))


def _is_snoozed(alert: StoredAlert, now: datetime) -> bool:
    until = as_utc(alert.snoozed_until)
    return until is not None and until > now
