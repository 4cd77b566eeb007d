"""The item writer: the body of ``Store.save_items``, the hot path of bulk ingest.

It classifies a batch against what is stored, then writes it table by table with
``executemany``, keeping the daily aggregates (``ticker_daily``, ``thesis_daily``,
``source_daily``) in step."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from thesiswatch.feeds.models import Item
from thesiswatch.signals.models import Tags
from thesiswatch.store.connection import _chunks, _marks, to_iso
from thesiswatch.store.models import (
    SaveResult,
)
from thesiswatch.store.textindex import short_terms

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

_LABEL_SLOT = {"pos": 1, "neg": 2, "neu": 3}

_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f\u2028\u2029]')


def _spans_json(spans: tuple[tuple[int, int], ...]) -> str:
    if len(spans) == 1:  # the common case
        a, b = spans[0]
        return f"[[{int(a)},{int(b)}]]"
    return "[" + ",".join([f"[{int(a)},{int(b)}]" for a, b in spans]) + "]" if spans else "[]"


def _list_json(values: tuple[str, ...]) -> str:
    """A JSON array of strings; plain strings skip the encoder (the bulk-ingest hot path)."""
    if len(values) == 1:  # the common case
        value = values[0]
        if _NEEDS_ESCAPE.search(value):
            return _encode([value])
        return f'["{value}"]'
    if not values:
        return "[]"
    if _NEEDS_ESCAPE.search("".join(values)):
        return _encode(list(values))
    return '["' + '","'.join(values) + '"]'


class ItemWriter:
    """The body of ``Store.save_items``: classify a batch against what is stored, then write
    it table by table with ``executemany`` (the hot path of bulk ingest)."""

    def __init__(self, conn: sqlite3.Connection, now: str) -> None:
        self.conn = conn
        self.now = now
        self.ticker_days: dict[tuple[str, str], list[float]] = {}
        self.thesis_days: dict[tuple[str, str], list[int]] = {}
        self.source_days: dict[tuple[str, str], int] = {}
        self.stored_id: dict[str, str] = {}  # incoming item id -> stored item id
        self.tickers: list[tuple[Any, ...]] = []
        self.theses: list[tuple[Any, ...]] = []
        self.sentiments: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.mentions: list[tuple[Any, ...]] = []

    def save(self, batch: Sequence[tuple[Item, Tags]], result: SaveResult) -> None:
        conn = self.conn
        now = self.now
        # What is stored already (an item is identified by its id alone: ids derive from the
        # URL key, see feeds.normalize.item_id).
        stored: dict[str, list[Any]] = {}  # id -> [key, title, summary, ts, label, score, fetched]
        ids = list(dict.fromkeys(item.id for item, _ in batch))
        columns = "id, key, title, summary, ts, label, score, fetched"
        for part in _chunks(ids):
            for row in conn.execute(
                f"SELECT {columns} FROM items WHERE id IN ({_marks(len(part))})", part
            ):
                stored[row[0]] = list(row[1:])
        links: set[tuple[int, str]] = set()
        keys = [row[0] for row in stored.values()]
        for part in _chunks(keys):
            links.update(
                conn.execute(
                    "SELECT item_key, source_id FROM item_sources "
                    f"WHERE item_key IN ({_marks(len(part))})",
                    part,
                ).fetchall()
            )
        source_ids = {item.source_id for item, _ in batch}
        for sid in source_ids:
            # the foreign key of item_sources.source_id (checks are off here, see save_items)
            if (
                not sid
                and not conn.execute("SELECT 1 FROM sources WHERE id = ?", (sid,)).fetchone()
            ):
                raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")
        conn.executemany(
            "INSERT OR IGNORE INTO sources (id, name, url, active, added, updated) "
            "VALUES (?, ?, '', 0, ?, ?)",
            [(sid, sid, now, now) for sid in source_ids if sid],
        )
        next_key = (conn.execute("SELECT max(key) FROM items").fetchone()[0] or 0) + 1

        new_rows: list[tuple[Any, ...]] = []
        new_short: list[tuple[int, str]] = []
        new_links: list[tuple[int, str, str]] = []
        outcome: dict[str, str] = {}  # stored id -> 'new' / 'updated' / 'seen', in first-seen order
        stored_id = self.stored_id
        source_days = self.source_days
        # An item repeated in the batch by the same source: its last version is the one kept.
        last = {(item.id, item.source_id): (item, tags) for item, tags in batch}
        new_text: list[tuple[int, str, str]] = []
        add_tags = self._add_tags
        for item, tags in batch:
            if item.id not in stored:
                item, tags = last[(item.id, item.source_id)]
            fetched = to_iso(item.fetched) if item.fetched else now
            published = to_iso(item.published) if item.published else None
            if item.id not in stored:
                sid = item.id
                key = next_key
                next_key += 1
                ts = min(published, fetched) if published else fetched
                sentiment = tags.sentiment
                title, summary = item.title, item.summary
                new_rows.append(
                    (
                        key,
                        sid,
                        item.url,
                        title,
                        summary,
                        tags.lang or item.lang,
                        published,
                        fetched,
                        ts,
                        item.guid,
                        item.author,
                        getattr(item, "publisher", None),
                        sentiment.label,
                        sentiment.score,
                    )
                )
                new_text.append((key, title, summary))
                new_short.append((key, short_terms(title, summary)))
                stored[sid] = [key, title, summary, ts, sentiment.label, sentiment.score, fetched]
                add_tags(key, ts, tags)
                outcome[sid] = "new"
            else:
                sid = item.id
                row = stored[sid]
                key = row[0]
                summary = item.summary or row[2]
                if (key, item.source_id) in links and (item.title != row[1] or summary != row[2]):
                    self._update(row, item, tags, summary, published)
                    if outcome.get(sid) != "new":
                        outcome[sid] = "updated"
                else:
                    outcome.setdefault(sid, "seen")
            stored_id[item.id] = sid
            if (key, item.source_id) not in links:
                links.add((key, item.source_id))
                new_links.append((key, item.source_id, fetched))
                day_key = (item.source_id, fetched[:10])
                source_days[day_key] = source_days.get(day_key, 0) + 1

        conn.executemany(
            "INSERT INTO items (key, id, url, title, summary, lang, published, fetched, ts, "
            "guid, author, publisher, label, score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            new_rows,
        )
        conn.executemany("INSERT INTO items_fts (rowid, title, summary) VALUES (?, ?, ?)", new_text)
        conn.executemany("INSERT INTO items_fts_short (rowid, terms) VALUES (?, ?)", new_short)
        conn.executemany(
            "INSERT INTO item_sources (item_key, source_id, first_seen) VALUES (?, ?, ?)",
            new_links,
        )
        conn.executemany(
            "INSERT INTO item_tickers (item_key, ticker, ts, spans, matched) "
            "VALUES (?, ?, ?, ?, ?)",
            self.tickers,
        )
        conn.executemany(
            "INSERT INTO item_theses (item_key, thesis, stance, strength, evidence, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            self.theses,
        )
        conn.executemany(
            "INSERT INTO item_events (item_key, seq, type, polarity, materiality, entities, "
            "evidence, magnitude, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.events,
        )
        conn.executemany(
            "INSERT INTO item_mentions (item_key, ticker, relevance, label, score, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            self.mentions,
        )
        conn.executemany(
            "INSERT INTO sentiments (item_key, scorer, scorer_version, label, score, evidence, "
            "scored) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "label = excluded.label, score = excluded.score, evidence = excluded.evidence, "
            "scored = excluded.scored",
            self.sentiments,
        )
        self._write_aggregates()
        for sid, what in outcome.items():
            getattr(result, what).append(sid)

    def _add_tags(self, key: int, ts: str, tags: Tags) -> None:
        """Queue the tag rows of an item and count it in the daily aggregates (inlined: this
        runs for every new item of a bulk ingest)."""
        sentiment = tags.sentiment
        label, score = sentiment.label, sentiment.score
        day = ts[:10]
        slot = _LABEL_SLOT.get(label)
        seen: set[str] = set()
        for m in tags.tickers:
            if m.ticker in seen:
                continue
            seen.add(m.ticker)
            self.tickers.append((key, m.ticker, ts, _spans_json(m.spans), _list_json(m.matched)))
            agg = self.ticker_days.get((m.ticker, day))
            if agg is None:
                agg = self.ticker_days[(m.ticker, day)] = [0, 0, 0, 0, 0.0]
            agg[0] += 1
            if slot is not None:
                agg[slot] += 1
            agg[4] += score
        seen.clear()
        for t in tags.theses:
            if t.thesis in seen:
                continue
            seen.add(t.thesis)
            self.theses.append((key, t.thesis, t.stance, t.strength, _list_json(t.evidence), ts))
            counts = self.thesis_days.get((t.thesis, day))
            if counts is None:
                counts = self.thesis_days[(t.thesis, day)] = [0, 0]
            counts[0 if t.stance == "support" else 1] += 1
        for seq, event in enumerate(tags.events):
            self.events.append(
                (key, seq, event.type, event.polarity, event.materiality,
                 _encode(dict(event.entities)), _list_json(event.evidence), event.magnitude, ts)
            )  # fmt: skip
        if tags.relevance:
            by_ticker = dict(tags.by_ticker)
            for ticker, relevance in tags.relevance:
                reading = by_ticker.get(ticker)
                self.mentions.append(
                    (key, ticker, relevance, reading.label if reading else None,
                     reading.score if reading else None, ts)
                )  # fmt: skip
        self.sentiments.append(
            (
                key,
                sentiment.scorer,
                sentiment.version,
                label,
                score,
                _list_json(sentiment.evidence),
                self.now,
            )
        )

    def _update(
        self, row: list[Any], item: Item, tags: Tags, summary: str, published: str | None
    ) -> None:
        """An edited item: new text, tags replaced, daily aggregates moved."""
        conn = self.conn
        key, old_title, old_summary, old_ts, old_label, old_score, fetched = row
        old_tickers = [
            t for (t,) in conn.execute("SELECT ticker FROM item_tickers WHERE item_key = ?", (key,))
        ]
        old_theses = conn.execute(
            "SELECT thesis, stance FROM item_theses WHERE item_key = ?", (key,)
        ).fetchall()
        self._count(old_ts, old_tickers, old_theses, old_label, old_score, -1)
        ts = min(published, fetched) if published else old_ts
        conn.execute(
            "UPDATE items SET title = ?, summary = ?, published = coalesce(?, published), "
            "ts = ?, updated = ?, label = ?, score = ?, lang = coalesce(?, lang), "
            "publisher = coalesce(?, publisher) WHERE key = ?",
            (
                item.title,
                summary,
                published,
                ts,
                self.now,
                tags.sentiment.label,
                tags.sentiment.score,
                tags.lang or item.lang,
                getattr(item, "publisher", None),
                key,
            ),
        )
        conn.execute(
            "INSERT INTO items_fts_short (items_fts_short, rowid, terms) VALUES ('delete', ?, ?)",
            (key, short_terms(old_title, old_summary)),
        )
        conn.execute(
            "INSERT INTO items_fts_short (rowid, terms) VALUES (?, ?)",
            (key, short_terms(item.title, summary)),
        )
        for table in ("item_tickers", "item_theses", "item_events", "item_mentions"):
            conn.execute(f"DELETE FROM {table} WHERE item_key = ?", (key,))
        # the new tag rows are written with the batch (the deletes above run first)
        self.tickers = [r for r in self.tickers if r[0] != key]
        self.theses = [r for r in self.theses if r[0] != key]
        self.events = [r for r in self.events if r[0] != key]
        self.mentions = [r for r in self.mentions if r[0] != key]
        self._add_tags(key, ts, tags)
        row[1:6] = [item.title, summary, ts, tags.sentiment.label, tags.sentiment.score]

    def _count(
        self,
        ts: str,
        tickers: Iterable[str],
        theses: Iterable[tuple[str, str]],
        label: str | None,
        score: float | None,
        sign: int,
    ) -> None:
        day = ts[:10]
        slot = _LABEL_SLOT.get(label or "")
        ticker_days = self.ticker_days
        for ticker in tickers:
            agg = ticker_days.get((ticker, day))
            if agg is None:
                agg = ticker_days[(ticker, day)] = [0, 0, 0, 0, 0.0]
            agg[0] += sign
            if slot is not None:
                agg[slot] += sign
            agg[4] += sign * (score or 0.0)
        thesis_days = self.thesis_days
        for thesis, stance in theses:
            counts = thesis_days.get((thesis, day))
            if counts is None:
                counts = thesis_days[(thesis, day)] = [0, 0]
            counts[0 if stance == "support" else 1] += sign

    def _write_aggregates(self) -> None:
        conn = self.conn
        conn.executemany(
            "INSERT INTO ticker_daily (ticker, day, items, pos, neg, neu, score_sum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticker, day) DO UPDATE SET "
            "items = items + excluded.items, pos = pos + excluded.pos, "
            "neg = neg + excluded.neg, neu = neu + excluded.neu, "
            "score_sum = score_sum + excluded.score_sum",
            [(t, d, *v) for (t, d), v in self.ticker_days.items()],
        )
        conn.executemany(
            "INSERT INTO thesis_daily (thesis, day, support, challenge) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (thesis, day) DO UPDATE SET support = support + excluded.support, "
            "challenge = challenge + excluded.challenge",
            [(t, d, *v) for (t, d), v in self.thesis_days.items()],
        )
        conn.executemany(
            "INSERT INTO source_daily (source_id, day, items) VALUES (?, ?, ?) "
            "ON CONFLICT (source_id, day) DO UPDATE SET items = items + excluded.items",
            [(sid, d, n) for (sid, d), n in self.source_days.items()],
        )
