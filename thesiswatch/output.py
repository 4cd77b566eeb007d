"""Writing records for the CLI: JSON Lines, CSV and plain tables on a text stream."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from thesiswatch.alerts.format import one_line
from thesiswatch.feeds.normalize import plain_text
from thesiswatch.store.models import OutboxEntry


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def safe_text(value: Any) -> str:
    """Terminal-safe text: feed text is untrusted, strip control and escape characters."""
    return plain_text(_cell(value)) if isinstance(value, str) else _cell(value)


def write_records(rows: Iterable[Mapping[str, Any]], out: TextIO, fmt: str) -> int:
    """Write dict records as ``jsonl`` or ``csv``; returns the count written."""
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
        return count
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row.keys()), extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
        count += 1
    return count


def write_query(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO, fmt: str
) -> None:
    """Write a query result as an aligned ``table``, ``json`` (array of objects) or ``csv``."""
    if fmt == "json":
        json.dump(
            [dict(zip(columns, r, strict=True)) for r in rows],
            out,
            ensure_ascii=False,
            default=str,
            indent=1,
        )
        out.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in r] for r in rows])
        return
    cells = [[safe_text(v) for v in r] for r in rows]
    widths = [len(c) for c in columns]
    for r in cells:
        for i, v in enumerate(r):
            widths[i] = min(max(widths[i], _width(v)), 60)
    out.write("  ".join(_pad(c, widths[i]) for i, c in enumerate(columns)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in cells:
        out.write("  ".join(_pad(v, widths[i]) for i, v in enumerate(r)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    if _width(text) > width:
        out, used = [], 0
        for ch in text:
            w = _width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * max(0, width - _width(text))


def write_alerts_summary(
    alerts: Sequence[Any], out: TextIO, fmt: str, *, since: datetime | None
) -> None:
    """The "while you were away" summary of stored alerts."""
    if fmt == "jsonl":
        write_records((a.to_dict() for a in alerts), out, "jsonl")
        return
    when = f"since {since.isoformat(timespec='minutes')}" if since else "so far"
    if not alerts:
        out.write(f"No new alerts {when}.\n")
        return
    out.write(f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} {when}:\n")
    for a in alerts:
        out.write("  " + alert_line(a) + "\n")


def alert_line(alert: Any) -> str:
    """One alert as a terminal line: time, severity, rule, tickers, thesis:stance, title."""
    tickers = ",".join(alert.tickers) or "-"
    thesis = f"{alert.thesis}:{alert.stance}" if alert.thesis else ""
    return (
        f"{alert.created[:16]}  {alert.severity:<8} {alert.rule:<14} {tickers:<18} "
        f"{thesis:<22} {safe_text(alert.title)}"
    )


def write_dead_deliveries(entries: Sequence[OutboxEntry], out: TextIO) -> None:
    """The outbox rows given up on (``dead``): alert, destination, attempts, last error."""
    if not entries:
        return
    out.write(f"\n{len(entries)} deliveries given up (dead):\n")
    for e in entries:
        out.write(
            f"  {e.alert.created}  {e.destination}  {e.attempts} attempts  "
            f"{one_line(e.alert.title, 80)}: {one_line(e.error or 'no error recorded', 160)}\n"
        )
