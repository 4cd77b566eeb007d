"""The house rules of DESIGN.md, checked: the headless core never imports Textual, the
signals package never imports SQLite, and only the sentiment scorer pays for snownlp."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "feeds.fetch",
        "feeds.parse",
        "signals.tagger",
        "signals.rules",
        "store",
        "thesiswatch.cli",
        "thesiswatch.daemon",
        "thesiswatch.pipeline",
        "thesiswatch.runtime",
    ],
)
def test_headless_modules_never_import_textual(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_cli_help_path_is_light() -> None:
    loaded = _modules_after("import thesiswatch.cli")
    for heavy in ("textual", "snownlp", "httpx", "sqlite_utils", "feedparser"):
        assert heavy not in loaded, heavy


def test_tagging_english_does_not_load_snownlp() -> None:
    code = (
        "from thesiswatch.watchlist import load_watchlist\n"
        "from thesiswatch.signals.sentiment import default_scorer\n"
        "from thesiswatch.signals.tagger import Tagger\n"
        "Tagger(load_watchlist(), default_scorer()).tag('Nvidia shares fall 17% as DeepSeek rattles investors')\n"
    )
    assert "snownlp" not in _modules_after(code)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["signals", "feeds", "tui", "thesiswatch"])
def test_only_store_touches_sqlite(package: str) -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / package).rglob("*.py")
        if _imports(p) & {"sqlite3", "sqlite_utils"}
    ]
    assert offenders == []


def test_signals_does_no_network_or_database_io() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "signals").rglob("*.py")
        if _imports(p)
        & {"httpx", "socket", "urllib3", "requests", "sqlite3", "sqlite_utils", "textual"}
    ]
    assert offenders == []
