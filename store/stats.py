"""Statistics: the thesis board, mentions and daily sentiment per ticker, the status bar,
and what the alert rules read (``thesiswatch.alerts.history.HistorySource``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from thesiswatch.errors import StoreError
from thesiswatch.signals.models import THESIS_IDS
from thesiswatch.store.connection import _api, from_iso, to_iso
from thesiswatch.store.models import (
    StoreStats,
    ThesisSummary,
)
from thesiswatch.store.sources import poll_overdue
from thesiswatch.store.triage import AlertsMixin


class StatsMixin(AlertsMixin):
    """``thesis_summary``, ``ticker_mentions``, ``ticker_daily_sentiment``, ``stats``, and the
    rules' ``mention_counts``, ``hourly_mention_counts``, ``first_fetched``, ``thesis_daily_net``."""

    @_api
    def thesis_summary(self, now: datetime) -> dict[str, ThesisSummary]:
        """Per thesis: support/challenge over the last 24 h and 7 days (up to ``now``), the
        daily net (support - challenge) of the last 14 days, and its latest alert."""
        conn = self._conn
        end = to_iso(now)
        day_start = to_iso(now - timedelta(hours=24))
        week_start = to_iso(now - timedelta(days=7))
        today = now.astimezone(UTC).date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(13, -1, -1)]
        theses = list(THESIS_IDS)
        for (thesis,) in conn.execute(
            "SELECT DISTINCT thesis FROM thesis_daily WHERE day >= ? AND day <= ?",
            (days[0], days[-1]),
        ):
            if thesis not in theses:
                theses.append(thesis)
        result: dict[str, ThesisSummary] = {}
        for thesis in theses:
            counts = {
                ("support", 1): 0,
                ("challenge", 1): 0,
                ("support", 7): 0,
                ("challenge", 7): 0,
            }
            for stance, recent, total in conn.execute(
                "SELECT stance, sum(ts > ?), count(*) FROM item_theses "
                "WHERE thesis = ? AND ts > ? AND ts <= ? GROUP BY stance",
                (day_start, thesis, week_start, end),
            ):
                counts[(stance, 1)] = recent
                counts[(stance, 7)] = total
            net = dict.fromkeys(days, 0)
            for day, value in conn.execute(
                "SELECT day, support - challenge FROM thesis_daily "
                "WHERE thesis = ? AND day >= ? AND day <= ?",
                (thesis, days[0], days[-1]),
            ):
                net[day] = value
            latest = self._select_alerts(["a.thesis = ?", "a.created <= ?"], [thesis, end], 1)
            result[thesis] = ThesisSummary(
                thesis=thesis,
                support_24h=counts[("support", 1)],
                challenge_24h=counts[("challenge", 1)],
                support_7d=counts[("support", 7)],
                challenge_7d=counts[("challenge", 7)],
                daily_net=tuple(net.items()),
                latest_alert=latest[0] if latest else None,
            )
        return result

    @_api
    def mention_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Items per ticker with ``start < ts <= end``."""
        rows = self._conn.execute(
            "SELECT ticker, count(*) FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker",
            (to_iso(start), to_iso(end)),
        )
        return {t: int(n) for t, n in rows}

    @_api
    def hourly_mention_counts(self, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
        """``(ticker, whole hours before end, items)`` for the items with ``start < ts <= end``."""
        rows = self._conn.execute(
            "SELECT ticker, CAST((julianday(?) - julianday(ts)) * 24 AS INTEGER) AS h, count(*) "
            "FROM item_tickers WHERE ts > ? AND ts <= ? GROUP BY ticker, h",
            (to_iso(end), to_iso(start), to_iso(end)),
        )
        return [(t, int(h), int(n)) for t, h, n in rows]

    @_api
    def first_fetched(self) -> datetime | None:
        """When the oldest stored item was fetched (how long this database has watched)."""
        row = self._conn.execute("SELECT min(fetched) FROM items").fetchone()
        return from_iso(row[0]) if row and row[0] else None

    @_api
    def thesis_daily_net(self, since: date) -> dict[str, dict[str, float]]:
        """Per thesis, per UTC day (``"YYYY-MM-DD"``) from ``since`` on: supporting minus
        challenging items (``thesis_daily``, kept when old items are pruned)."""
        daily: dict[str, dict[str, float]] = defaultdict(dict)
        for thesis, day, net in self._conn.execute(
            "SELECT thesis, day, support - challenge FROM thesis_daily WHERE day >= ?",
            (since.isoformat(),),
        ):
            daily[thesis][day] = float(net)
        return dict(daily)

    @_api
    def ticker_mentions(
        self, ticker: str, *, since: datetime, bucket: str = "hour"
    ) -> list[tuple[str, int]]:
        """Items mentioning ``ticker`` per hour (``"2025-01-27T14:00:00+00:00"``) or per day
        (``"2025-01-27"``) from ``since``, oldest first; buckets without items are absent."""
        if bucket == "hour":
            label = "substr(ts, 1, 13) || ':00:00+00:00'"
        elif bucket == "day":
            label = "substr(ts, 1, 10)"
        else:
            raise StoreError(f"bucket must be 'hour' or 'day', not {bucket!r}")
        return [
            (b, n)
            for b, n in self._conn.execute(
                f"SELECT {label} AS bucket, count(*) FROM item_tickers "
                "WHERE ticker = ? AND ts >= ? GROUP BY bucket ORDER BY bucket",
                (ticker, to_iso(since)),
            )
        ]

    @_api
    def ticker_daily_sentiment(
        self, ticker: str, *, days: int, now: datetime
    ) -> list[tuple[str, float, int]]:
        """``(day, mean score, items)`` for the last ``days`` days up to ``now``'s date, oldest
        first; days without items are absent. Kept after prune (from ``ticker_daily``)."""
        last = now.astimezone(UTC).date()
        first = last - timedelta(days=days - 1)
        return [
            (d, round(s / n, 4), n)
            for d, s, n in self._conn.execute(
                "SELECT day, score_sum, items FROM ticker_daily "
                "WHERE ticker = ? AND day >= ? AND day <= ? AND items > 0 ORDER BY day",
                (ticker, first.isoformat(), last.isoformat()),
            )
        ]

    @_api
    def event_types(self, since: datetime | None = None) -> list[tuple[str, int]]:
        """``(event type, items)`` of the items since ``since`` (Signals v3), most first."""
        rows = self._conn.execute(
            "SELECT type, count(*) FROM item_events WHERE ts >= ? GROUP BY type "
            "ORDER BY count(*) DESC, type",
            (to_iso(since) if since is not None else "",),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    @_api
    def overdue_sources(self, now: datetime) -> int:
        """Active sources whose poll is overdue (nobody polls them: see ``poll_overdue``)."""
        return sum(
            1
            for attempt, next_poll, interval in self._conn.execute(
                "SELECT last_attempt, next_poll, coalesce(poll_interval, interval) FROM sources "
                "WHERE active = 1 AND last_attempt IS NOT NULL"
            )
            if poll_overdue(from_iso(attempt), from_iso(next_poll), interval, now)
        )

    @_api
    def stats(self, now: datetime) -> StoreStats:
        conn = self._conn
        start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        today, tomorrow = to_iso(start), to_iso(start + timedelta(days=1))
        total = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        items_today = conn.execute(
            "SELECT count(*) FROM items WHERE ts >= ? AND ts < ?", (today, tomorrow)
        ).fetchone()[0]
        alerts_today = conn.execute(
            "SELECT count(*) FROM alerts WHERE created >= ? AND created < ?", (today, tomorrow)
        ).fetchone()[0]
        last_poll, failing, active = conn.execute(
            "SELECT max(last_attempt), sum(active = 1 AND consecutive_failures > 0), "
            "sum(active = 1) FROM sources"
        ).fetchone()
        return StoreStats(
            overdue_sources=self.overdue_sources(now),
            items_total=total,
            items_today=items_today,
            alerts_today=alerts_today,
            last_poll=from_iso(last_poll),
            failing_sources=failing or 0,
            sources_active=active or 0,
        )
