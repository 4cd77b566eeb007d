"""The base of the screens that list alerts and items beside a detail pane (main and ticker).

It owns what such a screen shares: which record the detail pane shows and showing one there,
following the focus between the two lists, opening the selected link, and the alert actions
the alert list's keys call (``screen.ack``, ``screen.snooze``, ...). Each screen composes its
own :class:`AlertList`, :class:`NewsStream` and :class:`DetailPane` and reads the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget

from thesiswatch.store.models import StoredAlert, StoredItem
from thesiswatch.tui.widgets.alert_list import AlertList
from thesiswatch.tui.widgets.detail_pane import DetailPane
from thesiswatch.tui.widgets.footer import AppFooter
from thesiswatch.tui.widgets.news_stream import NewsStream
from thesiswatch.tui.widgets.search_bar import SearchBar
from thesiswatch.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from thesiswatch.tui.host import AppHost


def count_label(count: int, limit: int) -> str:
    """A list's length for its subtitle, with a ``+`` when the read hit its limit (maybe more)."""
    return f"{count}{'+' if count >= limit else ''}"


class RecordsScreen(Screen[None]):
    """An alert list, a news stream and a detail pane showing the selected alert or item."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "z",
            "zoom",
            "Zoom",
            tooltip="The focused pane alone fills the screen (again, or escape, to restore)",
        ),
    ]

    app: AppHost

    def __init__(self) -> None:
        super().__init__()
        self.selected: StoredAlert | StoredItem | None = None
        """The alert or item in the detail pane."""
        self._shown_minute: datetime | None = None

    def reload(self) -> None:
        """Re-read everything this screen shows (new data arrived or the user refreshed)."""
        raise NotImplementedError

    # -- zoom ---------------------------------------------------------------------------------

    @property
    def zoomed(self) -> bool:
        return self.has_class("-zoomed")

    def action_zoom(self) -> None:
        """Zoom the focused pane (alerts, news or detail), or restore the layout."""
        if self.zoomed:
            self.unzoom()
            return
        focused = self.focused
        panes: tuple[Widget, ...] = (
            self.query_one(AlertList),
            self.query_one(NewsStream),
            self.query_one(DetailPane),
        )
        self.zoom(focused if focused in panes else self.query_one(DetailPane))

    def zoom(self, pane: Widget) -> None:
        """Show ``pane`` alone between the status bar and the footer."""
        self.unzoom()
        keep = {StatusBar, AppFooter, SearchBar}
        node: Widget = pane
        while isinstance(node.parent, Widget) and node.parent is not self:
            parent = node.parent
            for sibling in parent.children:
                if sibling is not node:
                    sibling.add_class("-zoom-hidden")
            node.add_class("-zoom-kept")
            node = parent
        node.add_class("-zoom-kept")
        for child in self.children:
            if child is not node and type(child) not in keep:
                child.add_class("-zoom-hidden")
        self.add_class("-zoomed")
        pane.focus()

    def action_back(self) -> None:
        """Restore a zoomed pane, else go back to the screen below."""
        if self.zoomed:
            self.unzoom()
        else:
            self.app.pop_screen()

    def unzoom(self) -> None:
        if not self.zoomed:
            return
        for widget in self.query(".-zoom-hidden"):
            widget.remove_class("-zoom-hidden")
        for widget in self.query(".-zoom-kept"):
            widget.remove_class("-zoom-kept")
        self.remove_class("-zoomed")

    def on_screen_resume(self) -> None:
        self.app.resumed(self)

    def show_lists(
        self, alerts: Sequence[StoredAlert], items: Sequence[StoredItem], now: datetime
    ) -> tuple[AlertList, NewsStream]:
        """Put freshly read alerts and items in the two lists; returns the lists."""
        alert_list = self.query_one(AlertList)
        news = self.query_one(NewsStream)
        alert_list.show(alerts, now, new_since=self.app.seen_mark)
        news.show(items, now, new_since=self.app.seen_mark)
        return alert_list, news

    # -- the detail pane ----------------------------------------------------------------------

    def _already_shown(self, record: StoredAlert | StoredItem) -> bool:
        """True when the detail pane shows this very record (same state) this minute."""
        minute = self.app.now().replace(second=0, microsecond=0)
        shown = self.selected == record and self._shown_minute == minute
        self.selected, self._shown_minute = record, minute
        return shown

    def show_alert(self, alert: StoredAlert) -> None:
        if self._already_shown(alert):
            return
        item = self.app.store.item(alert.item_ids[0]) if alert.item_ids else None
        self.query_one(DetailPane).show_alert(alert, item, self.app.now())

    def show_item(self, item: StoredItem) -> None:
        if self._already_shown(item):
            return
        self.query_one(DetailPane).show_item(item, self.app.now())

    @on(NewsStream.ItemHighlighted)
    def _item_highlighted(self, event: NewsStream.ItemHighlighted) -> None:
        if self.focused is self.query_one(NewsStream):
            self.show_item(event.item)

    def on_descendant_focus(self, event: object) -> None:
        news = self.query_one(NewsStream)
        alerts = self.query_one(AlertList)
        if self.focused is news and news.current is not None:
            self.show_item(news.current)
        elif self.focused is alerts and alerts.current is not None:
            self.show_alert(alerts.current)

    # -- actions on the selection ----------------------------------------------------------------

    def current_alert(self) -> StoredAlert | None:
        return self.query_one(AlertList).current

    def current_url(self) -> str:
        return self.selected.url if self.selected is not None else ""

    def action_open_link(self) -> None:
        self.app.open_link(self.current_url())

    def action_ack(self) -> None:
        self.app.ack_alert(self.current_alert())

    def action_snooze(self) -> None:
        self.app.snooze_alert(self.current_alert())

    def action_mute(self) -> None:
        self.app.mute_for_alert(self.current_alert())

    def action_false_positive(self) -> None:
        self.app.mark_false_positive(self.current_alert())
