"""Sources and their health: the catalogue rows, conditional-GET state, the poll log."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from thesiswatch.feeds.models import FetchOutcome, FetchState, Source
from thesiswatch.store.connection import StoreBase, _api, _json, _utcnow, from_iso, to_iso
from thesiswatch.store.models import (
    SourceHealth,
)


class SourcesMixin(StoreBase):
    """``sync_sources``, ``fetch_states``, ``record_fetch(es)``, ``source_health``."""

    @_api
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Upsert the configured sources; sources no longer configured become inactive."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO sources (id, name, url, kind, lang, interval, tickers, active,
                                     added, updated)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                  name = excluded.name, url = excluded.url, kind = excluded.kind,
                  lang = excluded.lang, interval = excluded.interval,
                  tickers = excluded.tickers, active = 1, updated = excluded.updated
                """,
                [
                    (
                        s.id,
                        s.name,
                        s.url,
                        s.kind,
                        s.lang,
                        s.interval,
                        _json(list(s.tickers)),
                        now,
                        now,
                    )
                    for s in sources
                ],
            )
            ids = [s.id for s in sources]
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _configured (id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM _configured")
            conn.executemany("INSERT OR IGNORE INTO _configured VALUES (?)", [(i,) for i in ids])
            conn.execute(
                "UPDATE sources SET active = 0, updated = ? "
                "WHERE active = 1 AND id NOT IN (SELECT id FROM _configured)",
                (now,),
            )
            conn.execute("DELETE FROM _configured")

    @_api
    def fetch_states(self) -> dict[str, FetchState]:
        """What the poller remembers per source id (conditional GET headers, backoff, ...)."""
        rows = self._conn.execute(
            "SELECT id, fetch_url, etag, last_modified, consecutive_failures, last_attempt, "
            "last_success, last_error, next_poll, poll_interval FROM sources"
        ).fetchall()
        return {
            r[0]: FetchState(
                source_id=r[0],
                url=r[1],
                etag=r[2],
                last_modified=r[3],
                consecutive_failures=r[4],
                last_attempt=from_iso(r[5]),
                last_success=from_iso(r[6]),
                last_error=r[7],
                next_poll=from_iso(r[8]),
                interval=r[9],
            )
            for r in rows
        }

    @_api
    def record_fetch(self, outcome: FetchOutcome) -> None:
        """Update the source's health from one poll and append a ``fetch_log`` row.

        ETag / Last-Modified are stored verbatim: replaced on 200, replaced when a 304
        carries them (kept otherwise), kept on failure.
        """
        self.record_fetches([outcome])

    @_api
    def record_fetches(self, outcomes: Sequence[FetchOutcome]) -> None:
        """``record_fetch`` for several polls in one transaction (in order). The pipeline writes
        the health of a whole cycle this way: one commit instead of one per source keeps the
        disk writes of 200 sources polled every minute small."""
        if not outcomes:
            return
        with self._write() as conn:
            for outcome in outcomes:
                _record_fetch(conn, outcome)

    @_api
    def source_health(self, now: datetime | None = None) -> list[SourceHealth]:
        """Every source (active first, then by name) with its health.

        With ``now``, an active source whose poll is overdue (see :func:`poll_overdue`: its
        poller has stopped) reads ``'overdue'`` instead of ``'ok'`` or ``'failing'``.
        """
        rows = self._conn.execute(
            """
            SELECT id, name, coalesce(fetch_url, url), active, last_attempt, last_success,
                   last_status, last_http_status, consecutive_failures, last_error,
                   last_latency_ms, next_poll, items_seen, last_items,
                   coalesce(poll_interval, interval)
            FROM sources ORDER BY active DESC, name COLLATE NOCASE, id
            """
        ).fetchall()
        result = []
        for r in rows:
            active = bool(r[3])
            interval = float(r[14]) if r[14] is not None else None
            if not active:
                status = "inactive"
            elif r[4] is None:
                status = "never polled"
            elif now is not None and poll_overdue(from_iso(r[4]), from_iso(r[11]), interval, now):
                status = "overdue"
            elif r[8] > 0:
                status = "failing"
            else:
                status = "ok"
            result.append(
                SourceHealth(
                    source_id=r[0],
                    name=r[1],
                    url=r[2],
                    active=active,
                    status=status,
                    last_attempt=from_iso(r[4]),
                    last_success=from_iso(r[5]),
                    last_status=r[6],
                    http_status=r[7],
                    consecutive_failures=r[8],
                    last_error=r[9],
                    latency=r[10] / 1000 if r[10] is not None else None,
                    next_poll=from_iso(r[11]),
                    items_seen=r[12],
                    last_items=r[13],
                    interval=interval,
                )
            )
        return result


OVERDUE_GRACE = 60.0  # seconds past twice the interval before a poll counts as overdue


def poll_overdue(
    last_attempt: datetime | None,
    next_poll: datetime | None,
    interval: float | None,
    now: datetime,
) -> bool:
    """True when a source's poll is overdue: more than twice its interval plus a minute since
    its last attempt, and over a minute past the next poll it was given (a backoff or a
    server's Retry-After can set that later). Nobody is polling it, e.g. the daemon died.

    >>> from datetime import UTC
    >>> t = datetime(2025, 1, 1, tzinfo=UTC)
    >>> poll_overdue(t, t + timedelta(seconds=600), 600, t + timedelta(seconds=1259))
    False
    >>> poll_overdue(t, t + timedelta(seconds=600), 600, t + timedelta(seconds=1261))
    True
    """
    if last_attempt is None or not interval:
        return False
    if now - last_attempt <= timedelta(seconds=2 * interval + OVERDUE_GRACE):
        return False
    return next_poll is None or now - next_poll > timedelta(seconds=OVERDUE_GRACE)


def _record_fetch(conn: sqlite3.Connection, outcome: FetchOutcome) -> None:
    """The writes of ``Store.record_fetch`` for one poll, inside the caller's transaction."""
    started = to_iso(outcome.started or _utcnow())
    latency_ms = round(outcome.latency * 1000)
    next_poll = to_iso(outcome.next_poll) if outcome.next_poll else None
    interval = outcome.interval
    if interval is None:
        interval = _float_or_none(outcome.extra.get("interval"))
    items = outcome.items_seen or len(outcome.items)
    ok = outcome.status in ("ok", "not_modified")
    failures = outcome.consecutive_failures if not ok else 0
    if outcome.source_id:
        # a placeholder row (inactive) for a source not synced yet, so the log row's link holds
        conn.execute(
            "INSERT OR IGNORE INTO sources (id, name, url, active, added, updated) "
            "VALUES (?, ?, '', 0, ?, ?)",
            (outcome.source_id, outcome.source_id, started, started),
        )
    if outcome.status == "ok":
        etag_sql, etag_args = (
            "etag = ?, last_modified = ?,",
            [
                outcome.etag,
                outcome.last_modified,
            ],
        )
    elif outcome.status == "not_modified":
        etag_sql = "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified),"
        etag_args = [outcome.etag, outcome.last_modified]
    else:
        etag_sql, etag_args = "", []
    conn.execute(
        f"""
        UPDATE sources SET
          {etag_sql}
          last_attempt = ?,
          last_success = CASE WHEN ? THEN ? ELSE last_success END,
          last_status = ?,
          last_http_status = ?,
          consecutive_failures = CASE WHEN ? THEN 0
                                      WHEN ? > 0 THEN ?
                                      ELSE consecutive_failures + 1 END,
          last_error = ?,
          last_latency_ms = ?,
          next_poll = coalesce(?, next_poll),
          poll_interval = coalesce(?, poll_interval),
          fetch_url = coalesce(?, fetch_url),
          last_items = ?,
          items_seen = items_seen + ?
        WHERE id = ?
        """,
        [
            *etag_args,
            started,
            ok,
            started,
            outcome.status,
            outcome.http_status,
            ok,
            failures,
            failures,
            None if ok else (outcome.error or "failed"),
            latency_ms,
            next_poll,
            interval,
            outcome.final_url,
            items,
            items,
            outcome.source_id,
        ],
    )
    conn.execute(
        "INSERT INTO fetch_log (source_id, started, status, http_status, latency_ms, "
        "bytes, items, error, final_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outcome.source_id,
            started,
            outcome.status,
            outcome.http_status,
            latency_ms,
            outcome.bytes,
            items,
            outcome.error,
            outcome.final_url,
        ),
    )


def _float_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
