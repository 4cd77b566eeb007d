"""The pipeline stores the answers of sources that arrive together in one transaction, and
still reports each source's own new / seen items and raises each story's alert once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conftest import FixtureServer
from thesiswatch.config import load_settings
from thesiswatch.feeds.models import Source
from thesiswatch.pipeline import CycleReport
from thesiswatch.runtime import build_pipeline
from thesiswatch.store import Store
from thesiswatch.watchlists import load_watchlist


def rss(entries: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link></item>" for title, link in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://wire.example.com/</link>{items}</channel></rss>"
    ).encode()


SHARED = ("Nvidia shares plunge 17% as DeepSeek rattles the AI trade", "https://wire.example.com/a")


def test_answers_arriving_together_are_stored_in_one_transaction(
    tmp_path: Path, feed_server: FixtureServer
) -> None:
    xml = "application/rss+xml"
    feed_server.overrides["one.xml"] = (
        200,
        xml,
        rss([SHARED, ("TSMC raises its capex plan", "https://wire.example.com/b")]),
    )
    feed_server.overrides["two.xml"] = (
        200,
        xml,
        rss([SHARED, ("小米汽车交付量创新高", "https://wire.example.com/c")]),
    )
    sources = [
        Source(name="One", url=feed_server.url("one.xml"), interval=600),
        Source(name="Two", url=feed_server.url("two.xml"), interval=600),
    ]
    store = Store.open(tmp_path / "tw.db")
    saves: list[int] = []
    real_save = store.save_items

    def counting_save(batch: Sequence[Any], **kwargs: Any) -> Any:
        saves.append(len(batch))
        return real_save(batch, **kwargs)

    store.save_items = counting_save  # type: ignore[method-assign]
    settings = load_settings(db_path=tmp_path / "tw.db", env={})
    pipeline = build_pipeline(settings, store, load_watchlist(), sources=sources)
    pipeline.coalesce = 5.0  # generous: the wait ends as soon as both have answered

    async def cycle() -> CycleReport:
        try:
            return await pipeline.poll_once()
        finally:
            await pipeline.aclose()

    report = asyncio.run(cycle())
    assert saves == [4]  # both answers, one transaction
    by_name = {s.source.name: s for s in report.sources}
    # the story both carried is new for one of them and seen by the other
    assert by_name["One"].new_items + by_name["Two"].new_items == 3
    assert by_name["One"].seen_items + by_name["Two"].seen_items == 1
    assert len(store.items()) == 3
    shared = next(i for i in store.items() if i.title == SHARED[0])
    assert set(shared.sources) == {"One", "Two"}
    plunge_alerts = [a for a in store.alerts(include_hidden=True) if a.title == SHARED[0]]
    assert len(plunge_alerts) == len(
        {a.rule for a in plunge_alerts}
    )  # one per rule, not per source
    # health of both polls was written at the end of the cycle
    _, rows = store.query("SELECT count(*) FROM fetch_log")
    assert rows == [(2,)]
    store.close()
