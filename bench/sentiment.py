"""Benchmark the sentiment scorer against labelled files, with the baseline in the same run.

    python bench/sentiment.py PATH.tsv [PATH.tsv ...] [--limit N] [--bayes] [--no-baseline]
    python bench/sentiment.py --import-cost

Each file is ``label<TAB>text`` with labels pos/neg/neu, or neg/nonneg for the ``*finnsp*``
files, which are scored as neg-vs-rest (F1 of the neg class). The language comes from the
file name prefix (``zh_``/``en_``), else from the text. Baselines: stock snownlp for Chinese
(``sentiments`` > 0.6 pos, < 0.4 neg, else neu) and VADER for English (compound >= 0.05
pos, <= -0.05 neg, the VADER authors' convention); VADER (``vaderSentiment``) is a bench-only
dependency. ``--bayes`` adds a column for our scorer with snownlp's Bayes signal switched on.

``--import-cost`` measures, each in a fresh interpreter, the wall time and peak RSS of
``default_scorer()`` plus one score of English text, and of Chinese text.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from thesiswatch.signals.lang import detect_lang
from thesiswatch.signals.sentiment import LexiconScorer

Predict = Callable[[str], str]


def read_tsv(path: Path, limit: int | None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, sep, text = line.partition("\t")
        if sep and text.strip():
            rows.append((label.strip(), text.strip()))
    return rows[:limit] if limit else rows


def metrics(gold: Sequence[str], pred: Sequence[str], binary: bool) -> tuple[float, float]:
    """Accuracy and macro-F1 over pos/neu/neg, or (binary) accuracy and F1 of neg vs rest."""
    if binary:
        gold = ["neg" if g == "neg" else "rest" for g in gold]
        pred = ["neg" if p == "neg" else "rest" for p in pred]
        classes: tuple[str, ...] = ("neg",)
    else:
        classes = ("pos", "neu", "neg")
    accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(len(gold), 1)
    f1s = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return accuracy, sum(f1s) / len(f1s)


def run(predict: Predict, texts: Sequence[str]) -> tuple[list[str], float]:
    start = time.perf_counter()
    labels = [predict(t) for t in texts]
    elapsed = time.perf_counter() - start
    return labels, len(texts) / elapsed if elapsed > 0 else float("inf")


def labeller(scorer: LexiconScorer, lang: str) -> Predict:
    def predict(text: str) -> str:
        return scorer.score(text, lang=lang).label

    return predict


def snownlp_baseline() -> Predict:
    from snownlp import SnowNLP

    def predict(text: str) -> str:
        p = SnowNLP(text).sentiments
        return "pos" if p > 0.6 else "neg" if p < 0.4 else "neu"

    return predict


def vader_baseline() -> Predict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()

    def predict(text: str) -> str:
        c = analyzer.polarity_scores(text)["compound"]
        return "pos" if c >= 0.05 else "neg" if c <= -0.05 else "neu"

    return predict


def bench_files(paths: Sequence[Path], limit: int | None, bayes: bool, baseline: bool) -> None:
    ours = LexiconScorer()
    with_bayes = LexiconScorer(use_bayes=True) if bayes else None
    baselines: dict[str, Predict] = {}
    header = f"{'file':28} {'n':>6} | {'ours acc':>8} {'F1':>6} {'items/s':>8}"
    if with_bayes:
        header += f" | {'+bayes acc':>10} {'F1':>6} {'items/s':>8}"
    if baseline:
        header += f" | {'base':7} {'acc':>6} {'F1':>6} {'items/s':>8}"
    print(f"scorer {ours.name} {ours.version}")
    print(header)
    print("-" * len(header))
    for path in paths:
        rows = read_tsv(path, limit)
        gold = [g for g, _ in rows]
        texts = [t for _, t in rows]
        name = path.stem
        lang = "zh" if name.startswith("zh") else "en" if name.startswith("en") else None
        lang = lang or detect_lang(texts[0] if texts else "")
        binary = "finnsp" in name or "nonneg" in set(gold)
        pred, rate = run(labeller(ours, lang), texts)
        acc, f1 = metrics(gold, pred, binary)
        line = f"{name:28} {len(rows):6d} | {acc:8.3f} {f1:6.3f} {rate:8.0f}"
        if with_bayes:
            pred, rate = run(labeller(with_bayes, lang), texts)
            acc, f1 = metrics(gold, pred, binary)
            line += f" | {acc:10.3f} {f1:6.3f} {rate:8.0f}"
        if baseline:
            key = "snownlp" if lang == "zh" else "vader"
            if key not in baselines:
                baselines[key] = snownlp_baseline() if key == "snownlp" else vader_baseline()
            pred, rate = run(baselines[key], texts)
            acc, f1 = metrics(gold, pred, binary)
            line += f" | {key:7} {acc:6.3f} {f1:6.3f} {rate:8.0f}"
        print(line + ("   (neg-vs-rest F1)" if binary else ""), flush=True)


_PROBE = """
import resource, sys, time
t0 = time.perf_counter()
from thesiswatch.signals.sentiment import default_scorer
s = default_scorer().score({text!r})
t1 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{t1 - t0:.3f}} {{rss:.0f}} {{'snownlp' in sys.modules}} {{s.label}}")
"""


def import_cost() -> None:
    root = Path(__file__).resolve().parents[1]
    probes = {
        "python only": "import resource, sys; print('0 %.0f False -' % "
        "(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))",
        "en headline": _PROBE.format(text="Nvidia shares plunge 17% as DeepSeek rattles AI"),
        "zh headline": _PROBE.format(text="英伟达股价大跌17%"),
        "import snownlp": "import resource, time; t0 = time.perf_counter(); import snownlp; "
        "t1 = time.perf_counter(); print(f'{t1 - t0:.3f} "
        "{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} True -')",
    }
    print(f"{'path':16} {'seconds':>8} {'peak MB':>8} {'snownlp imported':>17} label")
    for name, code in probes.items():
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
        ).stdout.split()
        print(f"{name:16} {out[0]:>8} {out[1]:>8} {out[2]:>17} {out[3]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="label<TAB>text files")
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each file")
    parser.add_argument("--bayes", action="store_true", help="also run ours + snownlp Bayes")
    parser.add_argument("--no-baseline", action="store_true", help="skip snownlp / VADER")
    parser.add_argument("--import-cost", action="store_true", help="measure start-up cost")
    args = parser.parse_args(argv)
    if args.import_cost:
        import_cost()
    if args.paths:
        bench_files(args.paths, args.limit, args.bayes, not args.no_baseline)
    elif not args.import_cost:
        parser.error("give one or more .tsv files, or --import-cost")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
