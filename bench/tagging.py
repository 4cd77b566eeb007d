"""Tagging quality on the frozen story set, beside a baseline commit measured in the same run.

    python bench/tagging.py [--half test|dev|both] [--baseline REV | --no-baseline] [--misses N]

Feeds every item of bench/data/stories.jsonl (title and summary, no language hint) through the
``thesiswatch tag`` command of the working tree and of the baseline commit (bench/baseline.py),
and prints per half (dev, test) and language:

- sentiment macro-F1 over pos/neg/neu (item label);
- ticker precision / recall / F1, micro over (item, ticker): gold tickers are the covered
  companies labelled subject or counterparty;
- false tickers on name traps: trap items given a ticker they should not have / trap items;
- relevance-class accuracy over every covered company named (subject >= 80, counterparty
  50-79, passing < 50 in the output's ``relevance``; a company missing there counts wrong);
- ticker sentiment accuracy over gold tickers (``sentiment.by_ticker``, else the item label);
- stance precision / recall / F1, micro over (item, thesis, stance);
- event-type accuracy: the gold main event type is among the output's ``events`` types.

Each figure has its n and a bootstrap 95 % interval over stories (1,000 resamples, seed 7).
Fields a version does not emit print as ``n/a``. Misses are listed for the dev half only (tune
on dev; the test half is for reporting). Also prints tagging speed with titles and summaries,
through the same command, against the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import BASELINE_REV, BaselineError, Target, baseline, current
from evalset import EvalSetError, add_set_argument, load_set

LABELS = ("pos", "neg", "neu")
RESAMPLES = 1000
SEED = 7


def relevance_class(score: float) -> str:
    return "subject" if score >= 80 else "counterparty" if score >= 50 else "passing"


# --- one item's contribution to every figure ------------------------------------------------


@dataclass
class ItemScore:
    """What one item adds to each figure; figures are sums over items, so resampling is cheap."""

    row: dict[str, Any]
    sentiment: tuple[str, str]  # gold, predicted
    ticker_tp: int = 0
    ticker_fp: int = 0
    ticker_fn: int = 0
    trap: bool = False
    trap_false: bool = False
    relevance: tuple[int, int] | None = None  # correct, total (None: field not emitted)
    ticker_sent: tuple[int, int] = (0, 0)
    stance_tp: int = 0
    stance_fp: int = 0
    stance_fn: int = 0
    event: int | None = None  # 1 found, 0 not, None: field not emitted
    problems: list[str] = field(default_factory=list)


def score_item(row: dict[str, Any], out: dict[str, Any]) -> ItemScore:
    sentiment = out.get("sentiment") or {}
    got_label = str(sentiment.get("label", "neu"))
    s = ItemScore(row=row, sentiment=(row["sentiment"], got_label))
    gold_t, got_t = set(row["tickers"]), set(out.get("tickers") or [])
    s.ticker_tp, s.ticker_fp, s.ticker_fn = (
        len(gold_t & got_t), len(got_t - gold_t), len(gold_t - got_t),
    )  # fmt: skip
    s.trap = "name" in row["traps"]
    s.trap_false = s.trap and bool(got_t - gold_t)
    if isinstance(out.get("relevance"), dict):
        rel = out["relevance"]
        correct = sum(
            1 for t, cls in row["relevance"].items() if t in rel and relevance_class(rel[t]) == cls
        )
        s.relevance = (correct, len(row["relevance"]))
    by_ticker = sentiment.get("by_ticker") if isinstance(sentiment.get("by_ticker"), dict) else {}
    right = 0
    for t, gold in row["sentiment_by_ticker"].items():
        got = by_ticker.get(t)
        label = got.get("label") if isinstance(got, dict) else got
        right += (label or got_label) == gold
    s.ticker_sent = (right, len(row["sentiment_by_ticker"]))
    gold_s = set(row["theses"].items())
    got_s = set((out.get("theses") or {}).items())
    s.stance_tp, s.stance_fp, s.stance_fn = (
        len(gold_s & got_s), len(got_s - gold_s), len(gold_s - got_s),
    )  # fmt: skip
    got_events: list[str] = []
    if isinstance(out.get("events"), list):
        got_events = [str(e.get("type")) for e in out["events"] if isinstance(e, dict)]
        s.event = int(row["events"][0] in got_events)
    if s.sentiment[0] != s.sentiment[1]:
        s.problems.append(f"sentiment {s.sentiment[0]}->{s.sentiment[1]}")
    if gold_t != got_t:
        s.problems.append(f"tickers +{sorted(got_t - gold_t)} -{sorted(gold_t - got_t)}")
    if gold_s != got_s:
        extra = sorted(f"{t}:{v}" for t, v in got_s - gold_s)
        missing = sorted(f"{t}:{v}" for t, v in gold_s - got_s)
        s.problems.append(f"theses +{extra} -{missing}")
    if s.event == 0:
        s.problems.append(f"event {row['events'][0]} not in {got_events}")
    if s.relevance is not None and s.relevance[0] != s.relevance[1]:
        rel = out["relevance"]
        wrong = {
            t: f"{c}->{relevance_class(rel[t]) if t in rel else 'absent'}"
            for t, c in row["relevance"].items()
            if t not in rel or relevance_class(rel[t]) != c
        }
        s.problems.append(f"relevance {wrong}")
    return s


# --- figures ----------------------------------------------------------------------------------


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def macro_f1(items: Sequence[ItemScore]) -> float:
    scores = []
    for lab in LABELS:
        tp = sum(1 for s in items if s.sentiment == (lab, lab))
        fp = sum(1 for s in items if s.sentiment[1] == lab and s.sentiment[0] != lab)
        fn = sum(1 for s in items if s.sentiment[0] == lab and s.sentiment[1] != lab)
        if tp + fp + fn:
            scores.append(_f1(tp, fp, fn))
    return sum(scores) / len(scores) if scores else float("nan")


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


Figure = Callable[[Sequence[ItemScore]], float]
Count = Callable[[Sequence[ItemScore]], int]


def _sum(attr: str) -> Callable[[Sequence[ItemScore]], int]:
    return lambda items: sum(getattr(s, attr) for s in items)


FIGURES: list[tuple[str, Figure, Count]] = [
    ("sentiment macro-F1", macro_f1, len),
    ("ticker precision", lambda i: _ratio(_sum("ticker_tp")(i), _sum("ticker_tp")(i) + _sum("ticker_fp")(i)),
     lambda i: _sum("ticker_tp")(i) + _sum("ticker_fp")(i)),
    ("ticker recall", lambda i: _ratio(_sum("ticker_tp")(i), _sum("ticker_tp")(i) + _sum("ticker_fn")(i)),
     lambda i: _sum("ticker_tp")(i) + _sum("ticker_fn")(i)),
    ("ticker F1", lambda i: _f1(_sum("ticker_tp")(i), _sum("ticker_fp")(i), _sum("ticker_fn")(i)),
     lambda i: _sum("ticker_tp")(i) + _sum("ticker_fn")(i)),
    ("false tickers on name traps", lambda i: _ratio(sum(s.trap_false for s in i), sum(s.trap for s in i)),
     lambda i: sum(s.trap for s in i)),
    ("relevance-class accuracy", lambda i: _ratio(sum(s.relevance[0] for s in i if s.relevance),
                                                  sum(s.relevance[1] for s in i if s.relevance)),
     lambda i: sum(s.relevance[1] for s in i if s.relevance)),
    ("ticker sentiment accuracy", lambda i: _ratio(sum(s.ticker_sent[0] for s in i), sum(s.ticker_sent[1] for s in i)),
     lambda i: sum(s.ticker_sent[1] for s in i)),
    ("stance precision", lambda i: _ratio(_sum("stance_tp")(i), _sum("stance_tp")(i) + _sum("stance_fp")(i)),
     lambda i: _sum("stance_tp")(i) + _sum("stance_fp")(i)),
    ("stance recall", lambda i: _ratio(_sum("stance_tp")(i), _sum("stance_tp")(i) + _sum("stance_fn")(i)),
     lambda i: _sum("stance_tp")(i) + _sum("stance_fn")(i)),
    ("stance F1", lambda i: _f1(_sum("stance_tp")(i), _sum("stance_fp")(i), _sum("stance_fn")(i)),
     lambda i: _sum("stance_tp")(i) + _sum("stance_fn")(i)),
    ("event-type accuracy", lambda i: _ratio(sum(s.event for s in i if s.event is not None),
                                             sum(1 for s in i if s.event is not None)),
     lambda i: sum(1 for s in i if s.event is not None)),
]  # fmt: skip


def bootstrap(
    items: Sequence[ItemScore], figure: Figure, rng: random.Random
) -> tuple[float, float]:
    """95 % interval of ``figure`` over resamples of whole stories."""
    stories: dict[str, list[ItemScore]] = {}
    for s in items:
        stories.setdefault(s.row["story"], []).append(s)
    groups = list(stories.values())
    values = []
    for _ in range(RESAMPLES):
        sample = [s for _ in groups for s in rng.choice(groups)]
        v = figure(sample)
        if v == v:  # not NaN
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    values.sort()
    return values[int(0.025 * len(values))], values[min(len(values) - 1, int(0.975 * len(values)))]


def cell(items: Sequence[ItemScore], figure: Figure, count: Count, seed: int) -> str:
    if count(items) == 0:
        return f"{'n/a':>22}"
    value = figure(items)
    lo, hi = bootstrap(items, figure, random.Random(seed))
    return f"{value:>6.3f} [{lo:.2f}-{hi:.2f}]".rjust(22)


# --- running the tag command --------------------------------------------------------------


def tag_with(
    target: Target, rows: Sequence[dict[str, Any]], home: Path
) -> dict[str, dict[str, Any]]:
    lines = "".join(
        json.dumps(
            {"id": r["id"], "title": r["title"], "summary": r["summary"]}, ensure_ascii=False
        )
        + "\n"
        for r in rows
    )
    code = (
        target.python_prelude()
        + "sys.argv = ['thesiswatch', 'tag']\nfrom thesiswatch.cli import main\nmain()\n"
    )
    done = target.run(["-c", code], stdin=lines, home=home)
    out = {}
    for line in done.stdout.splitlines():
        if line.strip():
            record = json.loads(line)
            out[str(record["id"])] = record
    missing = [r["id"] for r in rows if r["id"] not in out]
    if missing:
        raise BaselineError(f"{target.label}: tag returned no line for {missing[:5]}")
    return out


def tag_speed(target: Target, rows: Sequence[dict[str, Any]], home: Path) -> float:
    """Items per second with titles and summaries: (9N - N) items over the time difference of
    tagging 9N and N distinct items, so interpreter start-up cancels out (best of two)."""

    def timed(copies: int) -> float:
        batch = [
            {**r, "id": f"{r['id']}#{k}", "title": f"{r['title']} ({k})" if k else r["title"]}
            for k in range(copies)
            for r in rows
        ]
        start = time.perf_counter()
        tag_with(target, batch, home)
        return time.perf_counter() - start

    small = min(timed(1) for _ in range(2))
    large = min(timed(9) for _ in range(2))
    return 8 * len(rows) / max(large - small, 1e-9)


# --- report ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("test", "dev", "both"), default="both")
    add_set_argument(parser)
    parser.add_argument("--baseline", default=BASELINE_REV, help="commit for the baseline column")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--misses", type=int, default=60, help="dev misses listed per language")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed runs")
    args = parser.parse_args(argv)

    try:
        rows, half_of = load_set(args.set)
    except EvalSetError as exc:
        print(f"tagging: error: {exc}", file=sys.stderr)
        return 2
    targets = [current()]
    try:
        if not args.no_baseline:
            targets.append(baseline(args.baseline))
    except BaselineError as exc:
        print(f"tagging: error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        home = Path(tmp)
        try:
            outputs = {t.label: tag_with(t, rows, home) for t in targets}
            speeds = {} if args.no_speed else {t.label: tag_speed(t, rows, home) for t in targets}
        except BaselineError as exc:
            print(f"tagging: error: {exc}", file=sys.stderr)
            return 2
    scored = {label: [score_item(r, out[r["id"]]) for r in rows] for label, out in outputs.items()}
    halves = ("dev", "test") if args.half == "both" else (args.half,)
    present = {half_of(r["story"]) for r in rows}
    halves = tuple(h for h in halves if h in present)  # batch b is all dev (tuning data)
    stories = {r["story"] for r in rows}
    print(
        f"frozen set: {len(rows)} items, {len(stories)} stories; split dev/test by story hash; "
        f"columns: {', '.join(t.label + ' (' + str(t.root) + ')' for t in targets)}"
    )
    for half in halves:
        note = (
            "TUNING figures (rules may be tuned on this half)"
            if half == "dev"
            else ("held-out figures (never tune on this half)")
        )
        print(f"\n== {half} half: {note}")
        for lang in ("zh", "en", "all"):
            group_rows = {
                label: [s for s in items if half_of(s.row["story"]) == half
                        and (lang == "all" or s.row["lang"] == lang)]
                for label, items in scored.items()
            }  # fmt: skip
            first = next(iter(group_rows.values()))
            n_stories = len({s.row["story"] for s in first})
            print(f"\n  {half}/{lang}: {len(first)} items, {n_stories} stories")
            print(f"  {'figure':<28}{'n':>6}" + "".join(f"{label:>24}" for label in group_rows))
            for name, figure, count in FIGURES:
                cells = [cell(items, figure, count, SEED) for items in group_rows.values()]
                print(f"  {name:<28}{count(first):>6}  " + "  ".join(cells))
    if speeds:
        base = speeds.get(targets[-1].label) if len(targets) > 1 else None
        print("\ntagging speed, titles and summaries, through `thesiswatch tag`:")
        for label, speed in speeds.items():
            ratio = f"  ({speed / base:.2f}x the baseline)" if base and label == "current" else ""
            print(f"  {label:<22}{speed:>9,.0f} items/s{ratio}")
    if "dev" in halves:
        misses = [s for s in scored["current"] if half_of(s.row["story"]) == "dev" and s.problems]
        for lang in ("zh", "en"):
            part = [s for s in misses if s.row["lang"] == lang]
            print(f"\ndev misses ({lang}, current): {len(part)} items")
            for s in part[: args.misses]:
                print(f"  {s.row['id']} {s.row['title']!r}: {'; '.join(s.problems)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
