"""Fixture-feed builders and a fixed clock for the feeds tests (our own writing)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TypeVar

from thesiswatch.feeds.fetch import Fetcher, FetchSettings

T = TypeVar("T")

NOW = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


def settings(**overrides: object) -> FetchSettings:
    """Small, test-friendly settings: no jitter, no spacing, short timeouts."""
    base: dict[str, object] = {
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
        "per_host_spacing": 0.0,
        "per_host_limit": 8,
        "jitter": 0.0,
        "parse_in_thread": False,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


def fetcher(**overrides: object) -> Fetcher:
    return Fetcher(settings=settings(**overrides), clock=clock, rng=random.Random(7))


def rss(
    items: int = 3,
    *,
    title: str = "Example feed",
    prefix: str = "https://news.example.com/story",
    encoding: str | None = "utf-8",
    newest: datetime = NOW - timedelta(minutes=5),
    gap: timedelta = timedelta(minutes=10),
    item_title: str = "Story {n}",
    ttl: int | None = None,
) -> str:
    """An RSS 2.0 document as text (encode it as you like)."""
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    entries = []
    for n in range(items):
        when = format_datetime(newest - n * gap, usegmt=True)
        entries.append(
            f"<item><title>{item_title.format(n=n)}</title><link>{prefix}/{n}?utm_source=rss</link>"
            f'<guid isPermaLink="false">id-{n}</guid><pubDate>{when}</pubDate>'
            f"<description>&lt;p&gt;Summary {n}&lt;/p&gt;</description></item>"
        )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'{decl}<rss version="2.0"><channel><title>{title}</title><link>https://news.example.com/</link>'
        f"{ttl_tag}{''.join(entries)}</channel></rss>"
    )


RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
