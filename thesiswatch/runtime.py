"""Wiring: build the sources, the scorer, the sinks and the pipeline from settings.

The daemon, the TUI's own poller and the CLI helpers all build their pipeline here, so the
two front ends run exactly the same core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from thesiswatch.config import Settings
from thesiswatch.feeds.models import Source

if TYPE_CHECKING:
    from thesiswatch.alerts.dispatch import Dispatcher
    from thesiswatch.feeds.fetch import Fetcher
    from thesiswatch.pipeline import CycleReport, Pipeline
    from thesiswatch.signals.sentiment import Scorer
    from thesiswatch.signals.watchlist import Watchlist
    from thesiswatch.store import Store


def resolve_sources(settings: Settings, watchlist: Watchlist) -> list[Source]:
    """The configured sources, or the built-in catalogue for the watchlist."""
    if settings.sources:
        return list(settings.sources)
    from thesiswatch.feeds.catalogue import builtin_sources

    return builtin_sources(
        watchlist.companies,
        rsshub_base=settings.fetch.rsshub_base,
        sec_contact=settings.fetch.sec_contact,
    )


def make_scorer(settings: Settings) -> Scorer:
    """The configured plug-in scorer, or the built-in bilingual one (loads lazily)."""
    from thesiswatch.signals.sentiment import default_scorer, load_scorer

    return load_scorer(settings.scorer_plugin) if settings.scorer_plugin else default_scorer()


def make_fetcher(settings: Settings) -> Fetcher:
    from thesiswatch.feeds.fetch import Fetcher, FetchSettings

    f = settings.fetch
    kwargs: dict[str, object] = {
        "total_timeout": f.timeout,
        "connect_timeout": f.connect_timeout,
        "max_bytes": f.max_bytes,
        "per_host_limit": f.per_host_limit,
        "adaptive": f.adaptive,
    }
    if f.user_agent:
        kwargs["user_agent"] = f.user_agent
    return Fetcher(settings=FetchSettings(**kwargs))  # type: ignore[arg-type]


def build_pipeline(
    settings: Settings,
    store: Store,
    watchlist: Watchlist,
    *,
    sources: Sequence[Source] | None = None,
    alerts_jsonl: Path | None = None,
    extra_sinks: Sequence[object] = (),
    clock: Callable[[], datetime] | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
) -> Pipeline:
    """Everything the poller needs, wired once."""
    from thesiswatch.alerts import RuleSettings
    from thesiswatch.pipeline import Pipeline, utcnow
    from thesiswatch.signals.tagger import Tagger

    dispatcher = make_dispatcher(
        settings, store, alerts_jsonl=alerts_jsonl, extra_sinks=extra_sinks
    )
    return Pipeline(
        sources=list(sources) if sources is not None else resolve_sources(settings, watchlist),
        store=store,
        fetcher=make_fetcher(settings),
        tagger=Tagger(watchlist, make_scorer(settings)),
        dispatcher=dispatcher,
        rule_settings=RuleSettings.from_config(settings.rules),
        clock=clock or utcnow,
        on_cycle=on_cycle,
    )


def make_dispatcher(
    settings: Settings,
    store: Store,
    *,
    alerts_jsonl: Path | None = None,
    extra_sinks: Sequence[object] = (),
) -> Dispatcher | None:
    """The configured sinks behind one non-blocking dispatcher (retries run in the
    background, so a slow webhook never holds up polling); None when there are no sinks."""
    from thesiswatch.alerts.dispatch import Dispatcher
    from thesiswatch.alerts.sinks import build_sinks, dispatcher_options

    origin = str(settings.config_path) if settings.config_path else "config"
    sinks = [
        *build_sinks(
            settings.alerts,
            jsonl_override=alerts_jsonl,
            base_dir=_config_dir(settings),
            origin=origin,
        ),
        *extra_sinks,
    ]
    if not sinks:
        return None
    options = dispatcher_options(settings.alerts, origin=origin)
    return Dispatcher(sinks, ledger=store.record_delivery, wait=False, **options)  # type: ignore[arg-type]


def _config_dir(settings: Settings) -> Path | None:
    return settings.config_path.parent if settings.config_path else None
