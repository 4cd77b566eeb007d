"""kill -9 during heavy ingest loses nothing acknowledged (bench/crash.py runs 20 rounds)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CRASH = Path(__file__).resolve().parents[2] / "bench" / "crash.py"


@pytest.mark.slow
def test_kill_9_during_ingest_keeps_every_acknowledged_item(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_crash", CRASH)
    assert spec is not None and spec.loader is not None
    crash = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crash)
    assert crash.run(3, tmp_path / "crash.db", batch=500, min_wait=0.1, max_wait=1.0)
