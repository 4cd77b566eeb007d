"""The one core pipeline behind both front ends (the daemon and the TUI's poller).

fetch (feeds.fetch) -> tag (signals.tagger, off the event loop) -> cluster -> store ->
rules (thesiswatch.alerts) -> store alerts and their outbox rows -> sinks.

Items, the alerts raised from them and one outbox row per (alert, destination) are written in
one transaction: a crash before its commit loses all three (the next poll finds the items new
and raises the alerts), a crash after it loses nothing (the outbox rows still pending are sent
at the next start, ``resume_outbox``). No crash point loses or duplicates an alert.

Each source is processed as soon as its response arrives (with any others that arrive within
``COALESCE_SECONDS``, in one transaction), so one slow source never delays another source's
alerts. Store writes happen on the event loop's thread (they are short, batched
transactions); the health of a cycle's polls is written once, at its end; tagging, which may
load snownlp and is CPU-bound, runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from thesiswatch.alerts import NewItem, RuleSettings, evaluate, read_history
from thesiswatch.alerts.dispatch import Dispatcher
from thesiswatch.feeds.fetch import Fetcher
from thesiswatch.feeds.models import FetchOutcome, FetchState, Item, Source
from thesiswatch.records import Alert
from thesiswatch.signals.cluster import StoryClusterer, story_events
from thesiswatch.signals.models import Tags
from thesiswatch.signals.tagger import Tagger
from thesiswatch.store import Store

log = logging.getLogger("thesiswatch.pipeline")


COALESCE_SECONDS = 0.25
"""How long the pipeline waits for more answers to store with one that arrived (see
``Pipeline.poll_once``)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class SourceReport:
    """What one poll of one source did, for the one-line summary."""

    source: Source
    status: str  # ok | not_modified | failed
    new_items: int = 0
    updated_items: int = 0
    seen_items: int = 0
    http_status: int | None = None
    error: str | None = None
    latency: float = 0.0

    def line(self) -> str:
        name = self.source.name
        if self.status == "failed":
            return f"failed        {name}: {self.error}"
        if self.status == "not_modified":
            return f"not modified  {name}"
        return (
            f"ok            {name}: {self.new_items} new, {self.updated_items} updated, "
            f"{self.seen_items} seen ({self.latency:.2f} s)"
        )


@dataclass(kw_only=True)
class CycleReport:
    """What one poll cycle did."""

    started: datetime
    finished: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    stories: int = 0  # items in the story clusterer's window after the cycle (its memory)

    @property
    def new_items(self) -> int:
        return sum(s.new_items for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.sources if s.status == "failed")


class Pipeline:
    """Poll sources, tag, store, alert. Inject every dependency (tests pass fakes/loopback)."""

    def __init__(
        self,
        *,
        sources: Sequence[Source],
        store: Store,
        fetcher: Fetcher,
        tagger: Tagger,
        dispatcher: Dispatcher | None = None,
        rule_settings: RuleSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_cycle: Callable[[CycleReport], None] | None = None,
        coalesce: float = COALESCE_SECONDS,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.sources = list(sources)
        self.store = store
        self.fetcher = fetcher
        self.tagger = tagger
        self.dispatcher = dispatcher
        self.rule_settings = rule_settings or RuleSettings()
        self.clock = clock
        self.on_cycle = on_cycle
        self.coalesce = coalesce
        self.fault = fault  # fault injection (tests): called at "items", "alerts", "committed"
        self.clusterer = StoryClusterer()
        self._wake = asyncio.Event()
        self._wake_ids: set[str] | None = None
        self._write_lock = asyncio.Lock()
        self._health: list[FetchOutcome] = []  # this cycle's polls, written at its end
        self.polling = False
        store.sync_sources(self.sources)
        self._load_recent_stories()

    # -- public API ---------------------------------------------------------------------

    def wake(self, source_ids: Sequence[str] | None = None) -> None:
        """Poll now: every source (None) or the given ones, without waiting for their time."""
        if source_ids is None:
            self._wake_ids = None
        else:
            self._wake_ids = (self._wake_ids or set()) | set(source_ids)
        self._wake.set()

    async def aclose(self, grace: float | None = None) -> None:
        """Deliver alerts still queued for at most ``grace`` seconds (default: the
        dispatcher's), leaving the rest in the outbox, then close the HTTP client."""
        try:
            if self.dispatcher is not None:
                await self.dispatcher.aclose(grace)
        finally:
            await self.fetcher.aclose()

    async def resume_outbox(self) -> int:
        """Send the outbox's pending rows (a restart, a reload): rows of destinations no
        longer configured are dropped with a log line; returns how many were queued."""
        keep = self.dispatcher.destinations if self.dispatcher is not None else []
        async with self._write_lock:
            dropped = self.store.drop_outbox(keep)
        for destination, count in sorted(dropped.items()):
            log.warning(
                "outbox.dropped destination=%s rows=%d (no longer configured)", destination, count
            )
        if self.dispatcher is None:
            return 0
        return await self.dispatcher.resume(self.store.outbox(destinations=keep))

    def replace_sources(self, sources: Sequence[Source]) -> None:
        """Swap the source list (config reload); health history is kept by source id."""
        self.sources = list(sources)
        self.store.sync_sources(self.sources)
        self.wake()

    async def poll_once(
        self, *, only: set[str] | None = None, stop: asyncio.Event | None = None
    ) -> CycleReport:
        """Poll every source (or those in ``only``) once, concurrently; return the report."""
        report = CycleReport(started=self.clock())
        states = self.store.fetch_states()
        chosen = [s for s in self.sources if only is None or s.id in only]
        self.polling = True
        try:
            tasks: dict[asyncio.Future[Any], Source] = {
                asyncio.create_task(
                    self.fetcher.fetch(self._effective(s, states), states.get(s.id))
                ): s
                for s in chosen
            }
            pending: set[asyncio.Future[Any]] = set(tasks)
            stop_task: asyncio.Future[Any] | None = (
                asyncio.ensure_future(stop.wait()) if stop is not None else None
            )
            try:
                while pending:
                    waitset = pending | {stop_task} if stop_task is not None else pending
                    done, _ = await asyncio.wait(waitset, return_when=asyncio.FIRST_COMPLETED)
                    ready = [task for task in done if task is not stop_task]
                    if ready and len(ready) < len(pending) and self.coalesce > 0:
                        # Answers that arrive right behind are stored with these in one
                        # transaction: a commit per source was most of the daemon's disk
                        # writes, and this costs at most `coalesce` seconds of latency.
                        more, _ = await asyncio.wait(pending - set(ready), timeout=self.coalesce)
                        ready.extend(more)
                    pending.difference_update(ready)
                    if ready:
                        report.sources.extend(
                            await self._process([(tasks[t], t.result()) for t in ready], report)
                        )
                    if stop_task is not None and stop_task.done():
                        break
            finally:
                for task in pending:
                    task.cancel()
                if stop_task is not None:
                    stop_task.cancel()
                await self._flush_health()
        finally:
            self.polling = False
        report.finished = self.clock()
        report.stories = len(self.clusterer)
        if self.on_cycle is not None:
            self.on_cycle(report)
        return report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll each source when it is due until ``stop`` is set; finish writes in progress."""
        while not stop.is_set():
            due, delay = self._schedule()
            if due:
                await self.poll_once(only=due, stop=stop)
                continue
            self._wake.clear()
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
            if self._wake.is_set() and not stop.is_set():
                ids = self._wake_ids
                self._wake_ids = None
                self._wake.clear()
                await self.poll_once(only=None if ids is None else ids & self._ids(), stop=stop)

    # -- internals ----------------------------------------------------------------------

    def _ids(self) -> set[str]:
        return {s.id for s in self.sources}

    @staticmethod
    def _effective(source: Source, states: dict[str, FetchState]) -> Source:
        """Use the URL a permanent redirect moved the source to."""
        state = states.get(source.id)
        if state is not None and state.url and state.url != source.url:
            return replace(source, url=state.url)
        return source

    def _schedule(self) -> tuple[set[str], float]:
        """The sources due now, and how long until the next one is (one read of the store)."""
        now = self.clock()
        states = self.store.fetch_states()
        due: set[str] = set()
        wait = 3600.0
        for s in self.sources:
            st = states.get(s.id)
            if st is None or st.next_poll is None or st.next_poll <= now:
                due.add(s.id)
            else:
                wait = min(wait, (st.next_poll - now).total_seconds())
        return due, max(0.05, wait)

    def _fallback_next_poll(self, source: Source) -> datetime:
        jitter = random.uniform(0, 0.1) * source.interval
        return self.clock() + timedelta(seconds=source.interval + jitter)

    def _tag_all(self, items: Sequence[Item], lang_hint: str | None) -> list[tuple[Item, Tags]]:
        return [(it, self.tagger.tag(it.title, it.summary, it.lang or lang_hint)) for it in items]

    async def _process(
        self, answers: Sequence[tuple[Source, FetchOutcome]], report: CycleReport
    ) -> list[SourceReport]:
        """Tag, cluster and store the items of several sources' answers in one transaction,
        raise their alerts, and queue their health for the end of the cycle."""
        outcomes = [
            (s, o if o.next_poll is not None else replace(o, next_poll=self._fallback_next_poll(s)))
            for s, o in answers
        ]
        jobs = [(s, o.items) for s, o in outcomes if o.status == "ok" and o.items]
        tagged: list[list[tuple[Item, Tags]]] = []
        if jobs:
            tagged = await asyncio.to_thread(
                lambda: [self._tag_all(items, source.lang) for source, items in jobs]
            )
        counts: dict[str, list[int]] = {}  # source id -> [new, updated, seen]
        raised: list[Alert] = []
        async with self._write_lock:
            if jobs:
                # Items, their alerts and the alerts' outbox rows commit together (no await
                # inside the transaction).
                with self.store.transaction(check_foreign_keys=False):
                    raised = self._store_batch(jobs, tagged, counts)
                    self._fault("alerts")
                self._fault("committed")
                report.alerts.extend(raised)
            # Health and validators (ETag, next poll) of every source are written together at
            # the end of the cycle: one commit instead of one per source. Killed before that,
            # the next poll refetches without the new ETag and finds the items already stored.
            self._health.extend(o for _, o in outcomes)
        if raised and self.dispatcher is not None:
            await self.dispatcher.dispatch(raised)
        reports = []
        for source, outcome in outcomes:
            new, updated, seen = counts.get(source.id, (0, 0, 0))
            reports.append(
                SourceReport(
                    source=source,
                    status=outcome.status,
                    new_items=new,
                    updated_items=updated,
                    seen_items=seen,
                    http_status=outcome.http_status,
                    error=outcome.error,
                    latency=outcome.latency,
                )
            )
        return reports

    def _store_batch(
        self,
        jobs: Sequence[tuple[Source, Sequence[Item]]],
        tagged: list[list[tuple[Item, Tags]]],
        counts: dict[str, list[int]],
    ) -> list[Alert]:
        """Store a tagged batch and raise its alerts (inside the caller's transaction)."""
        batch = [
            (source, it, tags, self._cluster(it, tags))
            for (source, _), pairs in zip(jobs, tagged, strict=True)
            for it, tags in pairs
        ]
        result = self.store.save_items(
            [(it, tags) for _, it, tags, _ in batch],
            clusters={it.id: cid for _, it, _, cid in batch},
            novelty={it.id: self.clusterer.novelty(it.id) for _, it, _, _ in batch},
        )
        new_ids, updated_ids = set(result.new), set(result.updated)
        fresh: list[NewItem] = []
        for source, it, tags, cid in batch:
            # the first source to carry a new (or edited) item in this batch gets it;
            # the others have seen it
            tally = counts.setdefault(source.id, [0, 0, 0])
            if it.id in new_ids:
                new_ids.discard(it.id)
                tally[0] += 1
                fresh.append(
                    NewItem(
                        id=it.id,
                        title=it.title,
                        summary=it.summary or "",
                        url=it.url,
                        source=source.name,
                        lang=tags.lang,
                        published=it.published or it.fetched or self.clock(),
                        tags=tags,
                        cluster_id=cid,
                    )
                )
            elif it.id in updated_ids:
                updated_ids.discard(it.id)
                tally[1] += 1
            else:
                tally[2] += 1
        self._fault("items")
        return self._raise(fresh) if fresh else []

    async def _flush_health(self) -> None:
        """Write the health of the cycle's polls in one transaction (one commit per source
        made most of the daemon's disk writes)."""
        if not self._health:
            return
        outcomes, self._health = self._health, []
        async with self._write_lock:
            self.store.record_fetches(outcomes)

    def _cluster(self, item: Item, tags: Tags) -> str:
        return self.clusterer.assign(
            item.id,
            item.title,
            lang=tags.lang,
            tickers=tuple(tags.ticker_ids),
            published=item.published or item.fetched or self.clock(),
            events=story_events(tags),
        )

    def _load_recent_stories(self) -> None:
        since = self.clock() - self.clusterer.window
        self.clusterer.load(self.store.recent_stories(since=since))

    def _raise(self, fresh: list[NewItem]) -> list[Alert]:
        """Evaluate the rules over the new items and store the alerts with their outbox rows
        (inside the items' transaction); return the alerts not raised before."""
        now = self.clock()
        history = read_history(self.store, now=now, settings=self.rule_settings)
        alerts = evaluate(fresh, history, self.rule_settings, now=now)
        if not alerts:
            return []
        destinations = self.dispatcher.destinations if self.dispatcher is not None else []
        return self.store.save_alerts(alerts, destinations=destinations)

    def _fault(self, point: str) -> None:
        if self.fault is not None:
            self.fault(point)
