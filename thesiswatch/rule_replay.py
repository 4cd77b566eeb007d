"""``thesiswatch rules test``: replay the configured rules over stored history.

Answers "what would this rule have fired over the last N days?" before a user trusts it
(the test button Miniflux and TrendRadar users ask for). Nothing is written. The replay clocks
cooldowns by item time (poll-sized batches), so what it prints is what a daemon running over
those days would have raised; ``--format jsonl`` prints each would-be alert as its alert JSON
(with ``item_ids``), as the JSON Lines sink writes it.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from thesiswatch.errors import ConfigError
from thesiswatch.output import alert_line

if TYPE_CHECKING:
    from thesiswatch.session import Session

MAX_ITEMS = 200_000
BUILTIN = ("event", "thesis", "risk", "spike", "drift")


def replay_rules(
    session: Session,
    out: TextIO,
    *,
    days: int | None = None,
    since: datetime | None = None,
    rule_name: str | None = None,
    fmt: str = "text",
    err: TextIO | None = None,
) -> None:
    from thesiswatch.alerts import RENAMED_RULES, NewItem, RuleSettings, replay
    from thesiswatch.alerts.format import alert_json

    if days is not None and since is not None:
        raise ConfigError("rules test: give --days or --since, not both")
    if days is not None and days < 1:
        raise ConfigError("rules test: --days must be at least 1")
    settings = session.settings()
    rule_settings = RuleSettings.from_config(settings.rules)
    for note in rule_settings.notes:
        print(f"note: {note}", file=err or sys.stderr)
    rules = None
    wanted = rule_name
    if rule_name is not None:
        names = [k.name for k in rule_settings.keywords]
        base, sep, rest = rule_name.partition(":")
        base = RENAMED_RULES.get(base, base)
        wanted = base + sep + rest
        if rule_name in names:
            rules, wanted = ["keyword"], f"keyword:{rule_name}"
        elif base in BUILTIN:
            rules = [base]
        else:
            known = ", ".join([*BUILTIN, *names])
            raise ConfigError(f"rules test: no rule named {rule_name!r} (configured: {known})")
    now = datetime.now(UTC)
    start = since if since is not None else now - timedelta(days=days or 7)
    with session.open_store(readonly=True) as store:
        stored = store.items(since=start, limit=MAX_ITEMS)
    items = [NewItem.from_stored(s) for s in stored]
    alerts = replay(items, rule_settings, rules=rules)
    if wanted is not None and (":" in wanted or wanted.startswith("keyword")):
        alerts = [a for a in alerts if a.rule == wanted]
    if fmt == "jsonl":
        for a in alerts:
            out.write(alert_json(a) + "\n")
        return
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a.rule] = counts.get(a.rule, 0) + 1
    span = (
        f"since {start.isoformat(timespec='minutes')}" if since else f"of the last {days or 7} days"
    )
    out.write(f"Replayed {len(items)} items {span}: {len(alerts)} alerts would have fired.\n")
    for rule, n in sorted(counts.items()):
        out.write(f"  {rule:<28} {n}\n")
    for a in alerts:
        out.write(alert_line(a) + "\n")
