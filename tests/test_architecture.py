"""The house rules of DESIGN.md, checked in CI (the README's test command runs them): one
import name, the layer contract (tests/layers.py), owned libraries, no Textual in the headless
core, snownlp only when Chinese is scored, ruff and mypy clean over every module, and a wheel
that holds ``thesiswatch/`` only."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from layers import (
    FOLDERS,
    folder_name_imports,
    import_cycles,
    layer_violations,
    library_violations,
    modules,
)

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str, cwd: Path = ROOT) -> set[str]:
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "thesiswatch.feeds.fetch",
        "thesiswatch.feeds.parse",
        "thesiswatch.signals.tagger",
        "thesiswatch.alerts",
        "thesiswatch.store",
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
        "from thesiswatch.watchlists import load_watchlist\n"
        "from thesiswatch.signals.sentiment import default_scorer\n"
        "from thesiswatch.signals.tagger import Tagger\n"
        "Tagger(load_watchlist(), default_scorer()).tag('Nvidia shares fall 17% as DeepSeek rattles investors')\n"
    )
    assert "snownlp" not in _modules_after(code)


def test_layers_import_downwards_only() -> None:
    assert layer_violations(ROOT) == []


def test_no_import_cycles() -> None:
    """Within a layer too: the TUI's screens see the app as ``tui.host.AppHost``."""
    assert import_cycles(ROOT) == []


def test_owned_libraries_stay_with_their_owner() -> None:
    assert library_violations(ROOT) == []


def test_layer_check_catches_a_violation_through_the_link(tmp_path: Path) -> None:
    """A fixture tree laid out like ours (root folder + in-tree link): a store module that
    imports the TUI, and one that imports Textual, are both reported under their real names."""
    (tmp_path / "store").mkdir()
    (tmp_path / "tui").mkdir()
    (tmp_path / "thesiswatch").mkdir()
    (tmp_path / "thesiswatch" / "__init__.py").write_text("")
    (tmp_path / "tui" / "__init__.py").write_text("")
    (tmp_path / "store" / "__init__.py").write_text("")
    (tmp_path / "store" / "bad.py").write_text(
        "from thesiswatch.tui import screens\nfrom ..errors import X\nimport textual\n"
    )
    (tmp_path / "store" / "good.py").write_text("from thesiswatch.errors import X\n")
    os.symlink("../store", tmp_path / "thesiswatch" / "store")
    os.symlink("../tui", tmp_path / "thesiswatch" / "tui")
    assert set(modules(tmp_path)) == {
        "thesiswatch", "thesiswatch.store", "thesiswatch.store.bad",
        "thesiswatch.store.good", "thesiswatch.tui",
    }  # fmt: skip
    found = layer_violations(tmp_path)
    assert len(found) == 1
    assert "thesiswatch.store.bad imports thesiswatch.tui (store -> tui)" in found[0]
    assert [v.split(": ", 1)[1] for v in library_violations(tmp_path)] == [
        "thesiswatch.store.bad imports textual"
    ]


def test_root_folders_are_never_imported_by_their_own_name() -> None:
    """From the repository root ``import store`` works by accident and loads a second copy."""
    paths = [
        *modules(ROOT).values(),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").glob("*.py"),
    ]
    assert folder_name_imports(paths) == []


def test_importing_thesiswatch_never_loads_a_root_folder(tmp_path: Path) -> None:
    loaded = _modules_after(
        "import thesiswatch.cli, thesiswatch.daemon, thesiswatch.feeds.fetch, thesiswatch.store, "
        "thesiswatch.tui.app",
        cwd=tmp_path,
    )
    assert not set(FOLDERS) & loaded
    assert {"thesiswatch.feeds.fetch", "thesiswatch.store", "thesiswatch.tui.app"} <= loaded


def test_ruff_is_clean() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_checks_every_module_and_is_clean() -> None:
    """``mypy -p thesiswatch`` must see the linked folders: every .py file is a checked source."""
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "-v", "-p", "thesiswatch"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:]
    checked = set(re.findall(r"Found source: +BuildSource\(path='([^']+\.py)'", out.stderr))
    expected = {str(p) for p in modules(ROOT).values()}
    assert checked == expected
    assert re.search(r"Success: no issues found in \d+ source files", out.stdout)


def test_wheel_holds_thesiswatch_only_with_its_data(tmp_path: Path) -> None:
    """Built offline with the test extra's setuptools and wheel, from a clean copy of the
    tree (links kept as links) so that no stale ``build/`` of an earlier run leaks in."""
    source = tmp_path / "src"
    shutil.copytree(
        ROOT, source, symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                      ".*_cache", "tests", "bench", "docs"),
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("thesiswatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"thesiswatch", wheel.name.split("-py")[0] + ".dist-info"}
    modules_in_wheel = {n for n in names if n.endswith(".py")}
    assert modules_in_wheel == {
        str(p.relative_to(ROOT)) for p in modules(ROOT).values()
    }  # every module, the linked folders' as real files
    for data in (
        "thesiswatch/watchlists/deepseek_r1.toml",
        "thesiswatch/signals/data/sentiment_zh.tsv",
        "thesiswatch/signals/data/sentiment_en.tsv",
        "thesiswatch/feeds/sec_ciks.toml",
        "thesiswatch/store/metadata.json",
        "thesiswatch/tui/app.tcss",
        "thesiswatch/demo/samples.toml",
        "thesiswatch/systemd/thesiswatch.service",
    ):
        assert data in names, data


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
