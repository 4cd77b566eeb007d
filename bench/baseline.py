"""Run a pinned commit of thesiswatch beside the working tree, for a benchmark's baseline column.

The baseline is the code of ``BASELINE_REV`` (``main`` before the frozen evaluation set
existed), checked out once in a detached git worktree under the temp folder and run in a
subprocess with that worktree first on ``sys.path``; no copy of old code lives in the tree.
``Target`` names one code tree to run (the working tree or a baseline worktree) and runs
commands against it in a hermetic environment (temporary HOME and XDG folders, no user
config), so a user's own config never changes a figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REV = "7a6eedbfc9d5ea0937993e2b75d130ae60d52b37"
"""``main`` on 2026-12-05, before docs/evaluation.md and the frozen set: the tagger and rules
the issues "Signals v3" and "Alerts on what matters" set out to replace."""


class BaselineError(Exception):
    """The baseline worktree could not be made (no git, unknown commit, ...)."""


@dataclass(frozen=True)
class Target:
    """A code tree to run: ``label`` for the report, ``root`` its checkout."""

    label: str
    root: Path

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
        env.update(
            PYTHONPATH=str(self.root),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CACHE_HOME=str(home / "cache"),
            PYTHONHASHSEED="0",
        )
        return env

    def run(
        self, args: list[str], *, stdin: str = "", home: Path
    ) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` with this tree first on ``sys.path``; raises on a non-zero exit."""
        done = subprocess.run(
            [sys.executable, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env(home),
        )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise BaselineError(f"{self.label}: `python {' '.join(args[:3])}` failed:\n{tail}")
        return done

    def python_prelude(self) -> str:
        """Code that makes sure the package is imported from this tree, not an installed copy."""
        return (
            "import sys, pathlib\n"
            f"ROOT = pathlib.Path({str(self.root)!r}).resolve()\n"
            "sys.path.insert(0, str(ROOT))\n"
            "import thesiswatch\n"
            "assert pathlib.Path(thesiswatch.__file__).resolve().is_relative_to(ROOT), "
            "thesiswatch.__file__\n"
        )


def current() -> Target:
    return Target("current", ROOT)


def baseline(rev: str = BASELINE_REV) -> Target:
    """A worktree of ``rev`` (made once, then reused), as a ``Target``."""
    try:
        full = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BaselineError(f"baseline: cannot resolve commit {rev!r} in {ROOT} ({exc})") from exc
    where = Path(tempfile.gettempdir()) / f"thesiswatch-baseline-{full[:12]}"
    if not (where / "thesiswatch" / "__init__.py").exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)
        made = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(where), full],
            capture_output=True, text=True,
        )  # fmt: skip
        if made.returncode != 0:
            raise BaselineError(f"baseline: git worktree add failed: {made.stderr.strip()}")
    return Target(f"baseline {full[:7]}", where)
