"""Alerts and triage: saving alerts once, listing them (hidden or not), what the user did
with them (ack, snooze, false positive, mutes), and the delivery ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from thesiswatch.errors import StoreError
from thesiswatch.records import Alert
from thesiswatch.store.connection import (
    StoreBase,
    Unset,
    _api,
    _json,
    _loads,
    _utcnow,
    from_iso,
    to_iso,
)
from thesiswatch.store.models import (
    OutboxEntry,
    StoredAlert,
)

_ALERT_COLUMNS = (
    "a.id, a.created, a.rule, a.severity, a.title, a.message, a.url, a.tickers, a.thesis, "
    "a.stance, a.item_ids, coalesce(s.acked, 0), s.snoozed_until, "
    "coalesce(s.false_positive, 0), "
    "(SELECT count(DISTINCT x.source_id) FROM item_sources AS x "
    " JOIN items AS i ON i.key = x.item_key"
    " WHERE i.id IN (SELECT value FROM json_each(a.item_ids)))"
)

_VISIBLE = """(
  coalesce(s.acked, 0) = 0
  AND coalesce(s.false_positive, 0) = 0
  AND (s.snoozed_until IS NULL OR s.snoozed_until <= ?)
  AND NOT (
    json_array_length(a.tickers) > 0
    AND NOT EXISTS (
      SELECT 1 FROM json_each(a.tickers) AS j
      WHERE j.value NOT IN (SELECT ticker FROM muted_tickers WHERE until IS NULL OR until > ?)
    )
  )
)"""


class AlertsMixin(StoreBase):
    """``save_alerts``, ``alerts``, ``recent_alerts``, ``set_alert_state``, mutes,
    ``record_delivery``, ``deliveries``."""

    @_api
    def save_alerts(
        self, alerts: Sequence[Alert], *, destinations: Sequence[str] = ()
    ) -> list[Alert]:
        """Store alerts; return only those not stored before (by id), in the given order.

        Each new alert gets one ``outbox`` row per destination (a sink's channel name), in
        the same transaction (and in the caller's, inside ``transaction()``)."""
        if not alerts:
            return []
        now = to_iso(_utcnow())
        fresh: list[Alert] = []
        with self._write() as conn:
            seen: set[str] = set()
            for alert in alerts:
                if alert.id in seen:
                    continue
                seen.add(alert.id)
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO alerts (id, created, rule, severity, title, message, "
                    "url, tickers, thesis, stance, item_ids, stored) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        alert.id,
                        alert.created,
                        alert.rule,
                        alert.severity,
                        alert.title,
                        alert.message,
                        alert.url,
                        _json(list(alert.tickers)),
                        alert.thesis,
                        alert.stance,
                        _json(list(alert.item_ids)),
                        now,
                    ),
                )
                if cursor.rowcount:
                    fresh.append(alert)
            conn.executemany(
                "INSERT OR IGNORE INTO outbox (alert_id, destination, created) VALUES (?, ?, ?)",
                [(a.id, d, now) for a in fresh for d in dict.fromkeys(destinations)],
            )
        return fresh

    @_api
    def alerts(
        self,
        *,
        limit: int = 100,
        ticker: str | None = None,
        thesis: str | None = None,
        since: datetime | None = None,
        include_hidden: bool = False,
        now: datetime | None = None,
    ) -> list[StoredAlert]:
        """Alerts newest first. Hidden unless ``include_hidden``: acknowledged, snoozed,
        marked false positive, or about tickers that are all muted (snoozes and mutes as of
        ``now``, default the current time)."""
        where: list[str] = []
        args: list[Any] = []
        if since is not None:
            where.append("a.created >= ?")
            args.append(to_iso(since))
        if thesis is not None:
            where.append("a.thesis = ?")
            args.append(thesis)
        if ticker is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(a.tickers) WHERE value = ?)")
            args.append(ticker)
        if not include_hidden:
            at = to_iso(now or _utcnow())
            where.append(_VISIBLE)
            args.extend([at, at])
        return self._select_alerts(where, args, limit)

    def recent_alerts(self, since: datetime, *, limit: int = 2000) -> list[Alert]:
        """Alerts created from ``since`` on, hidden ones included, newest first."""
        return [a.alert for a in self.alerts(limit=limit, since=since, include_hidden=True)]

    def _select_alerts(
        self,
        where: list[str],
        args: list[Any],
        limit: int | None,
        order: str = "a.created DESC, a.id DESC",
    ) -> list[StoredAlert]:
        sql = f"SELECT {_ALERT_COLUMNS} FROM alerts AS a LEFT JOIN alert_state AS s ON s.alert_id = a.id"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            args = [*args, limit]
        return [_stored_alert(r) for r in self._conn.execute(sql, args)]

    @_api
    def set_alert_state(
        self,
        alert_id: str,
        *,
        acked: bool | None = None,
        snoozed_until: datetime | Literal[Unset.UNSET] | None = Unset.UNSET,
        false_positive: bool | None = None,
    ) -> None:
        """Change what the user said about an alert. ``acked`` / ``false_positive``: ``None``
        leaves them as they are; ``snoozed_until``: a time snoozes, ``None`` unsnoozes, left
        out leaves the snooze as it is."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
                raise StoreError(f"no alert with id {alert_id!r}")
            conn.execute(
                "INSERT OR IGNORE INTO alert_state (alert_id, updated) VALUES (?, ?)",
                (alert_id, now),
            )
            conn.execute(
                """
                UPDATE alert_state SET
                  acked = coalesce(?, acked),
                  acked_at = CASE WHEN ? = 1 THEN ? WHEN ? = 0 THEN NULL ELSE acked_at END,
                  snoozed_until = CASE WHEN ? THEN ? ELSE snoozed_until END,
                  false_positive = coalesce(?, false_positive),
                  updated = ?
                WHERE alert_id = ?
                """,
                (
                    _bool_or_none(acked),
                    _bool_or_none(acked),
                    now,
                    _bool_or_none(acked),
                    snoozed_until is not Unset.UNSET,
                    to_iso(snoozed_until) if isinstance(snoozed_until, datetime) else None,
                    _bool_or_none(false_positive),
                    now,
                    alert_id,
                ),
            )

    @_api
    def mute_ticker(self, ticker: str, until: datetime | None) -> None:
        """Hide alerts about ``ticker`` until ``until`` (``None``: until ``unmute_ticker``)."""
        now = to_iso(_utcnow())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO muted_tickers (ticker, until, muted_at) VALUES (?, ?, ?) "
                "ON CONFLICT (ticker) DO UPDATE SET until = excluded.until, "
                "muted_at = excluded.muted_at",
                (ticker, to_iso(until) if until is not None else None, now),
            )

    @_api
    def unmute_ticker(self, ticker: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM muted_tickers WHERE ticker = ?", (ticker,))

    @_api
    def muted_tickers(self, now: datetime | None = None) -> dict[str, datetime | None]:
        """Tickers muted at ``now`` (default: the current time) -> until (``None``: indefinitely)."""
        at = to_iso(now or _utcnow())
        return {
            t: from_iso(u)
            for t, u in self._conn.execute(
                "SELECT ticker, until FROM muted_tickers WHERE until IS NULL OR until > ? "
                "ORDER BY ticker",
                (at,),
            )
        }

    @_api
    def record_delivery(
        self,
        *,
        alert_id: str,
        channel: str,
        status: str,
        attempt: int,
        http_status: int | None = None,
        vendor_code: str | None = None,
        error: str | None = None,
    ) -> None:
        """Append one delivery attempt to the ledger (``deliveries``) and bring the alert's
        outbox row for that channel up to date: ``sent`` -> ``delivered``, ``failed`` (final)
        -> ``dead``, ``retrying`` -> still ``pending``, with the attempt count and error."""
        now = to_iso(_utcnow())
        outbox = {"sent": "delivered", "failed": "dead"}.get(status, "pending")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO deliveries (alert_id, channel, status, attempt, http_status, "
                "vendor_code, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (alert_id, channel, status, attempt, http_status, vendor_code, error, now),
            )
            conn.execute(
                "UPDATE outbox SET status = ?, attempts = max(attempts, ?), last_attempt = ?, "
                "http_status = ?, error = coalesce(?, error), "
                "done = CASE WHEN ? = 'pending' THEN NULL ELSE ? END "
                "WHERE alert_id = ? AND destination = ? AND status = 'pending'",
                (outbox, attempt, now, http_status, error, outbox, now, alert_id, channel),
            )

    @_api
    def outbox(
        self, *, status: str = "pending", destinations: Sequence[str] | None = None
    ) -> list[OutboxEntry]:
        """Outbox rows with a status (``pending``: still owed), oldest first; only those of
        ``destinations`` when given."""
        sql = (
            f"SELECT {_ALERT_COLUMNS}, o.destination, o.status, o.attempts, o.created, o.error, "
            "o.http_status FROM outbox AS o JOIN alerts AS a ON a.id = o.alert_id "
            "LEFT JOIN alert_state AS s ON s.alert_id = a.id WHERE o.status = ?"
        )
        args: list[Any] = [status]
        if destinations is not None:
            sql += f" AND o.destination IN ({', '.join('?' for _ in destinations)})"
            args.extend(destinations)
        sql += " ORDER BY o.created, a.created, a.id, o.destination"
        out = []
        for r in self._conn.execute(sql, args):
            n = len(r) - 6
            out.append(
                OutboxEntry(
                    alert=_stored_alert(r[:n]).alert,
                    destination=r[n],
                    status=r[n + 1],
                    attempts=r[n + 2],
                    created=from_iso(r[n + 3]) or _utcnow(),
                    error=r[n + 4],
                    http_status=r[n + 5],
                )
            )
        return out

    @_api
    def drop_outbox(self, keep: Sequence[str]) -> dict[str, int]:
        """Delete the pending rows of every destination not in ``keep`` (a sink removed from
        the config); return the count dropped per destination."""
        with self._write() as conn:
            marks = ", ".join("?" for _ in keep)
            where = "status = 'pending'" + (f" AND destination NOT IN ({marks})" if keep else "")
            counts = dict(
                conn.execute(
                    f"SELECT destination, count(*) FROM outbox WHERE {where} GROUP BY destination",
                    list(keep),
                ).fetchall()
            )
            if counts:
                conn.execute(f"DELETE FROM outbox WHERE {where}", list(keep))
        return counts

    @_api
    def deliveries(self, alert_id: str) -> list[dict[str, object]]:
        """The delivery attempts of one alert, oldest first."""
        cursor = self._conn.execute(
            "SELECT channel, status, attempt, http_status, vendor_code, error, at "
            "FROM deliveries WHERE alert_id = ? ORDER BY id",
            (alert_id,),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def _stored_alert(r: tuple[Any, ...]) -> StoredAlert:
    return StoredAlert(
        id=r[0],
        created=r[1],
        rule=r[2],
        severity=r[3],
        title=r[4],
        message=r[5],
        url=r[6],
        tickers=tuple(_loads(r[7], [])),
        thesis=r[8],
        stance=r[9],
        item_ids=tuple(_loads(r[10], [])),
        acked=bool(r[11]),
        snoozed_until=from_iso(r[12]),
        false_positive=bool(r[13]),
        source_count=r[14] or 0,
    )


def _bool_or_none(value: bool | None) -> int | None:
    return None if value is None else int(value)
