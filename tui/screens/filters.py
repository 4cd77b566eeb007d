"""The filters dialog: language, sentiment, source and time window (thesis, ticker and search
have their own keys on the main screen and are kept as they are)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select
from textual.widgets.select import NoSelection

from thesiswatch.tui.filters import LABELS, LANGS, WINDOWS, Filters
from thesiswatch.tui.text import clean


class FiltersScreen(ModalScreen[Filters | None]):
    """Dismisses with the new :class:`Filters`, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply"),
    ]

    def __init__(
        self,
        filters: Filters,
        sources: Sequence[tuple[str, str]],
        events: Sequence[tuple[str, int]] = (),
    ) -> None:
        super().__init__(classes="modal")
        self.filters = filters
        self.sources = list(sources)
        self.events = list(events)
        """``(event type, items)`` to offer, most frequent first (Signals v3)."""

    def compose(self) -> ComposeResult:
        f = self.filters
        source_ids = {key for key, _ in self.sources}
        rows: list[tuple[str, Select[str]]] = [
            ("Language", _any_of("language", LANGS.items(), f.lang or Select.NULL, "f-lang")),
            ("Sentiment", _any_of("sentiment", LABELS.items(), f.label or Select.NULL, "f-label")),
            (
                "Source",
                _any_of(
                    "source",
                    [(key, clean(name)[:50]) for key, name in self.sources],
                    f.source_id if f.source_id in source_ids else Select.NULL,
                    "f-source",
                ),
            ),
            (
                "Event",
                _any_of(
                    "event",
                    [(key, f"{clean(key)[:40]} ({count:,})") for key, count in self.events],
                    f.event if f.event in {key for key, _ in self.events} else Select.NULL,
                    "f-event",
                ),
            ),
            (
                "Time",
                Select(
                    [("all time" if key == "all" else f"last {key}", key) for key in WINDOWS],
                    value=f.window,
                    allow_blank=False,
                    compact=True,
                    id="f-window",
                ),
            ),
        ]
        with Vertical(classes="dialog"):
            yield Label(Text("Filters", style="bold"), classes="dialog-title")
            for name, select in rows:
                with Horizontal(classes="dialog-row"):
                    yield Label(name, classes="dialog-label")
                    yield select
            with Horizontal(classes="dialog-buttons"):
                yield Button("Clear", id="f-clear", compact=True)
                yield Button("Cancel", id="f-cancel", compact=True)
                yield Button("Apply", id="f-apply", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#f-lang", Select).focus()

    def _value(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value is Select.NULL or value is None else str(value)

    def action_apply(self) -> None:
        self.dismiss(
            self.filters.with_(
                lang=self._value("#f-lang"),
                label=self._value("#f-label"),
                source_id=self._value("#f-source"),
                event=self._value("#f-event"),
                window=self._value("#f-window") or "all",
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "f-apply":
            self.action_apply()
        elif event.button.id == "f-clear":
            self.dismiss(
                self.filters.with_(lang=None, label=None, source_id=None, event=None, window="all")
            )
        else:
            self.dismiss(None)


def _any_of(
    what: str, names: Iterable[tuple[str, str]], value: str | NoSelection, id_: str
) -> Select[str]:
    """A compact select of ``(key, name)`` pairs that may be left blank: "any <what>"."""
    return Select(
        [(name, key) for key, name in names],
        value=value,
        prompt=f"any {what}",
        compact=True,
        id=id_,
    )
