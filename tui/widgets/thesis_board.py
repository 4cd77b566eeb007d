"""The thesis board: one :class:`ThesisCard` per thesis of the watchlist, side by side."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.reactive import reactive

from thesiswatch.tui.widgets.thesis_card import CardData, ThesisCard


class ThesisBoard(Grid, can_focus=True):
    """Holds the cards; the board is one focus stop with a cursor on one card.

    Arrow keys, h/l and j/k move the cursor; enter filters by the thesis under it
    (posting :class:`ThesisCard.Selected`, as a click on a card does).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select",
            "Filter thesis",
            tooltip="Filter alerts and news by the thesis under the cursor (again to clear)",
        ),
        Binding("left,h,up,k", "move(-1)", "Prev board", show=False),
        Binding("right,l,down,j", "move(1)", "Next board", show=False),
    ]

    cursor: reactive[int] = reactive(0)
    """Index of the card under the cursor."""

    def __init__(self, thesis_ids: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.thesis_ids = list(thesis_ids)

    def compose(self) -> ComposeResult:
        for thesis_id in self.thesis_ids:
            yield ThesisCard(thesis_id, id=f"card-{thesis_id}", classes="thesis-card")

    @property
    def cards(self) -> list[ThesisCard]:
        return list(self.query(ThesisCard))

    def show(self, cards: Iterable[CardData], active: str | None) -> None:
        """Update every card and mark the one the screen is filtered by."""
        by_id = {card.thesis_id: card for card in self.cards}
        for data in cards:
            card = by_id.get(data.thesis_id)
            if card is not None:
                card.data = data
        for thesis_id, card in by_id.items():
            card.set_class(thesis_id == active, "-active")

    def watch_cursor(self, cursor: int) -> None:
        for index, card in enumerate(self.cards):
            card.set_class(index == cursor, "-cursor")

    def on_mount(self) -> None:
        self.watch_cursor(self.cursor)

    def action_move(self, step: int) -> None:
        if self.thesis_ids:
            self.cursor = (self.cursor + step) % len(self.thesis_ids)

    def action_select(self) -> None:
        if self.thesis_ids:
            self.post_message(ThesisCard.Selected(self.thesis_ids[self.cursor]))

    def on_thesis_card_selected(self, event: ThesisCard.Selected) -> None:
        # a click: move the cursor there too, then let the message bubble to the screen
        if event.thesis_id in self.thesis_ids:
            self.cursor = self.thesis_ids.index(event.thesis_id)
