"""``thesiswatch tag``: JSON Lines in, tagged JSON Lines out (the DESIGN.md item contract)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from thesiswatch.config import Settings
from thesiswatch.runtime import make_scorer
from thesiswatch.signals.watchlist import Watchlist


def _published(value: object) -> datetime | None:
    """The record's ``published`` time, when it is an ISO-8601 string (else none)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def tag_stream(
    inp: TextIO, out: TextIO, watchlist: Watchlist, settings: Settings, *, pretty: bool = False
) -> int:
    """Tag every line of ``inp``; a bad line is reported on stderr (with its line number) and
    skipped. Returns the number of bad lines."""
    from thesiswatch.signals.cluster import StoryClusterer, story_events
    from thesiswatch.signals.tagger import Tagger

    tagger = Tagger(watchlist, make_scorer(settings))
    stories = StoryClusterer()  # novelty within the input stream
    errors = 0
    for lineno, line in enumerate(inp, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            print(
                f"thesiswatch: error: stdin line {lineno}: not valid JSON ({exc.msg})",
                file=sys.stderr,
            )
            errors += 1
            continue
        if not isinstance(record, dict) or not isinstance(record.get("title"), str):
            print(
                f'thesiswatch: error: stdin line {lineno}: needs a "title" string', file=sys.stderr
            )
            errors += 1
            continue
        summary = record["summary"] if isinstance(record.get("summary"), str) else ""
        lang = record["lang"] if record.get("lang") in ("zh", "en") else None
        tags = tagger.tag(record["title"], summary, lang)
        item_id = str(record.get("id") or f"line {lineno}")
        stories.assign(
            item_id,
            record["title"],
            lang=tags.lang,
            tickers=tuple(tags.ticker_ids),
            published=_published(record.get("published")),
            events=story_events(tags),
        )
        record.update(tags.to_dict())
        record["novelty"] = stories.novelty(item_id)
        record["sentiment"]["evidence"] = list(tags.sentiment.evidence)
        out.write(json.dumps(record, ensure_ascii=False, indent=1 if pretty else None) + "\n")
        out.flush()
    return errors
