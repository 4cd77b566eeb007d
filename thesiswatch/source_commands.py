"""``thesiswatch sources ...``: list with health, check now, OPML import/export."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from thesiswatch.output import write_query

if TYPE_CHECKING:
    from thesiswatch.session import Session


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    secs = int((now - when).total_seconds())
    if secs < 0:
        return f"in {_span(-secs)}"
    return f"{_span(secs)} ago"


def _span(secs: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def list_sources(session: Session, out: TextIO, fmt: str) -> None:
    from thesiswatch.runtime import resolve_sources
    from thesiswatch.store import poll_overdue

    settings = session.settings()
    sources = resolve_sources(settings, session.load_watchlist())
    states = {}
    if settings.db_path.exists():
        from thesiswatch.store import Store

        with Store.open(settings.db_path, readonly=True) as store:
            states = store.fetch_states()
    now = datetime.now(UTC)
    rows = []
    for s in sources:
        st = states.get(s.id)
        if st is None:
            status = "new"
        elif poll_overdue(st.last_attempt, st.next_poll, st.interval or s.interval, now):
            status = "overdue"  # nobody polls it: is the daemon running?
        elif st.consecutive_failures:
            status = f"failing x{st.consecutive_failures}"
        else:
            status = "ok"
        rows.append(
            {
                "id": s.id,
                "name": s.name,
                "status": status,
                "last_success": st.last_success.isoformat() if st and st.last_success else None,
                "last_error": st.last_error if st else None,
                "next_poll": st.next_poll.isoformat() if st and st.next_poll else None,
                "interval": s.interval,
                "url": s.url,
                "_ok": _ago(st.last_success if st else None, now),
                "_next": _ago(st.next_poll if st else None, now) if st else "now",
            }
        )
    if fmt == "json":
        for r in rows:
            out.write(
                json.dumps(
                    {k: v for k, v in r.items() if not k.startswith("_")}, ensure_ascii=False
                )
                + "\n"
            )
        return
    write_query(
        ["status", "name", "last ok", "next poll", "last error"],
        [(r["status"], r["name"], r["_ok"], r["_next"], r["last_error"] or "") for r in rows],
        out,
        "table",
    )


def check_sources(session: Session, out: TextIO, *, timeout: float) -> int:
    """Probe every source once (stores nothing); print one line each. Exit 0 if all ok."""
    from thesiswatch.feeds.fetch import Fetcher, FetchSettings
    from thesiswatch.runtime import resolve_sources

    settings = session.settings()
    sources = resolve_sources(settings, session.load_watchlist())

    async def probe() -> list[tuple[str, str]]:
        fetcher = Fetcher(settings=FetchSettings(total_timeout=timeout))
        try:
            outcomes = await asyncio.gather(*(fetcher.fetch(s, None) for s in sources))
        finally:
            await fetcher.aclose()
        lines = []
        for s, o in zip(sources, outcomes, strict=True):
            if o.status == "failed":
                lines.append(("failed", f"failed  {s.name}: {o.error}"))
            else:
                lines.append(
                    (
                        "ok",
                        f"ok      {s.name}: {len(o.items)} entries, HTTP {o.http_status}, {o.latency:.2f} s",
                    )
                )
        return lines

    results = asyncio.run(probe())
    for _, line in results:
        out.write(line + "\n")
    failed = sum(1 for status, _ in results if status == "failed")
    out.write(f"{len(results)} sources checked: {len(results) - failed} ok, {failed} failed\n")
    return 0 if failed == 0 else 1


def import_opml(path: Path, out: TextIO) -> None:
    from thesiswatch.errors import ConfigError
    from thesiswatch.feeds.opml import read_opml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read OPML file: {exc}") from exc
    sources = read_opml(text)
    out.write(f"# {len(sources)} sources imported from {path.name}; append to your config file\n")
    for s in sources:
        out.write("\n[[sources]]\n")
        out.write(f"name = {json.dumps(s.name, ensure_ascii=False)}\n")
        out.write(f"url = {json.dumps(s.url)}\n")
        if s.lang:
            out.write(f'lang = "{s.lang}"\n')


def export_opml(session: Session, out: TextIO) -> None:
    from thesiswatch.feeds.opml import write_opml
    from thesiswatch.runtime import resolve_sources

    out.write(write_opml(resolve_sources(session.settings(), session.load_watchlist())))
