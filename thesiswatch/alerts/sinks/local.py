"""Local sinks: a JSON Lines file, stdout, desktop notifications (no network)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from thesiswatch.alerts.format import alert_json, one_line
from thesiswatch.alerts.sinks.base import Delivery, deliveries, describe_error
from thesiswatch.records import Alert


class JsonlSink:
    """Append one JSON line per alert (DESIGN.md shape) to a file, flushed and fsynced.

    Creates missing directories. A failed write (a full disk) is undone (the file is cut back
    to its previous size, so no half line is left), reported as a retryable failure naming the
    file and the reason, and retried by the dispatcher; the alerts stay in the database anyway.
    A half line left by a crash is terminated before the next append.

    It de-duplicates by alert id: an alert already in the file (sent again from the outbox
    after a crash between the write and its record) is not written twice. The ids in the
    file are read once, at the first delivery.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = "jsonl"
        self._ids: set[str] | None = None

    def __repr__(self) -> str:
        return f"JsonlSink({str(self.path)!r})"

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        try:
            if self._ids is None:
                self._ids = await asyncio.to_thread(self._read_ids)
            ids = self._ids
            new = [a for a in dict((a.id, a) for a in alerts).values() if a.id not in ids]
            if new:
                payload = "".join(alert_json(a) + "\n" for a in new).encode("utf-8")
                await asyncio.to_thread(self._append, payload)
                ids.update(a.id for a in new)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            error = f"could not write alerts to {self.path}: {reason}"
            return deliveries(alerts, self.name, "failed", error=error, retryable=True)
        return deliveries(alerts, self.name, "sent")

    def _read_ids(self) -> set[str]:
        ids: set[str] = set()
        if not self.path.is_file():  # missing, or a device (/dev/full): nothing to read
            return ids
        with open(self.path, "rb") as f:
            for line in f:
                with contextlib.suppress(ValueError):
                    row = json.loads(line)
                    if isinstance(row, dict) and isinstance(row.get("id"), str):
                        ids.add(row["id"])
        return ids

    def _append(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    payload = b"\n" + payload
            try:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                with contextlib.suppress(OSError):
                    f.truncate(size)
                raise


class StdoutSink:
    """One line per alert, for piping: ``created severity rule tickers title url``
    (``format="json"``: the JSON Lines shape instead)."""

    def __init__(self, stream: IO[str] | None = None, *, format: str = "text") -> None:
        if format not in ("text", "json"):
            raise ValueError("format must be 'text' or 'json'")
        self.stream = stream
        self.format = format
        self.name = "stdout"

    def __repr__(self) -> str:
        return f"StdoutSink(format={self.format!r})"

    @staticmethod
    def line(alert: Alert) -> str:
        tickers = ",".join(alert.tickers) or "-"
        parts = [
            alert.created,
            alert.severity.upper(),
            alert.rule,
            tickers,
            one_line(alert.title, 200),
        ]
        if alert.url:
            parts.append(alert.url)
        return "\t".join(parts)

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        stream = self.stream or sys.stdout
        try:
            for alert in alerts:
                stream.write(
                    (alert_json(alert) if self.format == "json" else self.line(alert)) + "\n"
                )
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe
            return deliveries(alerts, self.name, "failed", error=one_line(describe_error(exc)))
        return deliveries(alerts, self.name, "sent")


class DesktopSink:
    """A desktop notification per batch through ``notify-send`` (Linux, freedesktop) or
    ``osascript`` (macOS): the count, and the titles of the first few alerts."""

    def __init__(self, command: str | None = None) -> None:
        self.command = command or shutil.which("notify-send") or shutil.which("osascript")
        if self.command is None:
            raise ValueError("no desktop notifier (notify-send or osascript) on PATH")
        self.name = "desktop"

    def __repr__(self) -> str:
        return f"DesktopSink({Path(self.command or '').name!r})"

    def _argv(self, title: str, body: str, critical: bool) -> list[str]:
        assert self.command is not None
        if Path(self.command).name == "osascript":
            quote = lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
            return [
                self.command,
                "-e",
                f"display notification {quote(body)} with title {quote(title)}",
            ]
        urgency = "critical" if critical else "normal"
        return [self.command, "--app-name=thesiswatch", f"--urgency={urgency}", title, body]

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        title = f"thesiswatch: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
        lines = [f"[{a.severity}] {one_line(a.title, 120)}" for a in alerts[:3]]
        if len(alerts) > 3:
            lines.append(f"... and {len(alerts) - 3} more")
        critical = any(a.severity == "critical" for a in alerts)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(title, "\n".join(lines), critical),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(), timeout=10)
        except (OSError, TimeoutError) as exc:
            return deliveries(alerts, self.name, "failed", error=one_line(describe_error(exc)))
        if proc.returncode:
            error = one_line(err.decode(errors="replace")) or f"exit status {proc.returncode}"
            return deliveries(alerts, self.name, "failed", error=error)
        return deliveries(alerts, self.name, "sent")
