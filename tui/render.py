"""Small pure renderers shared by widgets: sparklines, stance bars, ages, severity styles.

They return ``rich.text.Text`` built from styles, never from markup, so they are safe to
combine with untrusted text.

>>> sparkline([0, 1, 2, 3]).plain
'·▃▅█'
>>> age(timedelta(minutes=90))
'1h'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY_MARK = {"critical": "!!", "warning": "! ", "info": "· "}
LABEL_STYLE = {"pos": "green", "neg": "red", "neu": "dim"}
STANCE_STYLE = {"support": "green", "challenge": "red"}
STANCE_MARK = {"support": "+", "challenge": "−"}


def sparkline(values: Sequence[float], *, style_pos: str = "green", style_neg: str = "red") -> Text:
    """One character per value; height is the magnitude, colour the sign (net evidence)."""
    text = Text(no_wrap=True)
    peak = max((abs(v) for v in values), default=0) or 1
    for value in values:
        if value == 0:
            text.append("·", style="dim")
            continue
        index = max(1, round(abs(value) / peak * (len(BLOCKS) - 1)))
        text.append(BLOCKS[index], style=style_pos if value > 0 else style_neg)
    return text


def volume_sparkline(values: Sequence[float], style: str = "cyan") -> Text:
    """A plain sparkline of non-negative values (mention volume)."""
    peak = max(values, default=0) or 1
    chars = [BLOCKS[round(v / peak * (len(BLOCKS) - 1))] if v else " " for v in values]
    return Text("".join(chars), style=style, no_wrap=True)


def stance_bar(support: int, challenge: int, width: int = 12) -> Text:
    """A centred gauge: challenge fills left of the centre in red, support right in green.

    The fill is the net stance as a share of all evidence, so ``10/0`` is a full green bar
    and ``5/5`` is empty.
    """
    half = max(1, width // 2)
    total = support + challenge
    net = (support - challenge) / total if total else 0.0
    filled = round(abs(net) * half)
    text = Text(no_wrap=True)
    negative = filled if net < 0 else 0
    positive = filled if net > 0 else 0
    text.append("─" * (half - negative), style="dim")
    text.append("█" * negative, style="red")
    text.append("│", style="bold")
    text.append("█" * positive, style="green")
    text.append("─" * (half - positive), style="dim")
    return text


def net_label(support: int, challenge: int) -> Text:
    """``+7 (9/2)``: the net count, coloured by its sign, and the two counts."""
    net = support - challenge
    style = "green" if net > 0 else "red" if net < 0 else "dim"
    text = Text(f"{net:+d}", style=f"bold {style}", no_wrap=True)
    text.append(f" ({support}/{challenge})", style="dim")
    return text


def as_utc(value: datetime | str | None) -> datetime | None:
    """Parse ISO strings and make naive datetimes UTC; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def age(delta: timedelta) -> str:
    """A compact age: ``now``, ``5m``, ``3h``, ``2d``, ``7w``."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 86400 * 14:
        return f"{seconds // 86400}d"
    return f"{seconds // (86400 * 7)}w"


def age_since(when: datetime | str | None, now: datetime) -> str:
    moment = as_utc(when)
    return "—" if moment is None else age(now - moment)


def ago(when: datetime | str | None, now: datetime) -> str:
    """``2h ago``, ``just now`` or ``—``."""
    text = age_since(when, now)
    return {"now": "just now", "—": "—"}.get(text, f"{text} ago")


def stamp(when: datetime | str | None) -> str:
    """``2025-01-27 14:30 UTC`` or ``—``."""
    moment = as_utc(when)
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
