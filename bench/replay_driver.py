"""Run inside a code tree (the working tree or a baseline worktree) by bench/alerts.py.

Reads ``{"items": [...], "rules": {...}, "cooldowns": "off"|"shipped", "burst": false}`` from
stdin and replays the items through that tree's real pipeline, as a daemon would have seen
them: every source is polled every 10 minutes on a simulated clock, and a poll returns the
items the source published since its last poll. With ``burst`` the first poll comes after the
last item, so one poll sees everything (a first ``daemon --once`` over a backlog). Tagging, story clustering, the store, the rule history and
the rules are the tree's own; only the network (a fake fetcher) and the clock are replaced.
Prints the raised alerts as one JSON array on stdout.

Written against the app-level API (``load_settings``, ``build_pipeline``, ``Store.open``),
which the baseline commit and the working tree share; import paths that moved are tried in
order.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

POLL = timedelta(minutes=10)


ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else None
"""The code tree being replayed: a module imported from anywhere else (an editable install of
another checkout maps ``thesiswatch.*`` names too) does not count."""


def _first(*names: str) -> Any:
    """The first ``module:attr`` of ``names`` importable from the tree being replayed."""
    errors = []
    for name in names:
        module, _, attr = name.partition(":")
        try:
            loaded = importlib.import_module(module)
            where = Path(getattr(loaded, "__file__", None) or "/").resolve()
            if ROOT is not None and not where.is_relative_to(ROOT):
                raise ImportError(f"{module} comes from {where}, not {ROOT}")
            return getattr(loaded, attr)
        except (ImportError, AttributeError) as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("; ".join(errors))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class ReplayFetcher:
    """Answers a poll with the items its source published since the previous poll."""

    def __init__(self, outcome_type: Any, item_type: Any, clock: Any) -> None:
        self.outcome_type, self.item_type, self.clock = outcome_type, item_type, clock
        self.queue: dict[str, list[dict[str, Any]]] = {}

    async def fetch(self, source: Any, state: Any) -> Any:
        now = self.clock()
        due = [r for r in self.queue.get(source.id, []) if _when(r["published"]) <= now]
        self.queue[source.id] = [r for r in self.queue.get(source.id, []) if r not in due]
        items = tuple(
            self.item_type(
                id=r["id"],
                source_id=source.id,
                title=r["title"],
                summary=r["summary"],
                url=f"http://127.0.0.1:9/item/{r['id']}",
                published=_when(r["published"]),
                fetched=now,
            )
            for r in due
        )
        return self.outcome_type(
            source_id=source.id, status="ok", items=items, http_status=200,
            next_poll=now + POLL, started=now, items_seen=len(items),
        )  # fmt: skip

    async def aclose(self) -> None:
        return None


async def replay(request: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
    load_settings = _first("thesiswatch.config:load_settings")
    build_pipeline = _first("thesiswatch.runtime:build_pipeline")
    load_watchlist = _first(
        "thesiswatch.watchlists:load_watchlist", "thesiswatch.watchlist:load_watchlist"
    )
    store_cls = _first("thesiswatch.store:Store", "store:Store")
    source_cls = _first("thesiswatch.feeds.models:Source", "feeds.models:Source")
    item_cls = _first("thesiswatch.feeds.models:Item", "feeds.models:Item")
    outcome_cls = _first("thesiswatch.feeds.models:FetchOutcome", "feeds.models:FetchOutcome")
    rule_names = _first(
        "thesiswatch.alerts.rules:RULES", "thesiswatch.alerts.settings:RULES", "signals.rules:RULES"
    )

    rules = dict(request.get("rules") or {})
    if request.get("cooldowns") == "off":
        rules["cooldown_minutes"] = {name: 0 for name in rule_names}
    config = workdir / "config.toml"
    config.write_text(_toml_rules(rules), encoding="utf-8")
    settings = load_settings(config, workdir / "replay.db")
    items = sorted(request["items"], key=lambda r: r["published"])
    sources = {}
    for r in items:
        if r["source"] not in sources:
            url = f"http://127.0.0.1:9/feed/{len(sources)}"
            sources[r["source"]] = source_cls(name=r["source"], url=url, interval=600)
    start = _when(items[-1 if request.get("burst") else 0]["published"])
    start = start.replace(minute=0, second=0, microsecond=0) + (
        POLL if request.get("burst") else timedelta()
    )
    now = [start]
    fetcher = ReplayFetcher(outcome_cls, item_cls, lambda: now[0])
    for r in items:
        fetcher.queue.setdefault(sources[r["source"]].id, []).append(r)
    raised: list[dict[str, Any]] = []
    with store_cls.open(workdir / "replay.db") as store:
        pipeline = build_pipeline(
            settings, store, load_watchlist(None), sources=list(sources.values()),
            clock=lambda: now[0],
        )  # fmt: skip
        pipeline.fetcher = fetcher
        pipeline.coalesce = 0
        end = _when(items[-1]["published"]) + POLL
        while now[0] <= end:
            due = {
                sid for sid, q in fetcher.queue.items() if q and _when(q[0]["published"]) <= now[0]
            }
            if due:
                report = await pipeline.poll_once(only=due)
                raised.extend(a.to_dict() for a in report.alerts)
            now[0] += POLL
        await pipeline.aclose()
    return raised


def _toml_rules(rules: dict[str, Any]) -> str:
    lines = ["[rules]"]
    tables = []
    for key, value in rules.items():
        if isinstance(value, dict):
            tables.append(
                f"[rules.{key}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in value.items())
            )
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n" + "\n".join(tables)


def main() -> int:
    request = json.loads(sys.stdin.read())
    with tempfile.TemporaryDirectory(prefix="tw-replay-") as tmp:
        alerts = asyncio.run(replay(request, Path(tmp)))
    json.dump(alerts, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
