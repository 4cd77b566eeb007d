"""Tagging quality on our labelled evaluation set: tickers, thesis stances, traps.

    python bench/tagging.py [--eval tests/data/tagging_eval.jsonl] [--watchlist FILE] [--misses N]

Prints, per language: ticker precision / recall / F1 (micro over (item, ticker) pairs),
thesis-stance F1 (micro over (item, thesis, stance) triples: a wrong stance counts as one
false positive and one false negative), the number of false tickers on trap items, and a
list of the misses. Also prints linker throughput as a ratio against a bare ``str.lower``
pass over the same text (no wall-clock targets).

The evaluation set (tests/data/tagging_eval.jsonl) is our own writing: wire-style headlines
grounded in 2025 events, half Chinese, half English, a third traps (words that look like a
covered name but are not: 小米粥, 大众速腾, Big Apple, wet AMD, Li Qiang...). One JSON object
a line: ``id``, ``lang``, ``batch``, ``title``, gold ``tickers`` (list), gold ``theses``
({thesis: stance}), ``trap`` (bool).

Batches record when an item was written: ``a`` (199 items) before the linker and mapper were
tuned; ``b`` (60) and ``c`` (42) afterwards, each as a fresh check on news the rules had not
seen, then kept as regression items; ``d`` (6 traps) last. First-run scores on a fresh batch
are the honest estimate of quality on unseen news (see ``--batch``).

Labelling rules:

- tickers: every covered company the text names (name, short name, brand or product that only
  it sells, executive, or listing code); nothing for look-alikes.
- compute: support when AI-compute demand looks stronger (capex raised, GPU/foundry results up,
  usage growing, shortages), challenge when weaker (capex cut, demand fears, sales lost to
  export curbs or Chinese pushback).
- edge: support when AI moves onto phones/cars or their makers do well (on-device AI and
  smart-driving roll-outs, strong deliveries), challenge when they stumble (weak sales,
  delayed AI features, recalls, price wars).
- localization: support when Chinese substitution gains (tighter US curbs, Chinese pushback on
  US chips, domestic chip progress, localization names up), challenge when it loses (eased
  curbs, domestic chip setbacks).
- risk: support when a risk the report lists comes true (weak phone/EV/server demand, price
  war, tighter sanctions, Chinese AI chips lagging, AI capex cut, tariffs raised, startup
  funding drying up), challenge when one clearly recedes (curbs eased, tariff truce).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from signals.entities import Linker  # noqa: E402
from signals.theses import ThesisMapper  # noqa: E402
from thesiswatch.watchlist import load_watchlist  # noqa: E402

DEFAULT_EVAL = ROOT / "tests" / "data" / "tagging_eval.jsonl"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[Any], got: set[Any]) -> None:
        self.tp += len(gold & got)
        self.fp += len(got - gold)
        self.fn += len(gold - got)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class LangReport:
    items: int = 0
    traps: int = 0
    tickers: Counts = field(default_factory=Counts)
    stances: Counts = field(default_factory=Counts)
    trap_false_tickers: int = 0
    misses: list[str] = field(default_factory=list)
    # (thesis, gold stance or "-", predicted stance or "-") -> count
    confusion: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def load_eval(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON: {exc}") from exc
    return rows


def evaluate(
    rows: list[dict[str, Any]], linker: Linker, mapper: ThesisMapper
) -> dict[str, LangReport]:
    reports: dict[str, LangReport] = {}
    for row in rows:
        lang = str(row["lang"])
        report = reports.setdefault(lang, LangReport())
        title = str(row["title"])
        gold_tickers: set[Any] = set(row["tickers"])
        gold_stances: set[Any] = set(row["theses"].items())
        mentions = linker.link(title)
        got_tickers: set[Any] = {m.ticker for m in mentions}
        got_stances: set[Any] = {(s.thesis, s.stance) for s in mapper.map(title, mentions)}
        report.items += 1
        report.tickers.add(gold_tickers, got_tickers)
        report.stances.add(gold_stances, got_stances)
        gold_map, got_map = dict(gold_stances), dict(got_stances)
        for thesis in mapper.watchlist.theses:
            gold_s, got_s = gold_map.get(thesis.id, "-"), got_map.get(thesis.id, "-")
            if gold_s != "-" or got_s != "-":
                report.confusion[(thesis.id, gold_s, got_s)] += 1
        if row.get("trap"):
            report.traps += 1
            report.trap_false_tickers += len(got_tickers - gold_tickers)
        problems = []
        if got_tickers != gold_tickers:
            problems.append(
                f"tickers +{sorted(got_tickers - gold_tickers)} -{sorted(gold_tickers - got_tickers)}"
            )
        if got_stances != gold_stances:
            extra = sorted(f"{t}:{s}" for t, s in got_stances - gold_stances)
            missing = sorted(f"{t}:{s}" for t, s in gold_stances - got_stances)
            problems.append(f"theses +{extra} -{missing}")
        if problems:
            report.misses.append(f"{row['id']} {title!r}: {'; '.join(problems)}")
    return reports


def throughput_ratio(
    rows: list[dict[str, Any]], linker: Linker, mapper: ThesisMapper
) -> tuple[float, float]:
    """Linker+mapper time over a bare ``str.lower`` pass on the same titles, and us per item."""
    # Distinct texts, so the linker's fold cache cannot flatter the number.
    titles = [f"{r['title']} #{i}" for i in range(5) for r in rows]
    start = time.perf_counter()
    for t in titles:
        t.lower()
    base = time.perf_counter() - start
    start = time.perf_counter()
    for t in titles:
        mapper.map(t, linker.link(t))
    tagged = time.perf_counter() - start
    return (tagged / base if base else float("inf")), tagged / len(titles) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--watchlist", type=Path, default=None)
    parser.add_argument("--misses", type=int, default=100, help="misses to list per language")
    parser.add_argument(
        "--batch", default=None, help="only items of this batch (a, b, c: see the docstring)"
    )
    args = parser.parse_args(argv)

    watchlist = load_watchlist(args.watchlist)
    linker, mapper = Linker(watchlist), ThesisMapper(watchlist)
    rows = load_eval(args.eval)
    if args.batch:
        rows = [r for r in rows if r.get("batch") == args.batch]
    reports = evaluate(rows, linker, mapper)
    total_t, total_s = Counts(), Counts()
    print(f"eval set: {args.eval.name}, {len(rows)} items, watchlist: {watchlist.name}")
    print(
        f"{'lang':<5}{'items':>6}{'traps':>6}  {'ticker P':>8}{'R':>7}{'F1':>7}  "
        f"{'stance P':>8}{'R':>7}{'F1':>7}  {'trap false tickers':>18}"
    )
    for lang in sorted(reports):
        r = reports[lang]
        for total, part in ((total_t, r.tickers), (total_s, r.stances)):
            total.tp, total.fp, total.fn = (
                total.tp + part.tp,
                total.fp + part.fp,
                total.fn + part.fn,
            )
        print(
            f"{lang:<5}{r.items:>6}{r.traps:>6}  {r.tickers.precision:>8.3f}{r.tickers.recall:>7.3f}"
            f"{r.tickers.f1:>7.3f}  {r.stances.precision:>8.3f}{r.stances.recall:>7.3f}"
            f"{r.stances.f1:>7.3f}  {r.trap_false_tickers:>18}"
        )
    traps = sum(r.trap_false_tickers for r in reports.values())
    print(
        f"{'all':<5}{len(rows):>6}{sum(r.traps for r in reports.values()):>6}  "
        f"{total_t.precision:>8.3f}{total_t.recall:>7.3f}{total_t.f1:>7.3f}  "
        f"{total_s.precision:>8.3f}{total_s.recall:>7.3f}{total_s.f1:>7.3f}  {traps:>18}"
    )
    print("targets: ticker F1 >= 0.95, thesis-stance F1 >= 0.85, 0 false tickers on traps")
    ratio, per_item = throughput_ratio(rows, linker, mapper)
    print(f"tagging cost (link + map): {ratio:.0f}x a str.lower() pass, ~{per_item:.0f} us/item")
    print("\nstance confusion (gold -> predicted; '-' = thesis absent), all languages:")
    confusion: Counter[tuple[str, str, str]] = Counter()
    for r in reports.values():
        confusion.update(r.confusion)
    labels = ("support", "challenge", "-")
    print(f"  {'thesis':<13}{'gold':<10}" + "".join(f"{lab:>11}" for lab in labels))
    for thesis in watchlist.theses:
        for gold in labels:
            cells = [confusion[(thesis.id, gold, got)] for got in labels]
            if gold == "-":
                cells[2] = 0  # absent/absent is every other item: not counted
            print(f"  {thesis.id:<13}{gold:<10}" + "".join(f"{n:>11}" for n in cells))
    for lang in sorted(reports):
        misses = reports[lang].misses
        print(f"\nmisses ({lang}): {len(misses)}")
        for line in misses[: args.misses]:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
