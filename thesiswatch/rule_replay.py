"""``thesiswatch rules test``: replay the configured rules over stored history.

Answers "what would this rule have fired over the last N days?" before a user trusts it
(the test button Miniflux and TrendRadar users ask for). Nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from thesiswatch.errors import ConfigError
from thesiswatch.output import alert_line

if TYPE_CHECKING:
    from thesiswatch.session import Session

MAX_ITEMS = 200_000


def replay_rules(session: Session, out: TextIO, *, days: int, rule_name: str | None) -> None:
    from thesiswatch.alerts import NewItem, RuleSettings, replay

    if days < 1:
        raise ConfigError("rules test: --days must be at least 1")
    settings = session.settings()
    rule_settings = RuleSettings.from_config(settings.rules)
    rules = None
    if rule_name is not None:
        names = [k.name for k in rule_settings.keywords]
        builtin = ["shock", "thesis", "risk", "spike", "drift"]
        if rule_name not in names and rule_name not in builtin:
            known = ", ".join(builtin + names)
            raise ConfigError(f"rules test: no rule named {rule_name!r} (configured: {known})")
        rules = ["keyword"] if rule_name in names else [rule_name]
    since = datetime.now(UTC) - timedelta(days=days)
    with session.open_store(readonly=True) as store:
        stored = store.items(since=since, limit=MAX_ITEMS)
    items = [NewItem.from_stored(s) for s in stored]
    alerts = replay(items, rule_settings, rules=rules)
    if rule_name is not None and rules == ["keyword"]:
        alerts = [a for a in alerts if a.rule == f"keyword:{rule_name}"]
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a.rule] = counts.get(a.rule, 0) + 1
    out.write(
        f"Replayed {len(items)} items of the last {days} days: {len(alerts)} alerts would have fired.\n"
    )
    for rule, n in sorted(counts.items()):
        out.write(f"  {rule:<20} {n}\n")
    for a in alerts:
        out.write(alert_line(a) + "\n")
