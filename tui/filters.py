"""What the main screen is filtered by: one frozen value, replaced (never mutated) on change."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

WINDOWS: dict[str, timedelta | None] = {
    "all": None,
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LANGS = {"zh": "中文", "en": "English"}
LABELS = {"pos": "positive", "neg": "negative", "neu": "neutral"}


@dataclass(frozen=True, slots=True)
class Filters:
    """The active filters. ``None`` (or ``"all"`` for the window) means not filtered.

    >>> Filters(ticker="NVDA.US").describe()
    'ticker NVDA.US'
    >>> Filters().with_(search="英伟达").is_empty
    False
    """

    thesis: str | None = None
    ticker: str | None = None
    lang: str | None = None
    label: str | None = None
    source_id: str | None = None
    search: str | None = None
    window: str = "all"
    event: str | None = None  # an event type (Signals v3), e.g. "export_control"
    new: bool = False  # only what arrived after the last look

    @property
    def is_empty(self) -> bool:
        return self == Filters()

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def since(self, now: datetime) -> datetime | None:
        span = WINDOWS.get(self.window)
        return None if span is None else now - span

    def describe(self, source_name: str | None = None) -> str:
        parts = []
        if self.thesis:
            parts.append(f"thesis {self.thesis}")
        if self.ticker:
            parts.append(f"ticker {self.ticker}")
        if self.lang:
            parts.append(f"lang {self.lang}")
        if self.label:
            parts.append(f"sentiment {self.label}")
        if self.source_id:
            parts.append(f"source {source_name or self.source_id}")
        if self.window != "all":
            parts.append(f"last {self.window}")
        if self.event:
            parts.append(f"event {self.event}")
        if self.new:
            parts.append("new only")
        if self.search:
            parts.append(f"search “{self.search}”")
        return ", ".join(parts)
