"""``Store``: the one object that reads and writes the thesiswatch database.

    >>> from thesiswatch.store import Store
    >>> store = Store.memory()
    >>> store.meta_set("last_seen_alerts", "2025-01-27T14:30:00+00:00")
    >>> store.meta_get("last_seen_alerts")
    '2025-01-27T14:30:00+00:00'
    >>> store.close()

The API, by who uses it:

- opening: ``Store.open(path, readonly=False)``, ``Store.memory()``, ``close()``, ``migrate()``
- the poller: ``sync_sources``, ``fetch_states``, ``record_fetch(es)``, ``source_health``
- the pipeline: ``save_items(batch, clusters=...)`` -> ``SaveResult``, ``recent_stories``,
  ``assign_clusters``, ``save_alerts`` (returns the new ones), ``record_delivery``
- the TUI: ``items(...)``, ``item(id)``, ``alerts(...)``, ``set_alert_state``,
  ``mute_ticker`` / ``unmute_ticker`` / ``muted_tickers``, ``thesis_summary``,
  ``ticker_mentions``, ``ticker_daily_sentiment``, ``stats``, ``data_version``, ``meta_get`` /
  ``meta_set``, ``deliveries``
- the alert rules (``thesiswatch.alerts.history.HistorySource``): ``recent_alerts``,
  ``mention_counts``, ``hourly_mention_counts``, ``first_fetched``, ``thesis_daily_net``,
  ``muted_tickers``
- analysis: ``query(sql, params)`` (read-only), ``export_items``, ``export_alerts``, ``prune``

The tables and views are documented in ``docs/schema.md``.

The store is composed, as reader composes its storage: ``connection.StoreBase`` (opening,
migrations, the write transaction) and one mixin per domain: ``sources``, ``items`` (with
``writer``), ``search``, ``triage`` (alerts), ``stats``, ``query`` (read-only, exports).
"""

from __future__ import annotations

from thesiswatch.store.connection import BULK, LEAN, READER, StoreBase, Tuning, from_iso, to_iso
from thesiswatch.store.query import QueryMixin
from thesiswatch.store.search import SearchMixin
from thesiswatch.store.sources import SourcesMixin
from thesiswatch.store.stats import StatsMixin

__all__ = ["BULK", "LEAN", "READER", "Store", "Tuning", "from_iso", "to_iso"]


class Store(SourcesMixin, SearchMixin, StatsMixin, QueryMixin, StoreBase):
    """The thesiswatch database. Open with ``Store.open(path)`` or ``Store.memory()``."""
