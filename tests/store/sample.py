"""Sample data for store tests: items, tags and alerts at fixed times (no wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thesiswatch.feeds.models import Item, Source
from thesiswatch.records import Alert
from thesiswatch.signals.models import Sentiment, Tags, ThesisStance, TickerMention

T0 = datetime(2025, 1, 27, 14, 30, tzinfo=UTC)
SRC_A = Source(name="Wire A", url="https://a.example/rss")
SRC_B = Source(name="Wire B", url="https://b.example/rss")


def make_item(
    item_id: str,
    title: str,
    *,
    summary: str = "",
    source: Source = SRC_A,
    url: str | None = None,
    published: datetime | None = T0,
    fetched: datetime | None = None,
) -> Item:
    return Item(
        id=item_id,
        source_id=source.id,
        title=title,
        summary=summary,
        url=url if url is not None else f"https://news.example/{item_id}",
        published=published,
        fetched=fetched or (published or T0) + timedelta(minutes=5),
    )


def make_tags(
    *,
    lang: str = "en",
    tickers: tuple[str, ...] = (),
    theses: dict[str, str] | None = None,
    label: str = "neu",
    score: float = 0.0,
) -> Tags:
    return Tags(
        lang=lang,
        tickers=tuple(
            TickerMention(ticker=t, spans=((0, 3),), matched=(t.split(".")[0],)) for t in tickers
        ),
        theses=tuple(
            ThesisStance(thesis=k, stance=v, evidence=("because",))  # type: ignore[arg-type]
            for k, v in (theses or {}).items()
        ),
        sentiment=Sentiment(
            label=label,  # type: ignore[arg-type]
            score=score,
            evidence=("word",),
            scorer="test",
            version="1",
        ),
    )


def make_alert(
    alert_id: str,
    *,
    created: datetime = T0,
    rule: str = "thesis_challenge",
    tickers: tuple[str, ...] = ("NVDA.US",),
    thesis: str | None = "compute",
    item_ids: tuple[str, ...] = (),
) -> Alert:
    return Alert(
        id=alert_id,
        created=created.isoformat(timespec="seconds"),
        rule=rule,
        severity="warning",
        title=f"alert {alert_id}",
        message="why",
        url="https://news.example/x",
        tickers=tickers,
        thesis=thesis,
        stance="challenge" if thesis else None,
        item_ids=item_ids,
    )
