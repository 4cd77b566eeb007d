"""Record types several layers share (the kernel: importable by every layer).

``Alert`` is written by the alert rules, stored by the store, shown by the TUI and delivered
by the sinks; its ``to_dict`` is the DESIGN.md alert shape (a row of ``alerts``, a JSON line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
"""Least severe first."""
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An alert: one per story, explained. ``id`` is stable for the same rule+story(+key)."""

    id: str
    created: str  # UTC ISO-8601
    rule: str
    severity: Severity
    title: str
    message: str
    url: str = ""
    tickers: tuple[str, ...] = ()
    thesis: str | None = None
    stance: str | None = None
    item_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "created": self.created,
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "url": self.url,
            "tickers": list(self.tickers),
            "thesis": self.thesis,
            "stance": self.stance,
            "item_ids": list(self.item_ids),
        }
