"""Items: saving tagged batches (through ``writer.ItemWriter``), story clusters, reading
items back as ``StoredItem``, and retention (``prune``)."""

from __future__ import annotations

import gc
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from thesiswatch.errors import StoreError
from thesiswatch.feeds.models import Item
from thesiswatch.signals.models import (
    THESIS_IDS,
    Event,
    Sentiment,
    Tags,
    ThesisStance,
    TickerMention,
)
from thesiswatch.store.connection import (
    StoreBase,
    _api,
    _chunks,
    _file_bytes,
    _loads,
    _marks,
    _utcnow,
    from_iso,
    to_iso,
)
from thesiswatch.store.models import (
    PruneResult,
    SaveResult,
    StoredItem,
)
from thesiswatch.store.textindex import short_terms
from thesiswatch.store.writer import ItemWriter

_ITEM_COLUMNS = (
    "i.key, i.id, i.title, i.summary, i.url, i.lang, i.published, i.fetched, i.ts, "
    "i.label, i.score, i.cluster_id, i.updated, i.publisher, i.novelty"
)

_KEY, _ID, _TS = 0, 1, 8


class ItemsMixin(StoreBase):
    """``save_items``, ``assign_clusters``, ``recent_stories``, ``item``, ``prune``."""

    @_api
    def save_items(
        self,
        batch: Sequence[tuple[Item, Tags]],
        *,
        clusters: Mapping[str, str] | None = None,
        novelty: Mapping[str, int] | None = None,
    ) -> SaveResult:
        """Store a batch of tagged items in one transaction.

        ``clusters`` maps item ids of the batch to story cluster ids (``signals.cluster``),
        ``novelty`` to their novelty in the story (100 for its first item, then 75, 56, ...;
        kept as first written).

        An item already stored (same id: ids derive from the URL key, so the same article has
        one id in every source) is stored once and linked to every source that carried it.
        When a source that already carried it sends it with an edited title or summary, the
        text is updated and its tags replaced (``updated``); the same story under another
        source's wording only gains the link (``seen``).
        """
        result = SaveResult()
        if not batch:
            return result
        now = to_iso(_utcnow())
        # Every row this writes refers to an item, source or cluster it writes first in the
        # same transaction, so SQLite's foreign key checks (a lookup per tag row, a tenth of
        # the ingest time) are skipped here; the constraints stay declared and apply to every
        # other write.
        # The writer allocates several small objects per row (tuples, strings) and frees none
        # of them until the batch is written, which sets off the cyclic garbage collector over
        # and over for nothing (in a profile with a large heap, building one dict of the batch
        # took 0.69 s per 200k entries with it, 0.12 s without). It is paused for the batch
        # and resumed as it was afterwards (process-wide; objects are not leaked, only
        # collected after the batch).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with self._write(check_foreign_keys=False) as conn:
                writer = ItemWriter(conn, now)
                writer.save(batch, result)
                if clusters:
                    _assign_clusters(
                        conn, {writer.stored_id.get(i, i): c for i, c in clusters.items() if c}
                    )
                if novelty:
                    conn.executemany(
                        "UPDATE items SET novelty = ? WHERE id = ? AND novelty IS NULL",
                        [(n, writer.stored_id.get(i, i)) for i, n in novelty.items()],
                    )
        finally:
            if gc_was_enabled:
                gc.enable()
        return result

    @_api
    def assign_clusters(self, assignments: Mapping[str, str]) -> None:
        """Put stored items in story clusters: ``{item_id: cluster_id}``."""
        if assignments:
            with self._write() as conn:
                _assign_clusters(conn, assignments)

    @_api
    def recent_stories(
        self, *, since: datetime
    ) -> list[tuple[str, str, str, str, tuple[str, ...], datetime]]:
        """Items from ``since`` as ``(item_id, cluster_id or "", title, lang, tickers,
        time)``, oldest first: what ``signals.cluster.StoryClusterer.load`` takes."""
        rows = self._conn.execute(
            "SELECT i.id, coalesce(i.cluster_id, ''), i.title, coalesce(i.lang, ''), i.ts, "
            "(SELECT json_group_array(ticker) FROM item_tickers AS t WHERE t.item_key = i.key) "
            "FROM items AS i WHERE i.ts >= ? ORDER BY i.ts, i.key",
            (to_iso(since),),
        ).fetchall()
        return [
            (r[0], r[1], r[2], r[3], tuple(_loads(r[5], [])), from_iso(r[4]) or _utcnow())
            for r in rows
        ]

    @_api
    def item(self, item_id: str) -> StoredItem | None:
        rows = self._conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items AS i WHERE i.id = ?", (item_id,)
        ).fetchall()
        items = self._load_items(rows)
        return items[0] if items else None

    def _load_items(self, rows: list[tuple[Any, ...]]) -> list[StoredItem]:
        if not rows:
            return []
        keys = [r[_KEY] for r in rows]
        sources: dict[int, list[tuple[str, str]]] = defaultdict(list)
        mentions: dict[int, list[TickerMention]] = defaultdict(list)
        stances: dict[int, list[ThesisStance]] = defaultdict(list)
        scores: dict[int, tuple[str, str, str, str]] = {}
        events: dict[int, list[Event]] = defaultdict(list)
        relevance: dict[int, dict[str, int]] = defaultdict(dict)
        readings: dict[int, dict[str, Sentiment]] = defaultdict(dict)
        conn = self._conn
        for part in _chunks(keys):
            marks = _marks(len(part))
            for key, source_id, name in conn.execute(
                f"SELECT x.item_key, x.source_id, s.name FROM item_sources AS x "
                f"JOIN sources AS s ON s.id = x.source_id WHERE x.item_key IN ({marks}) "
                f"ORDER BY x.first_seen, x.source_id",
                part,
            ):
                sources[key].append((source_id, name))
            for key, ticker, spans, matched in conn.execute(
                f"SELECT item_key, ticker, spans, matched FROM item_tickers "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                mentions[key].append(
                    TickerMention(
                        ticker=ticker,
                        spans=tuple(tuple(s) for s in _loads(spans, [])),
                        matched=tuple(_loads(matched, [])),
                    )
                )
            for key, thesis, stance, strength, evidence in conn.execute(
                f"SELECT item_key, thesis, stance, strength, evidence FROM item_theses "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                stances[key].append(
                    ThesisStance(
                        thesis=thesis,
                        stance=stance,
                        strength=strength,
                        evidence=tuple(_loads(evidence, [])),
                    )
                )
            for key, etype, polarity, materiality, entities, evidence, magnitude in conn.execute(
                f"SELECT item_key, type, polarity, materiality, entities, evidence, magnitude "
                f"FROM item_events WHERE item_key IN ({marks}) ORDER BY item_key, seq",
                part,
            ):
                events[key].append(
                    Event(
                        type=etype,
                        entities=tuple(_loads(entities, {}).items()),
                        polarity=polarity,
                        evidence=tuple(_loads(evidence, [])),
                        materiality=materiality,
                        magnitude=magnitude,
                    )
                )
            for key, ticker, rel, label, score in conn.execute(
                f"SELECT item_key, ticker, relevance, label, score FROM item_mentions "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                relevance[key][ticker] = rel
                if label is not None and score is not None:
                    readings[key][ticker] = Sentiment(label=label, score=score)
            for key, scorer, version, evidence, scored in conn.execute(
                f"SELECT item_key, scorer, scorer_version, evidence, scored FROM sentiments "
                f"WHERE item_key IN ({marks})",
                part,
            ):
                if key not in scores or scored >= scores[key][3]:
                    scores[key] = (scorer, version, evidence, scored)
        order = {t: n for n, t in enumerate(THESIS_IDS)}
        items = []
        for r in rows:
            key = r[_KEY]
            src = sources.get(key, [])
            found = mentions.get(key, [])
            bearing = sorted(
                stances.get(key, []), key=lambda s: (order.get(s.thesis, 99), s.thesis)
            )
            scorer = scores.get(key)
            items.append(
                StoredItem(
                    id=r[_ID],
                    title=r[2],
                    summary=r[3],
                    url=r[4],
                    lang=r[5],
                    published=from_iso(r[6]),
                    fetched=from_iso(r[7]) or _utcnow(),
                    sources=tuple(name for _, name in src),
                    source_ids=tuple(sid for sid, _ in src),
                    label=r[9],
                    score=r[10],
                    evidence=tuple(_loads(scorer[2], [])) if scorer else (),
                    scorer=scorer[0] if scorer else None,
                    scorer_version=scorer[1] if scorer else None,
                    tickers=tuple(m.ticker for m in found),
                    mentions=tuple(found),
                    theses={s.thesis: s.stance for s in bearing},
                    stances=tuple(bearing),
                    cluster_id=r[11],
                    updated=from_iso(r[12]),
                    publisher=r[13],
                    novelty=r[14],
                    events=tuple(events.get(key, ())),
                    relevance=dict(relevance.get(key, {})),
                    by_ticker=dict(readings.get(key, {})),
                )
            )
        return items

    @_api
    def prune(
        self, *, older_than: timedelta, now: datetime | None = None, vacuum: bool = True
    ) -> PruneResult:
        """Remove items (and their tags, links and fetch-log rows) older than ``older_than``,
        in short transactions (readers and other writers interleave), then, when anything was
        removed, compact the full-text index and VACUUM (``vacuum=False`` skips both: the
        freed pages are reused). Alerts, deliveries and the daily aggregates
        (``ticker_daily``, ``thesis_daily``, ``source_daily``) are kept."""
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only")
        conn = self._conn
        cutoff = to_iso((now or _utcnow()) - older_than)
        before = _file_bytes(conn)
        removed = 0
        while True:
            with self._write():
                rows = conn.execute(
                    "SELECT key, title, summary FROM items WHERE ts < ? ORDER BY ts LIMIT 500",
                    (cutoff,),
                ).fetchall()
                if not rows:
                    break
                conn.executemany(
                    "INSERT INTO items_fts_short (items_fts_short, rowid, terms) "
                    "VALUES ('delete', ?, ?)",
                    [(k, short_terms(t, s)) for k, t, s in rows],
                )
                # one statement: the FTS delete trigger runs inside a single savepoint
                conn.execute(
                    f"DELETE FROM items WHERE key IN ({_marks(len(rows))})", [r[0] for r in rows]
                )
                removed += len(rows)
        with self._write():
            log_removed = conn.execute(
                "DELETE FROM fetch_log WHERE started < ?", (cutoff,)
            ).rowcount
            conn.execute(
                "DELETE FROM clusters WHERE NOT EXISTS "
                "(SELECT 1 FROM items WHERE items.cluster_id = clusters.id)"
            )
        if vacuum and (removed or log_removed):
            conn.execute("INSERT INTO items_fts(items_fts) VALUES ('optimize')")
            conn.execute("VACUUM")
            if self.path is not None:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return PruneResult(
            items_deleted=removed,
            fetch_log_deleted=log_removed,
            bytes_before=before,
            bytes_after=_file_bytes(conn),
        )


def _assign_clusters(conn: sqlite3.Connection, assignments: Mapping[str, str]) -> None:
    cluster_ids = sorted(set(assignments.values()))
    conn.executemany("INSERT OR IGNORE INTO clusters (id) VALUES (?)", [(c,) for c in cluster_ids])
    conn.executemany(
        "UPDATE items SET cluster_id = ? WHERE id = ? AND cluster_id IS NOT ?",
        [(c, i, c) for i, c in assignments.items()],
    )
    conn.executemany(
        """
        UPDATE clusters SET
          size = (SELECT count(*) FROM items WHERE cluster_id = clusters.id),
          first_seen = (SELECT min(ts) FROM items WHERE cluster_id = clusters.id),
          last_seen = (SELECT max(ts) FROM items WHERE cluster_id = clusters.id),
          title = coalesce(title, (SELECT title FROM items WHERE cluster_id = clusters.id
                                    ORDER BY ts LIMIT 1))
        WHERE id = ?
        """,
        [(c,) for c in cluster_ids],
    )
