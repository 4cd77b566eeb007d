"""One board of the thesis board: statement, tickers, net stance 24 h / 7 d, evidence sparkline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from thesiswatch.store.models import StoredAlert
from thesiswatch.tui.render import SEVERITY_STYLE, age_since, net_label, sparkline, stance_bar
from thesiswatch.tui.text import clean, safe_text


@dataclass(frozen=True, slots=True)
class CardData:
    """Everything one card shows, in plain values (built by the screen from the store)."""

    thesis_id: str
    title: str
    statement: str = ""
    tickers: tuple[str, ...] = ()
    support_24h: int = 0
    challenge_24h: int = 0
    support_7d: int = 0
    challenge_7d: int = 0
    daily_net: tuple[int, ...] = ()
    latest_alert: StoredAlert | None = None
    now: datetime | None = None


class ThesisCard(Widget):
    """A thesis board. A click posts :class:`ThesisCard.Selected` (the screen filters by it)."""

    data: reactive[CardData | None] = reactive(None)
    """The data on display."""

    class Selected(Message):
        """The user picked this thesis (to filter alerts and news by it)."""

        def __init__(self, thesis_id: str) -> None:
            super().__init__()
            self.thesis_id = thesis_id

    def __init__(self, thesis_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.thesis_id = thesis_id

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Selected(self.thesis_id))

    def render(self) -> RenderableType:
        data = self.data
        if data is None:
            return Text(self.thesis_id)
        width = max(8, self.content_size.width)
        height = self.content_size.height
        bar_width = max(6, min(20, width - 16))
        if height <= 1:
            return self._compact_line(data, width)
        lines: list[RenderableType] = []
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(clean(data.title), style="bold")
        lines.append(title)
        if height >= 7 and data.statement:
            lines.extend(
                self._statement_lines(data.statement, width, max_lines=2 if height < 10 else 3)
            )
        lines.append(self._stance_line("24h", data.support_24h, data.challenge_24h, bar_width))
        lines.append(self._stance_line("7d ", data.support_7d, data.challenge_7d, bar_width))
        if height >= 4:
            spark = Text("14d ", style="dim", no_wrap=True)
            spark.append_text(sparkline(data.daily_net[-max(1, width - 4) :]))
            lines.append(spark)
        if height >= 5:
            lines.append(safe_text(" ".join(data.tickers), style="dim"))
        if height >= 6:
            lines.append(self._alert_line(data))
        return Group(*lines[:height])

    def _statement_lines(self, statement: str, width: int, *, max_lines: int) -> list[Text]:
        """The statement word-wrapped to ``max_lines`` lines, the last one ellipsised if cut."""
        wrapped = safe_text(statement, style="italic")
        wrapped.no_wrap = False
        lines = list(wrapped.wrap(self.app.console, width))
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            last = lines[-1]
            last.rstrip()
            if last.cell_len >= width:
                last.truncate(width - 1)
            last.append("…", style="italic")
        return lines

    @staticmethod
    def _stance_line(label: str, support: int, challenge: int, width: int) -> Text:
        text = Text(f"{label} ", style="dim", no_wrap=True, overflow="ellipsis")
        text.append_text(stance_bar(support, challenge, width))
        text.append(" ")
        text.append_text(net_label(support, challenge))
        return text

    @staticmethod
    def _alert_line(data: CardData) -> Text:
        alert = data.latest_alert
        text = Text(no_wrap=True, overflow="ellipsis")
        if alert is None:
            text.append("no alert yet", style="dim")
            return text
        severity = alert.severity
        text.append("▲ ", style=SEVERITY_STYLE.get(severity, ""))
        if data.now is not None:
            text.append(f"{age_since(alert.created, data.now)} ", style="dim")
        text.append_text(safe_text(alert.title))
        return text

    def _compact_line(self, data: CardData, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{clean(data.thesis_id)[:13]:<13} ", style="bold")
        text.append("7d ", style="dim")
        text.append_text(stance_bar(data.support_7d, data.challenge_7d, 8))
        text.append(" ")
        text.append_text(net_label(data.support_7d, data.challenge_7d))
        text.append(" ")
        text.append_text(sparkline(data.daily_net[-7:]))
        text.append(f"  24h {data.support_24h - data.challenge_24h:+d}", style="dim")
        if data.tickers:
            text.append("  ")
            text.append_text(safe_text(" ".join(data.tickers), style="dim"))
        return text
