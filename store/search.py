"""Listing and searching items: the TUI's filtered, paged lists and full-text search (the
trigram index plus the short-term index for 2-character terms such as 小米 or AI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from thesiswatch.store.connection import _api, _marks, to_iso
from thesiswatch.store.items import _ITEM_COLUMNS, _KEY, ItemsMixin
from thesiswatch.store.models import (
    StoredItem,
)
from thesiswatch.store.textindex import fts_term, plan_search

SEARCH_WINDOW = 500  # matches a search sorts by time (see Store.items)


class SearchMixin(ItemsMixin):
    """``items(...)``: filters, paging and full-text search."""

    @_api
    def items(
        self,
        *,
        limit: int = 100,
        ticker: str | None = None,
        thesis: str | None = None,
        lang: str | None = None,
        label: str | None = None,
        source_id: str | None = None,
        search: str | None = None,
        since: datetime | None = None,
        event: str | None = None,
    ) -> list[StoredItem]:
        """Items newest first (by published, else fetched), filtered; all filters AND.

        ``search`` finds items whose title or summary contains every space-separated term
        (``"quoted phrase"`` for a phrase), Chinese or English, case-insensitively; ``event``
        keeps items with an event of that type (Signals v3). When more
        than ``SEARCH_WINDOW`` items match, the result is the newest among the most recently
        stored matches (exact as long as items are stored roughly in time order).
        """
        where: list[str] = []
        args: list[Any] = []
        lookups: list[tuple[str, str]] = []  # (full-text table, MATCH expression)
        likes: tuple[str, ...] = ()
        if search is not None and search.strip():
            plan = plan_search(search)
            if plan.trigram is not None:
                lookups.append(("items_fts", plan.trigram))
            lookups.extend(("items_fts_short", fts_term(term)) for term in plan.short)
            likes = plan.like
        resort = bool(lookups)
        if resort:
            # A search is driven by its first index lookup (newest stored first, see below);
            # every other filter is checked per match through a primary key.
            table, match = lookups.pop(0)
            source = f"{table} AS f JOIN items AS i ON i.key = f.rowid"
            where.append(f"{table} MATCH ?")
            args.append(match)
            order = "f.rowid DESC"
            if ticker is not None:
                where.append(
                    "EXISTS (SELECT 1 FROM item_tickers AS t WHERE t.item_key = i.key "
                    "AND t.ticker = ?)"
                )
                args.append(ticker)
        elif ticker is not None:
            source = "item_tickers AS t JOIN items AS i ON i.key = t.item_key"
            where.append("t.ticker = ?")
            args.append(ticker)
            order = "t.ts DESC"
            if since is not None:
                where.append("t.ts >= ?")
                args.append(to_iso(since))
        elif event is not None and thesis is None:
            source = "item_events AS e JOIN items AS i ON i.key = e.item_key"
            where.append("e.type = ?")
            args.append(event)
            order = "e.ts DESC"
            if since is not None:
                where.append("e.ts >= ?")
                args.append(to_iso(since))
        elif thesis is not None:
            source = "item_theses AS h JOIN items AS i ON i.key = h.item_key"
            where.append("h.thesis = ?")
            args.append(thesis)
            order = "h.ts DESC"
            if since is not None:
                where.append("h.ts >= ?")
                args.append(to_iso(since))
        else:
            source = "items AS i"
            order = "i.ts DESC"
        if thesis is not None and (resort or ticker is not None):
            where.append(
                "EXISTS (SELECT 1 FROM item_theses AS h WHERE h.item_key = i.key AND h.thesis = ?)"
            )
            args.append(thesis)
        if event is not None and not source.startswith("item_events"):
            where.append(
                "EXISTS (SELECT 1 FROM item_events AS e WHERE e.item_key = i.key AND e.type = ?)"
            )
            args.append(event)
        if since is not None:
            where.append("i.ts >= ?")
            args.append(to_iso(since))
        if lang is not None:
            where.append("i.lang = ?")
            args.append(lang)
        if label is not None:
            where.append("i.label = ?")
            args.append(label)
        if source_id is not None:
            where.append(
                "EXISTS (SELECT 1 FROM item_sources AS x WHERE x.item_key = i.key "
                "AND x.source_id = ?)"
            )
            args.append(source_id)
        for table, match in lookups:
            where.append(f"i.key IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
            args.append(match)
        for term in likes:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            where.append("(i.title LIKE ? ESCAPE '\\' OR i.summary LIKE ? ESCAPE '\\')")
            args.extend([pattern, pattern])
        condition = (" WHERE " + " AND ".join(where)) if where else ""
        if not resort:
            sql = f"SELECT {_ITEM_COLUMNS} FROM {source}{condition} ORDER BY {order} LIMIT ?"
            return self._load_items(self._conn.execute(sql, [*args, limit]).fetchall())
        # Search: the index yields matches in storing order, newest stored first. Take up to
        # SEARCH_WINDOW of them and sort by item time: exact whenever fewer match, and with
        # more, the newest by time among the most recently stored (bounded cost at 1M items).
        window = max(limit, SEARCH_WINDOW)
        sql = f"SELECT i.key, i.ts FROM {source}{condition} ORDER BY {order} LIMIT ?"
        candidates = self._conn.execute(sql, [*args, window]).fetchall()
        candidates.sort(key=lambda r: (r[1], r[0]), reverse=True)
        keys = [k for k, _ in candidates[:limit]]
        if not keys:
            return []
        rows = self._conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items AS i WHERE i.key IN ({_marks(len(keys))})", keys
        ).fetchall()
        rank = {k: n for n, k in enumerate(keys)}
        rows.sort(key=lambda r: rank[r[_KEY]])
        return self._load_items(rows)
