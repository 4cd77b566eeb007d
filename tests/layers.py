"""The layer contract of DESIGN.md, as data and an AST checker (no third-party tool).

``cli > tui > app > alerts > store > signals > feeds``: a module may import its own layer and
the layers below it, never one above; the kernel (errors, clock, shared records)
is importable by every layer and imports nothing of ours but itself. Third-party libraries with
an owner (Textual, SQLite, httpx) are imported only by that owner.

The checker walks the installed package's folder *following links* (``thesiswatch/feeds`` is a
link to the root folder ``feeds/``), names every module as Python imports it
(``thesiswatch.feeds.fetch``), and reads every import statement, including those inside
functions and under ``TYPE_CHECKING``: a type-only import still ties the layers together.
(import-linter sees the same modules through the links; this walk also checks owned libraries,
cycles and root-folder-name imports, without another dependency.)
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "thesiswatch"

# Highest first. A prefix names a module and everything under it; the first match wins.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli", ("thesiswatch.cli", "thesiswatch.__main__")),
    ("tui", ("thesiswatch.tui",)),
    ("app", ("thesiswatch",)),  # everything in the app folder not claimed by another layer
    ("alerts", ("thesiswatch.alerts",)),
    ("store", ("thesiswatch.store",)),
    ("signals", ("thesiswatch.signals",)),
    ("feeds", ("thesiswatch.feeds",)),
)
KERNEL: tuple[str, ...] = (  # and the package itself (version, meta keys)
    "thesiswatch.errors",
    "thesiswatch.clock",
    "thesiswatch.records",
)
ORDER = ["kernel"] + [name for name, _ in reversed(LAYERS)]

# third-party top-level name -> layers (or module prefixes) allowed to import it
OWNED_LIBRARIES: dict[str, tuple[str, ...]] = {
    "textual": ("thesiswatch.tui",),
    "sqlite3": ("thesiswatch.store",),
    "sqlite_utils": ("thesiswatch.store",),
    "httpx": ("thesiswatch.feeds", "thesiswatch.alerts.sinks"),
}

# the root folders that install under thesiswatch: never importable by their own name
FOLDERS = ("feeds", "signals", "store", "tui")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}"


def modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` (a folder under ``root``), links followed, by import name."""
    found: dict[str, Path] = {}
    base = root / package
    for folder, subfolders, files in os.walk(base, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            path = Path(folder) / file
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level > 1:
                    parts = parts[: -(node.level - 1)]
                module = ".".join(parts + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:  # ``from thesiswatch import store`` imports a module
                if f"{module}.{alias.name}" in known:
                    yield f"{module}.{alias.name}", node.lineno


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str:
    if module == PACKAGE or any(_under(module, k) for k in KERNEL):
        return "kernel"
    for name, prefixes in LAYERS:
        if name == "app":
            continue
        if any(_under(module, p) for p in prefixes):
            return name
    return "app"


def all_imports(root: Path, package: str = PACKAGE) -> list[Import]:
    known = modules(root, package)
    return [
        Import(name, imported, path, line)
        for name, path in known.items()
        for imported, line in imports_of(name, path, known)
    ]


def layer_violations(root: Path, package: str = PACKAGE) -> list[str]:
    """Imports that go upwards, or from the kernel into a layer."""
    bad = []
    for imp in all_imports(root, package):
        if not _under(imp.imported, package):
            continue
        source, target = layer_of(imp.importer), layer_of(imp.imported)
        if target == "kernel":
            continue
        if source == "kernel" or ORDER.index(source) < ORDER.index(target):
            bad.append(f"{imp} ({source} -> {target})")
    return bad


def library_violations(root: Path, package: str = PACKAGE) -> list[str]:
    """Textual outside tui, SQLite outside store, httpx outside feeds and the sinks."""
    bad = []
    for imp in all_imports(root, package):
        owners = OWNED_LIBRARIES.get(imp.imported.split(".")[0])
        if owners is not None and not any(_under(imp.importer, o) for o in owners):
            bad.append(str(imp))
    return bad


def folder_name_imports(paths: list[Path]) -> list[str]:
    """``import store`` / ``from feeds.x import y``: works from the repository root by accident
    (the root is on ``sys.path`` under pytest) and loads a second copy of the package."""
    bad = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                if n.split(".")[0] in FOLDERS:
                    bad.append(f"{path}:{node.lineno}: import {n}")
    return bad


def import_cycles(root: Path, package: str = PACKAGE) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's strongly
    connected components). A module importing its own parent package does not count."""
    known = modules(root, package)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for imp in all_imports(root, package):
        target = imp.imported
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != imp.importer and not _under(imp.importer, target):
            graph[imp.importer].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found
