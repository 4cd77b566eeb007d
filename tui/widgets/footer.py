"""The footer: Textual's, with the keys you always need (``?`` help, ``q`` quit) first.

Textual lists the focused widget's keys first and the app's last, so on a narrow terminal the
app's ``?`` and ``q`` are the ones cut off. Here they lead, whatever the width.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED = ("question_mark", "q")  # shown first, in this order


class AppFooter(Footer):
    """A :class:`Footer` whose first keys are always ``?`` and ``q``."""

    def compose(self) -> ComposeResult:
        widgets: list[Widget] = list(super().compose())
        pinned = [w for key in PINNED for w in widgets if isinstance(w, FooterKey) and w.key == key]
        yield from pinned
        yield from (w for w in widgets if w not in pinned)
