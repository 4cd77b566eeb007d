"""The search input opened by ``/``: full-text search over titles and summaries (Chinese too)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    """Enter posts ``Input.Submitted``; escape posts :class:`SearchBar.Cancelled`."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel search")]

    class Cancelled(Message):
        """The user closed the search bar without searching."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            placeholder="search titles and summaries (中文 ok) — enter to apply, esc to close",
            **kwargs,
        )

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
