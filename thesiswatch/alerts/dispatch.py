"""The dispatcher: fans alerts out to sinks with retries, backoff and a delivery ledger.

A sink reports one ``Delivery`` per alert and attempt and never raises for a delivery problem.
The ``Dispatcher`` owns retries: failed attempts that may succeed later (network errors, 5xx,
429, a vendor's "too fast", a full disk) are retried with exponential backoff (at least what
the receiver asked for in ``Retry-After``), and every attempt goes to the ledger callback
(``Store.record_delivery``) with its channel, status, HTTP status and vendor error code.

The ledger also keeps the outbox (one row per alert and destination, written with the alert):
an alert a destination has not confirmed stays ``pending`` there, and ``resume`` sends those
rows again after a restart. An alert is given up on (``dead``) after ``retries + 1`` attempts
(20) or ``give_up_after`` seconds (24 h) since it was raised, whichever comes first.
``aclose`` waits at most ``grace`` seconds for deliveries in flight: what is left stays in the
outbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from thesiswatch.alerts.format import one_line
from thesiswatch.alerts.sinks.base import (
    Delivery,
    DeliveryStatus,
    Sink,
    deliveries,
    describe_error,
    redact,
)
from thesiswatch.alerts.sinks.http import HttpSink
from thesiswatch.alerts.sinks.local import DesktopSink, JsonlSink, StdoutSink
from thesiswatch.records import Alert
from thesiswatch.store.models import OutboxEntry

log = logging.getLogger("thesiswatch.sinks")  # the logger name of the daemon's log lines

Ledger = Callable[..., object]

GIVE_UP_ATTEMPTS = 20
GIVE_UP_SECONDS = 24 * 3600.0
SHUTDOWN_GRACE = 10.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Pending:
    alert: Alert
    attempt: int
    not_before: float
    done: asyncio.Future[Delivery]
    born: datetime  # when the alert was raised (its outbox row written)


class Dispatcher:
    """Fan alerts out to sinks; retry with exponential backoff; record every attempt.

    ``ledger(alert_id=, channel=, status=, attempt=, http_status=, vendor_code=, error=)`` is
    called once per attempt: status ``sent``, ``retrying`` (failed, will retry) or ``failed``
    (final). Retries wait ``backoff * 2**(attempt-1)`` seconds (capped at ``max_backoff``),
    at least what the receiver asked for. Each sink has its own queue and worker: a slow or
    rate-limited channel never delays another, and alerts piling up behind a rate budget are
    merged into one digest when it frees.

    ``await dispatch(alerts)`` returns the final deliveries; with ``wait=False`` it returns as
    soon as the local sinks (JSON Lines, stdout) have written and leaves the network sinks to
    their workers: call ``await drain()`` or ``await aclose()`` before exiting.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        ledger: Ledger | None = None,
        retries: int = GIVE_UP_ATTEMPTS - 1,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        wait: bool = True,
        give_up_after: float = GIVE_UP_SECONDS,
        grace: float = SHUTDOWN_GRACE,
        clock: Callable[[], datetime] = _utcnow,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.sinks = list(sinks)
        names = [s.name for s in self.sinks]
        if len(set(names)) != len(names):
            raise ValueError(f"two sinks share a channel name: {names}")
        self.ledger = ledger
        self.retries = retries
        self.give_up_after = give_up_after
        self.grace = grace
        self.clock = clock
        self.fault = fault  # fault injection (tests): called with "delivered" mid-delivery
        self._known: set[tuple[str, str]] = set()  # (alert id, channel) queued or in flight
        self._inflight = 0  # sink.deliver calls running
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.wait = wait
        self._queues: dict[int, list[_Pending]] = {id(s): [] for s in self.sinks}
        self._wakeups: dict[int, asyncio.Event] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._unresolved: set[asyncio.Future[Delivery]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._secrets = tuple(s for sink in self.sinks for s in getattr(sink, "_secrets", ()))

    def __repr__(self) -> str:
        return f"Dispatcher({[s.name for s in self.sinks]})"

    @property
    def destinations(self) -> list[str]:
        """The channel names, one per sink: the outbox's destinations."""
        return [s.name for s in self.sinks]

    @staticmethod
    def _local(sink: Sink) -> bool:
        return isinstance(sink, JsonlSink | StdoutSink | DesktopSink)

    async def dispatch(self, alerts: Sequence[Alert]) -> list[Delivery]:
        """Deliver alerts to every sink; the final delivery of each alert to each sink."""
        if not alerts or not self.sinks:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._rebind(loop)
        futures: list[asyncio.Future[Delivery]] = []
        local: list[asyncio.Future[Delivery]] = []
        now = self.clock()
        for sink in self.sinks:
            for alert in alerts:
                fut = self._enqueue(sink, alert, 1, now)
                if fut is None:
                    continue
                futures.append(fut)
                if self._local(sink):
                    local.append(fut)
            self._kick(sink)
        if self.wait:
            return list(await asyncio.gather(*futures))
        if local:  # local sinks are quick: wait for them (bounded), not for the network
            await asyncio.wait(local, timeout=5.0)
        return [f.result() for f in futures if f.done()]

    async def resume(self, entries: Sequence[OutboxEntry]) -> int:
        """Queue the outbox's pending rows (after a restart or a reload) for the sinks they
        name, continuing their attempt count and age; rows of destinations this dispatcher
        does not have, and alerts already queued here, are skipped. Returns how many were
        queued."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._rebind(loop)
        by_name = {s.name: s for s in self.sinks}
        queued = 0
        kicked: dict[str, Sink] = {}
        for entry in entries:
            sink = by_name.get(entry.destination)
            if sink is None:
                continue
            if self._enqueue(sink, entry.alert, entry.attempts + 1, entry.created) is not None:
                queued += 1
                kicked[sink.name] = sink
        for sink in kicked.values():
            self._kick(sink)
        return queued

    def _enqueue(
        self, sink: Sink, alert: Alert, attempt: int, born: datetime
    ) -> asyncio.Future[Delivery] | None:
        key = (alert.id, sink.name)
        if key in self._known:
            return None
        assert self._loop is not None
        fut: asyncio.Future[Delivery] = self._loop.create_future()
        self._known.add(key)
        self._queues.setdefault(id(sink), []).append(_Pending(alert, attempt, 0.0, fut, born))
        self._unresolved.add(fut)
        fut.add_done_callback(self._unresolved.discard)
        return fut

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Used from a new event loop (``asyncio.run`` again): workers, events and owned HTTP
        clients belong to the old loop, so start afresh (anything queued there is gone)."""
        if self._loop is not None:
            dropped = sum(len(q) for q in self._queues.values())
            if dropped:
                log.warning("%d queued deliveries dropped: their event loop has ended", dropped)
            for sink in self.sinks:
                if isinstance(sink, HttpSink) and sink._own_client:
                    sink._client = None
        self._loop = loop
        self._queues = {id(s): [] for s in self.sinks}
        self._wakeups.clear()
        self._workers.clear()
        self._unresolved.clear()
        self._known.clear()

    async def drain(self) -> None:
        """Wait until every queued alert has been delivered or has finally failed."""
        while self._unresolved:
            await asyncio.gather(*self._unresolved, return_exceptions=True)

    async def aclose(self, grace: float | None = None) -> None:
        """Wait at most ``grace`` seconds (default ``self.grace``) for queued deliveries,
        then stop the workers and close the sinks' own HTTP clients. Whatever is left (a
        receiver asking to wait longer, a dead URL) stays ``pending`` in the outbox."""
        grace = self.grace if grace is None else grace
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, grace)
        while self._unresolved and loop.time() < deadline:
            # nothing in flight and every retry due after the deadline: no point waiting
            waiting = [p for q in self._queues.values() for p in q]
            if not self._inflight and waiting and all(p.not_before > deadline for p in waiting):
                break
            # asyncio.wait, not wait_for: a timeout must not cancel the deliveries
            await asyncio.wait(
                set(self._unresolved), timeout=min(0.1, max(0.0, deadline - loop.time()))
            )
        left = sum(1 for f in self._unresolved if not f.done())
        if left:
            log.info("%d deliveries left in the outbox for the next start", left)
        for fut in list(self._unresolved):
            fut.cancel()
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        for sink in self.sinks:
            close = getattr(sink, "aclose", None)
            if close is not None:
                await close()

    def _kick(self, sink: Sink) -> None:
        key = id(sink)
        event = self._wakeups.setdefault(key, asyncio.Event())
        event.set()
        task = self._workers.get(key)
        if task is None or task.done():
            self._workers[key] = asyncio.create_task(
                self._worker(sink, event), name=f"deliver:{sink.name}"
            )

    async def _worker(self, sink: Sink, event: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues[id(sink)]
        while True:
            event.clear()
            now = loop.time()
            due = [p for p in queue if p.not_before <= now]
            if not due:
                if not queue:
                    await event.wait()
                    continue
                delay = min(p.not_before for p in queue) - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=max(0.0, delay))
                continue
            for p in due:
                queue.remove(p)
            await self._attempt(sink, due, loop.time(), queue)

    async def _attempt(
        self, sink: Sink, batch: list[_Pending], now: float, queue: list[_Pending]
    ) -> None:
        alerts = [p.alert for p in batch]
        self._inflight += 1
        try:
            results = await sink.deliver(alerts)
        except Exception as exc:  # a sink bug: record it, do not lose the worker
            error = one_line(redact(describe_error(exc), self._secrets))
            log.exception("sink %s raised: %s", sink.name, error)
            results = deliveries(alerts, sink.name, "failed", error=error, retryable=True)
        finally:
            self._inflight -= 1
        if self.fault is not None:
            self.fault("delivered")
        wall = self.clock()
        by_id = {d.alert_id: d for d in results}
        for p in batch:
            d = by_id.get(p.alert.id) or Delivery(
                alert_id=p.alert.id,
                channel=sink.name,
                status="failed",
                error="the sink reported nothing for this alert",
                retryable=True,
            )
            expired = (wall - p.born).total_seconds() >= self.give_up_after
            final = d.status == "sent" or not d.retryable or p.attempt > self.retries or expired
            status: DeliveryStatus = d.status if final or d.status == "sent" else "retrying"
            d = Delivery(
                alert_id=d.alert_id,
                channel=d.channel,
                status=status,
                attempt=p.attempt,
                http_status=d.http_status,
                vendor_code=d.vendor_code,
                error=one_line(redact(d.error, self._secrets)) if d.error else None,
                retryable=d.retryable,
                retry_after=d.retry_after,
            )
            self._record(d)
            if final:
                self._known.discard((p.alert.id, sink.name))
                if not p.done.done():
                    p.done.set_result(d)
                continue
            delay = min(self.max_backoff, self.backoff * 2 ** (p.attempt - 1))
            if d.retry_after is not None:
                delay = max(delay, min(d.retry_after, 3600.0))
            queue.append(_Pending(p.alert, p.attempt + 1, now + delay, p.done, p.born))

    def _record(self, d: Delivery) -> None:
        if d.status != "sent":
            log.warning(
                "delivery of alert %s to %s %s (attempt %d): %s",
                d.alert_id,
                d.channel,
                "will be retried" if d.status == "retrying" else "failed",
                d.attempt,
                d.error,
            )
        if self.ledger is None:
            return
        try:
            self.ledger(
                alert_id=d.alert_id,
                channel=d.channel,
                status=d.status,
                attempt=d.attempt,
                http_status=d.http_status,
                vendor_code=d.vendor_code,
                error=d.error,
            )
        except Exception:  # the ledger must never stop delivery
            log.exception("could not record a delivery of alert %s to %s", d.alert_id, d.channel)
