"""Alert quality on the frozen story set: the real rules replayed over 30 days of stories.

    python bench/alerts.py [--half test|dev] [--baseline REV | --no-baseline]

Replays one half of bench/data/stories.jsonl (default: test) through the real pipeline of the
working tree and of the baseline commit (bench/replay_driver.py: tagging, story clustering,
store, rule history and rules; a simulated clock polls every source every 10 minutes and
each poll returns what the source published since the last), three times: with every cooldown
off (the rules' judgement alone), as shipped, and as shipped in one burst (a single poll sees
every item, as a first ``daemon --once`` over a backlog would). Prints, per run:

- alert precision over stories: stories named by an alert that deserve one / stories named
  that are labelled `alert` or `quiet` (`either` counts neither way);
- alert recall: stories labelled `alert` that some alert names / stories labelled `alert`;
- alerts per 100 stories, stories alerted more than once, schedule/procedure stories alerted;
- the severity mix, and severity agreement on the `alert` stories an alert names (the most
  severe alert naming the story against the label);
with bootstrap 95 % intervals over stories. ``--half dev`` also lists the wrong and missed
stories (tune on dev; the test half prints figures only).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import BASELINE_REV, BaselineError, Target, baseline, current
from evalset import EvalSetError, add_set_argument, load_set

DRIVER = Path(__file__).resolve().parent / "replay_driver.py"
SCHEDULE = {
    "results_date", "event_date", "shareholder_meeting", "trading_halt", "index_change",
    "routine_filing", "trading_debut",
}  # fmt: skip
RANK = {"info": 0, "warning": 1, "critical": 2}
RESAMPLES = 1000


@dataclass
class Run:
    label: str
    alerts: list[dict[str, Any]]


MODES = {
    "cooldowns off": {"cooldowns": "off"},
    "as shipped": {"cooldowns": "shipped"},
    "as shipped, one burst": {"cooldowns": "shipped", "burst": True},
}


def replay_with(target: Target, rows: Sequence[dict[str, Any]], mode: str, home: Path) -> Run:
    request = {"items": list(rows), "rules": {}, **MODES[mode]}
    code = target.python_prelude() + (
        f"sys.argv = ['replay_driver', str(ROOT)]\nimport runpy\n"
        f"runpy.run_path({str(DRIVER)!r}, run_name='__main__')\n"
    )
    done = target.run(["-c", code], stdin=json.dumps(request, ensure_ascii=False), home=home)
    return Run(f"{target.label}, {mode}", json.loads(done.stdout))


@dataclass
class StoryView:
    """One story: its gold label and what the alerts did with it."""

    story: str
    gold: str
    severity: str | None
    schedule: bool
    alerts: int = 0
    top: str | None = None  # most severe alert naming it


def stories_of(rows: Sequence[dict[str, Any]], run: Run) -> tuple[list[StoryView], int]:
    story_of = {r["id"]: r["story"] for r in rows}
    views: dict[str, StoryView] = {}
    for r in rows:
        if r["story"] not in views:
            views[r["story"]] = StoryView(
                r["story"], r["alert"], r["severity"], schedule=r["events"][0] in SCHEDULE
            )
    unnamed = 0
    for alert in run.alerts:
        named = {story_of[i] for i in alert.get("item_ids") or () if i in story_of}
        if not named:
            unnamed += 1
        for story in named:
            v = views[story]
            v.alerts += 1
            if v.top is None or RANK[alert["severity"]] > RANK[v.top]:
                v.top = alert["severity"]
    return list(views.values()), unnamed


def precision(views: Sequence[StoryView]) -> float:
    named = [v for v in views if v.alerts and v.gold != "either"]
    return sum(v.gold == "alert" for v in named) / len(named) if named else float("nan")


def recall(views: Sequence[StoryView]) -> float:
    gold = [v for v in views if v.gold == "alert"]
    return sum(1 for v in gold if v.alerts) / len(gold) if gold else float("nan")


def severity_agreement(views: Sequence[StoryView]) -> float:
    hit = [v for v in views if v.gold == "alert" and v.alerts]
    return sum(v.top == v.severity for v in hit) / len(hit) if hit else float("nan")


def interval(views: Sequence[StoryView], figure: Any) -> str:
    rng = random.Random(7)
    values = sorted(
        v for v in (figure([rng.choice(views) for _ in views]) for _ in range(RESAMPLES)) if v == v
    )
    value = figure(views)
    if not values or value != value:
        return "   n/a"
    lo, hi = (
        values[int(0.025 * len(values))],
        values[min(len(values) - 1, int(0.975 * len(values)))],
    )
    return f"{value:.3f} [{lo:.2f}-{hi:.2f}]"


def report(rows: Sequence[dict[str, Any]], run: Run, *, misses: bool) -> None:
    views, unnamed = stories_of(rows, run)
    gold = Counter(v.gold for v in views)
    sev = Counter(a["severity"] for a in run.alerts)
    rules = Counter(a["rule"].split(":", 1)[0] for a in run.alerts)
    print(f"\n  {run.label}")
    print(f"    alerts {len(run.alerts)} ({len(run.alerts) / len(views) * 100:.0f} per 100 stories); "
          f"by rule: {', '.join(f'{k} {n}' for k, n in sorted(rules.items()))}")  # fmt: skip
    print(
        f"    precision (stories)   {interval(views, precision)}   n={sum(1 for v in views if v.alerts and v.gold != 'either')}"
    )
    print(f"    recall (stories)      {interval(views, recall)}   n={gold['alert']}")
    print(f"    severity agreement    {interval(views, severity_agreement)}   "
          f"n={sum(1 for v in views if v.gold == 'alert' and v.alerts)}")  # fmt: skip
    print(
        f"    severity mix          critical {sev['critical']}, warning {sev['warning']}, info {sev['info']}"
    )
    print(f"    schedule stories alerted {sum(1 for v in views if v.schedule and v.alerts)} "
          f"of {sum(1 for v in views if v.schedule)}; stories alerted more than once "
          f"{sum(1 for v in views if v.alerts > 1)}; alerts naming no story of the set {unnamed}")  # fmt: skip
    if misses:
        first = {}
        for r in rows:
            first.setdefault(r["story"], r)
        wrong = [v for v in views if v.alerts and v.gold == "quiet"]
        missed = [v for v in views if not v.alerts and v.gold == "alert"]
        off = [v for v in views if v.alerts and v.gold == "alert" and v.top != v.severity]
        for name, part in (("alerted but quiet", wrong), ("missed", missed), ("severity", off)):
            print(f"    {name}: {len(part)}")
            for v in part:
                r = first[v.story]
                sev = f" {v.severity} -> {v.top}" if name == "severity" else ""
                print(f"      {v.story}{sev} [{','.join(r['events'])}] {r['title']!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("test", "dev"), default="test")
    add_set_argument(parser)
    parser.add_argument("--baseline", default=BASELINE_REV, help="commit for the baseline column")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    try:
        every, half_of = load_set(args.set)
        rows = [r for r in every if half_of(r["story"]) == args.half]
        targets = [current()] + ([] if args.no_baseline else [baseline(args.baseline)])
    except (EvalSetError, BaselineError) as exc:
        print(f"alerts: error: {exc}", file=sys.stderr)
        return 2
    views_gold = Counter({r["story"]: r["alert"] for r in rows}.values())
    print(
        f"{args.half} half: {len(rows)} items, {sum(views_gold.values())} stories "
        f"(alert {views_gold['alert']}, quiet {views_gold['quiet']}, either {views_gold['either']}), "
        f"published {min(r['published'] for r in rows)} .. {max(r['published'] for r in rows)}"
    )
    if args.half == "dev":
        print("TUNING figures: the rules may be tuned on this half")
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        try:
            for target in targets:
                for mode in MODES:
                    report(rows, replay_with(target, rows, mode, Path(tmp)),
                           misses=args.half == "dev" and target.label == "current")  # fmt: skip
        except BaselineError as exc:
            print(f"alerts: error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
