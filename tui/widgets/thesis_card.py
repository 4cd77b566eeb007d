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
from thesiswatch.tui.render import (
    SEVERITY_STYLE,
    age_since,
    change_label,
    ellipsize,
    net_label,
    sparkline,
    stance_bar,
)
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
    role: str = ""  # "risk": a board of risks; its support is a risk materialising
    scale_24h: int = 0  # the largest 24 h count on the board: bars show volume against it
    scale_7d: int = 0
    previous_7d_net: int | None = None  # net of the 7 days before the last 7 (for the change)

    @property
    def is_risk(self) -> bool:
        return self.role == "risk"


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
        bar_width = max(6, min(20, width - 18))
        if height <= 1:
            return self._compact_line(data, width)
        lines: list[RenderableType] = []
        lines.extend(self._title_lines(data, width, max_lines=2 if height >= 8 else 1))
        if height >= 7 and data.statement:
            room = height - len(lines) - 5  # bars, sparkline, tickers and the alert below
            lines.extend(
                self._statement_lines(data.statement, width, max_lines=max(1, min(3, room)))
            )
        lines.append(self._stance_line("24h", data, bar_width, week=False))
        lines.append(self._stance_line("7d ", data, bar_width, week=True))
        if height >= 4:
            spark = Text("14d ", style="dim", no_wrap=True)
            spark.append_text(self._sparkline(data, data.daily_net[-max(1, width - 4) :]))
            lines.append(spark)
        if height >= 5:
            lines.append(safe_text(" ".join(data.tickers), style="dim"))
        if height >= 6:
            lines.append(self._alert_line(data, width))
        return Group(*lines[:height])

    def _title_lines(self, data: CardData, width: int, *, max_lines: int) -> list[Text]:
        """The title, whole when it fits in ``max_lines`` wrapped lines, else cut once."""
        title = Text(clean(data.title), style="bold")
        if data.is_risk:
            title.append(" ⚠", style="yellow")
        lines = list(title.wrap(self.app.console, width)) if max_lines > 1 else [title]
        if len(lines) > max_lines:
            rest = Text(" ").join(lines[max_lines - 1 :])
            lines = [*lines[: max_lines - 1], ellipsize(rest, width)]
        return [ellipsize(line, width) for line in lines]

    def _statement_lines(self, statement: str, width: int, *, max_lines: int) -> list[Text]:
        """The statement word-wrapped to ``max_lines`` lines, the last one ellipsised if cut."""
        wrapped = safe_text(statement, style="italic")
        wrapped.no_wrap = False
        lines = list(wrapped.wrap(self.app.console, width))
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            last = lines[-1]
            last.rstrip()
            last.append(" …")  # always cut: ellipsize then ends it with a single ellipsis
            lines[-1] = ellipsize(last, width) if last.cell_len > width else last
        return lines

    @staticmethod
    def _sparkline(data: CardData, values: tuple[int, ...]) -> Text:
        return sparkline(values, style_pos="yellow" if data.is_risk else "green")

    @staticmethod
    def _stance_line(label: str, data: CardData, width: int, *, week: bool) -> Text:
        support = data.support_7d if week else data.support_24h
        challenge = data.challenge_7d if week else data.challenge_24h
        scale = (data.scale_7d if week else data.scale_24h) or None
        positive = "yellow" if data.is_risk else "green"
        text = Text(f"{label} ", style="dim", no_wrap=True, overflow="ellipsis")
        text.append_text(stance_bar(support, challenge, width, scale=scale, support_style=positive))
        text.append(" ")
        text.append_text(net_label(support, challenge, positive_style=positive))
        if week and data.previous_7d_net is not None:
            text.append(" ")
            text.append_text(change_label(support - challenge, data.previous_7d_net))
        return text

    @staticmethod
    def _alert_line(data: CardData, width: int) -> Text:
        alert = data.latest_alert
        text = Text(no_wrap=True)
        if alert is None:
            text.append("no alert yet", style="dim")
            return text
        severity = alert.severity
        text.append("▲ ", style=SEVERITY_STYLE.get(severity, ""))
        if data.now is not None:
            text.append(f"{age_since(alert.created, data.now)} ", style="dim")
        text.append_text(safe_text(alert.title))
        return ellipsize(text, width)

    def _compact_line(self, data: CardData, width: int) -> Text:
        """One line: the thesis, its 7 d net (and change), the 7-day sparkline; more when wide."""
        positive = "yellow" if data.is_risk else "green"
        net = data.support_7d - data.challenge_7d
        tail = Text(" ", no_wrap=True)
        tail.append_text(
            net_label(
                data.support_7d, data.challenge_7d, positive_style=positive, counts=width >= 40
            )
        )
        if data.previous_7d_net is not None:
            tail.append_text(change_label(net, data.previous_7d_net))
        tail.append(" ")
        tail.append_text(
            self._sparkline(data, data.daily_net[-7:] if width >= 30 else data.daily_net[-4:])
        )
        if width >= 60:
            tail.append(f"  24h {data.support_24h - data.challenge_24h:+d}", style="dim")
            if data.tickers:
                tail.append("  ")
                tail.append_text(safe_text(" ".join(data.tickers), style="dim"))
        name = Text(clean(data.thesis_id), style="bold")
        if data.is_risk:
            name.append("⚠", style="yellow")
        room = max(3, width - tail.cell_len)
        text = ellipsize(name, room)
        text.pad_right(max(0, room - text.cell_len))
        text.append_text(tail)
        text.no_wrap = True
        text.truncate(width)
        return text
