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


def stance_bar(
    support: int,
    challenge: int,
    width: int = 12,
    *,
    scale: int | None = None,
    support_style: str = "green",
    challenge_style: str = "red",
) -> Text:
    """A centred gauge: challenge fills left of the centre, support right.

    With ``scale`` (the largest count on the board), each side is that count's share of the
    scale: the bar shows volume, so ``+2 (2/0)`` fills a quarter of what ``+8 (8/0)`` does,
    and any evidence at all fills at least one cell. Without it the fill is the net stance as
    a share of all evidence (``10/0`` full, ``5/5`` empty).

    >>> stance_bar(2, 0, 8, scale=8).plain, stance_bar(8, 0, 8, scale=8).plain
    ('────│█───', '────│████')
    """
    half = max(1, width // 2)
    if scale:
        negative = min(half, max(1 if challenge else 0, round(challenge / scale * half)))
        positive = min(half, max(1 if support else 0, round(support / scale * half)))
    else:
        total = support + challenge
        net = (support - challenge) / total if total else 0.0
        filled = round(abs(net) * half)
        negative = filled if net < 0 else 0
        positive = filled if net > 0 else 0
    text = Text(no_wrap=True)
    text.append("─" * (half - negative), style="dim")
    text.append("█" * negative, style=challenge_style)
    text.append("│", style="bold")
    text.append("█" * positive, style=support_style)
    text.append("─" * (half - positive), style="dim")
    return text


def net_label(
    support: int, challenge: int, *, positive_style: str = "green", counts: bool = True
) -> Text:
    """``+7 (9/2)``: the net count, coloured by its sign, and the two counts."""
    net = support - challenge
    style = positive_style if net > 0 else "red" if net < 0 else "dim"
    text = Text(f"{net:+d}", style=f"bold {style}", no_wrap=True)
    if counts:
        text.append(f" ({support}/{challenge})", style="dim")
    return text


def change_label(current: int, previous: int | None) -> Text:
    """``▲3`` / ``▼2`` / ``=``: the net's change against the previous window (dim)."""
    if previous is None:
        return Text("")
    delta = current - previous
    mark = "▲" if delta > 0 else "▼" if delta < 0 else "="
    return Text(f"{mark}{abs(delta) if delta else ''}", style="dim", no_wrap=True)


def ellipsize(text: Text, width: int) -> Text:
    """``text`` cut to ``width`` cells with one ellipsis (never two: a trailing ``…`` or
    ``...`` already there is dropped first).

    >>> ellipsize(Text("AI demand... and more"), 13).plain, ellipsize(Text("short"), 9).plain
    ('AI demand…', 'short')
    """
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(max(0, width - 1))
    cut.rstrip()
    plain = cut.plain
    for tail in ("…", "..."):
        if plain.endswith(tail):
            cut.right_crop(len(tail))
            cut.rstrip()
            break
    cut.append("…", style=text.style if isinstance(text.style, str) else "")
    return cut


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
