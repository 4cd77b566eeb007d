"""The frozen evaluation set (bench/data/stories.jsonl): load, check, split.

    python bench/evalset.py                 # check the committed set and print its make-up
    python bench/evalset.py --check FILE    # check any file of the same shape (no hash check)

The labelling guide is docs/evaluation.md. The set is frozen: ``SHA256`` below is the hash of
the committed file and ``load_frozen`` refuses any other content. Each story (with all its
repeats) falls in ``dev`` or ``test`` by a fixed hash of its id (``half_of``); tune on dev only.

This module reads the built-in watchlist's TOML for the allowed tickers and theses and the
taxonomy table of docs/evaluation.md for the event ids; it imports nothing of the tagger.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SET_PATH = ROOT / "bench" / "data" / "stories.jsonl"
SHA256 = "3cae65839166f0c2defa2c6ac89223e356dc2f03691927e34f9d6234adff5b80"
WATCHLIST_TOML = ROOT / "thesiswatch" / "watchlists" / "deepseek_r1.toml"
GUIDE = ROOT / "docs" / "evaluation.md"

FIELDS = (
    "id", "story", "lang", "script", "source", "published", "title", "summary", "sentiment",
    "relevance", "tickers", "sentiment_by_ticker", "theses", "events", "alert", "severity",
    "traps", "note",
)  # fmt: skip
LABELS = ("pos", "neg", "neu")
CLASSES = ("subject", "counterparty", "passing")
STANCES = ("support", "challenge")
ALERTS = ("alert", "quiet", "either")
SEVERITIES = ("critical", "warning", "info")
TRAPS = ("name", "sentiment", "stance")
WINDOW = ("2026-03-01T00:00:00Z", "2026-03-30T23:59:59Z")
SCRIPT_OF_LANG = {"zh": ("hans", "hant"), "en": ("latin",)}


class EvalSetError(Exception):
    """The set (or a part of it) breaks the shape docs/evaluation.md defines."""


@dataclass(frozen=True)
class Vocabulary:
    tickers: frozenset[str]
    theses: frozenset[str]
    events: frozenset[str]

    @classmethod
    def load(cls) -> Vocabulary:
        data = tomllib.loads(WATCHLIST_TOML.read_text(encoding="utf-8"))
        tickers = frozenset(c["id"] for c in data["companies"])
        theses = frozenset(t["id"] for t in data["theses"])
        guide = GUIDE.read_text(encoding="utf-8").split("## Event taxonomy", 1)[1]
        guide = guide.split("## The benches", 1)[0]
        events = frozenset(re.findall(r"^\| `([a-z_]+)` \|", guide, re.M))
        return cls(tickers=tickers, theses=theses, events=events)


def half_of(story: str) -> str:
    """``dev`` or ``test``: fixed by the story id, so repeats of a story stay together.

    >>> half_of("c003"), half_of("c004")
    ('dev', 'test')
    """
    digest = hashlib.sha256(f"thesiswatch-split:{story}".encode()).digest()
    return "dev" if digest[0] < 128 else "test"


def read_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalSetError(f"{path.name}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise EvalSetError(f"{path.name}:{number}: not a JSON object")
            rows.append(row)
    return rows


def check_row(row: dict[str, Any], vocab: Vocabulary) -> list[str]:
    """Every way ``row`` breaks the guide (empty when it is fine)."""
    problems: list[str] = []
    missing = [f for f in FIELDS if f not in row]
    extra = [f for f in row if f not in FIELDS]
    if missing or extra:
        return [f"fields: missing {missing}, unknown {extra}"]
    for name in ("id", "story", "source", "title", "summary", "note"):
        if not isinstance(row[name], str) or not row[name].strip():
            problems.append(f"{name}: needs a non-empty string")
    if row["lang"] not in SCRIPT_OF_LANG:
        problems.append(f"lang: {row['lang']!r} is not zh or en")
    elif row["script"] not in SCRIPT_OF_LANG[row["lang"]]:
        problems.append(f"script: {row['script']!r} does not fit lang {row['lang']}")
    published = row["published"]
    if not (
        isinstance(published, str)
        and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", published)
        and WINDOW[0] <= published <= WINDOW[1]
    ):
        problems.append(f"published: {published!r} is not a UTC time inside {WINDOW}")
    if row["sentiment"] not in LABELS:
        problems.append(f"sentiment: {row['sentiment']!r}")
    relevance = row["relevance"]
    if not isinstance(relevance, dict):
        problems.append("relevance: needs an object")
        relevance = {}
    for ticker, cls in relevance.items():
        if ticker not in vocab.tickers:
            problems.append(f"relevance: {ticker!r} is not a watchlist ticker")
        if cls not in CLASSES:
            problems.append(f"relevance: {ticker} has class {cls!r}")
    tagged = sorted(t for t, c in relevance.items() if c in ("subject", "counterparty"))
    if row["tickers"] != tagged:
        problems.append(f"tickers: {row['tickers']} but subject/counterparty are {tagged}")
    by_ticker = row["sentiment_by_ticker"]
    if not isinstance(by_ticker, dict) or sorted(by_ticker) != tagged:
        problems.append(f"sentiment_by_ticker: keys must be exactly {tagged}")
    elif any(v not in LABELS for v in by_ticker.values()):
        problems.append(f"sentiment_by_ticker: labels must be {LABELS}")
    theses = row["theses"]
    if not isinstance(theses, dict):
        problems.append("theses: needs an object")
    else:
        for thesis, stance in theses.items():
            if thesis not in vocab.theses:
                problems.append(f"theses: unknown thesis {thesis!r}")
            if stance not in STANCES:
                problems.append(f"theses: {thesis} has stance {stance!r}")
        if theses.get("risk") == "challenge":
            problems.append("theses: risk is only ever 'support'")
    events = row["events"]
    if not isinstance(events, list) or not events:
        problems.append("events: needs a non-empty list")
    else:
        unknown = [e for e in events if e not in vocab.events]
        if unknown:
            problems.append(f"events: not in the taxonomy: {unknown}")
    if row["alert"] not in ALERTS:
        problems.append(f"alert: {row['alert']!r}")
    if row["alert"] == "alert" and row["severity"] not in SEVERITIES:
        problems.append(f"severity: an alert story needs one of {SEVERITIES}")
    if row["alert"] != "alert" and row["severity"] is not None:
        problems.append("severity: only alert stories have one (null otherwise)")
    if not isinstance(row["traps"], list) or any(t not in TRAPS for t in row["traps"]):
        problems.append(f"traps: a list of {TRAPS}")
    return problems


def check_rows(rows: list[dict[str, Any]], vocab: Vocabulary) -> list[str]:
    """Row problems (prefixed with the row id) and set-level ones (ids, stories)."""
    problems: list[str] = []
    seen: set[str] = set()
    stories: dict[str, list[dict[str, Any]]] = {}
    for number, row in enumerate(rows, 1):
        label = f"{row.get('id', f'line {number}')}"
        problems.extend(f"{label}: {p}" for p in check_row(row, vocab))
        if row.get("id") in seen:
            problems.append(f"{label}: duplicate id")
        seen.add(str(row.get("id")))
        stories.setdefault(str(row.get("story")), []).append(row)
    for story, items in stories.items():
        if len({i.get("alert") for i in items}) > 1:
            problems.append(f"story {story}: items disagree on 'alert'")
        if any(not str(i.get("id", "")).startswith(story) for i in items):
            problems.append(f"story {story}: item ids must start with the story id")
    return problems


@dataclass(frozen=True)
class FrozenSet:
    """A committed set: its file under bench/data, the hash it was frozen with, and its halves
    (``split`` by ``half_of``; all ``dev``: tuning data; all ``test``: held out)."""

    file: str
    sha256: str
    halves: str

    @property
    def path(self) -> Path:
        return ROOT / "bench" / "data" / self.file


SETS = {
    "v1": FrozenSet("stories.jsonl", SHA256, "split"),
    "b": FrozenSet("stories-b.jsonl", "061180eff48b4f4c0cb1cd193a5a7f0bfc4b13865aff699a1dc5dbd6f6d802dc", "dev"),
    "c": FrozenSet("stories-c.jsonl", "9d988609d38c5e2e89895a45bef93ac3a6aaf599dd058c7f745ca89ee89f9cf1", "split"),
    "d": FrozenSet("stories-d.jsonl", "04097649740b3e65c4fe40e648280cf947cb5eef57248a534641729bb74a7157", "test"),
    "e": FrozenSet("stories-e.jsonl", "ed12405603a58c479ace2ea21b1ebc364c65dd27e85f81fc859a42278b967b38", "dev"),
    "f": FrozenSet("stories-f.jsonl", "a364a45785bb87d794f6ab06cc81b00fc729fc5ee4f7ec007810e026d65e41ac", "dev"),
    "g": FrozenSet("stories-g.jsonl", "b434215ea89e9c14ddea11d857bd0cedc8237c096525dcef1da1ba9db05a2469", "dev"),
    "t": FrozenSet("stories-t.jsonl", "9cb09d2a61a8c084edaa9848bef82c5c717a4606ece00e562e1ed1d99bb468d4", "dev"),
}  # fmt: skip
"""The frozen sets by name (docs/evaluation.md has each one's story). ``v1`` and ``c`` split
dev/test. ``b`` was held out while the third session tuned on v1's dev half, and is tuning
data since. ``d`` was written after most of the fourth session's tuning: all held out. ``e``,
``f``, ``g`` (late batches of hard cases) and ``t`` (name traps, to tune the linker) were
written blind for tuning."""


def load_frozen(path: Path = SET_PATH, sha256: str = SHA256) -> list[dict[str, Any]]:
    """A committed set, refusing a file whose hash is not the one it was frozen with."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read the set ({exc.strerror})") from exc
    if digest != sha256:
        raise EvalSetError(
            f"{path}: sha256 {digest[:12]}... is not the frozen set's {sha256[:12]}...: "
            "the set is frozen (a relabelled set is a new file, see docs/evaluation.md)"
        )
    return read_rows(path)


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """``--set``: which frozen set a bench runs on."""
    parser.add_argument(
        "--set",
        default="v1",
        choices=sorted(SETS),
        help="frozen set: "
        + ", ".join(f"{name} ({frozen.halves})" for name, frozen in SETS.items()),
    )


def load_set(name: str) -> tuple[list[dict[str, Any]], Callable[[str], str]]:
    """The rows of the frozen set ``name`` and the function giving each story its half."""
    if name not in SETS:
        raise EvalSetError(f"no frozen set {name!r} (known: {', '.join(SETS)})")
    frozen = SETS[name]
    rows = load_frozen(frozen.path, frozen.sha256)
    if frozen.halves == "split":
        return rows, half_of
    return rows, lambda _story: frozen.halves


def summary(rows: list[dict[str, Any]]) -> str:
    stories = {r["story"] for r in rows}
    by_story = {r["story"]: r["alert"] for r in rows}
    halves = Counter(half_of(s) for s in stories)
    trap = Counter(t for r in rows for t in r["traps"])
    events = Counter(e for r in rows for e in r["events"])
    lines = [
        f"{len(rows)} items, {len(stories)} stories ({halves['dev']} dev, {halves['test']} test), "
        f"{len(rows) - len(stories)} repeats",
        "languages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r["script"] for r in rows).items())),
        "story labels: "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(by_story.values()).items())),
        f"traps: name {trap['name']}, sentiment {trap['sentiment']}, stance {trap['stance']}",
        f"event types used: {len(events)}; used fewer than twice: "
        + (", ".join(sorted(e for e in Vocabulary.load().events if events[e] < 2)) or "none"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, nargs="*", help="check these files (no hash check)")
    add_set_argument(parser)
    args = parser.parse_args(argv)
    vocab = Vocabulary.load()
    try:
        rows = (
            [r for p in args.check for r in read_rows(p)] if args.check else load_set(args.set)[0]
        )
    except EvalSetError as exc:
        print(f"evalset: error: {exc}", file=sys.stderr)
        return 2
    problems = check_rows(rows, vocab)
    for p in problems:
        print(p)
    if not problems:
        print(summary(rows))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
