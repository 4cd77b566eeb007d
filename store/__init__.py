"""The only package that touches SQLite: schema and migrations, writes, queries, views, FTS.

    >>> from thesiswatch.store import Store
    >>> with Store.memory() as store:
    ...     store.stats(now=__import__("datetime").datetime(2025, 1, 27)).items_total
    0

Installed as ``thesiswatch.store``. ``store/db.py`` composes ``Store`` from one module per
domain and lists its API; ``docs/schema.md`` documents the tables and views.
"""

from __future__ import annotations

from thesiswatch.store.db import BULK, LEAN, READER, Store, Tuning
from thesiswatch.store.models import (
    PruneResult,
    SaveResult,
    SourceHealth,
    StoredAlert,
    StoredItem,
    StoreStats,
    ThesisSummary,
)
from thesiswatch.store.schema import SCHEMA_VERSION
from thesiswatch.store.sources import poll_overdue

__all__ = [
    "BULK",
    "LEAN",
    "READER",
    "SCHEMA_VERSION",
    "PruneResult",
    "SaveResult",
    "SourceHealth",
    "Store",
    "StoreStats",
    "StoredAlert",
    "StoredItem",
    "ThesisSummary",
    "Tuning",
    "poll_overdue",
]
