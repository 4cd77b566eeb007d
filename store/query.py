"""The read-only query path (``thesiswatch query``, analysts) and the exports.

``query`` runs one statement under an authorizer that allows reading only, plus ``PRAGMA
query_only``; exports page through items and alerts in the DESIGN.md JSON shapes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from thesiswatch.errors import ReadOnlyQueryError, StoreError
from thesiswatch.store.connection import _api, _describe, to_iso
from thesiswatch.store.items import _ITEM_COLUMNS, _KEY, _TS, ItemsMixin
from thesiswatch.store.triage import AlertsMixin

# Pragmas whose argument names what to read (table_info(items)), and pragmas that read only
# without an argument (user_version; user_version = 5 would write).
_READ_PRAGMAS_WITH_ARG = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "integrity_check",
        "quick_check",
        "foreign_key_check",
    }
)

_READ_PRAGMAS = _READ_PRAGMAS_WITH_ARG | frozenset(
    {
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
        "data_version",
        "user_version",
        "schema_version",
        "application_id",
        "page_count",
        "page_size",
        "freelist_count",
        "encoding",
        "journal_mode",
    }
)

_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _read_only_authorizer(
    action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        # SQLite itself asks this while a table-valued function (json_each) declares its
        # columns; a user's UPDATE of the schema is refused anyway (query_only, no
        # writable_schema).
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        pragma = (arg1 or "").lower()
        if pragma in _READ_PRAGMAS_WITH_ARG or (arg2 is None and pragma in _READ_PRAGMAS):
            return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class QueryMixin(ItemsMixin, AlertsMixin):
    """``query`` (read-only), ``export_items``, ``export_alerts``."""

    @_api
    def query(
        self, sql: str, params: Sequence[object] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one read-only SQL statement; return column names and rows.

        Writes, ``ATTACH``, transactions and setting pragmas are refused with
        ``ReadOnlyQueryError`` (an authorizer plus ``PRAGMA query_only``).
        """
        conn = self._conn
        if conn.in_transaction:  # never: every write commits before returning
            raise StoreError("cannot query inside a write")
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_read_only_authorizer)
        try:
            cursor = conn.execute(sql, tuple(params))
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchall()
        except sqlite3.ProgrammingError as exc:
            raise StoreError(f"query refused: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if any(w in text for w in ("not authorized", "authorization denied", "readonly")):
                raise ReadOnlyQueryError(
                    "the query was refused: only reading statements (SELECT, WITH, read-only "
                    "PRAGMA) are allowed"
                ) from exc
            raise StoreError(f"query failed: {text}") from exc
        except sqlite3.Warning as exc:
            raise StoreError(f"query refused: {exc}") from exc
        finally:
            conn.set_authorizer(None)
            conn.execute("PRAGMA query_only = OFF")
        return columns, rows

    def export_items(self, *, since: datetime | None = None) -> Iterator[dict[str, object]]:
        """Tagged items as DESIGN.md JSON dicts, oldest first, read in pages."""
        cursor = (to_iso(since) if since else "", -1)
        while True:
            with self._lock:
                try:
                    rows = self._conn.execute(
                        f"SELECT {_ITEM_COLUMNS} FROM items AS i "
                        "WHERE (i.ts, i.key) > (?, ?) ORDER BY i.ts, i.key LIMIT 500",
                        cursor,
                    ).fetchall()
                    page = self._load_items(rows)
                except sqlite3.Error as exc:
                    raise StoreError(_describe(exc, self.path)) from exc
            if not rows:
                return
            cursor = (rows[-1][_TS], rows[-1][_KEY])
            for item in page:
                yield item.to_dict()

    def export_alerts(self, *, since: datetime | None = None) -> Iterator[dict[str, object]]:
        """Alerts as DESIGN.md JSON dicts (plus state fields), oldest first."""
        cursor = (to_iso(since) if since else "", "")
        while True:
            with self._lock:
                try:
                    page = self._select_alerts(
                        ["(a.created, a.id) > (?, ?)"],
                        list(cursor),
                        500,
                        order="a.created, a.id",
                    )
                except sqlite3.Error as exc:
                    raise StoreError(_describe(exc, self.path)) from exc
            if not page:
                return
            cursor = (page[-1].created, page[-1].id)
            for alert in page:
                yield alert.to_dict()
