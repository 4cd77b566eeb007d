"""End to end: the daemon polls fixture feeds served on 127.0.0.1, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FixtureServer

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    args: list[str], tmp_path: Path, *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thesiswatch", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        env=isolated_env(tmp_path),
        timeout=300,
    )


def isolated_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THESISWATCH_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        PYTHONPATH=str(ROOT),
    )
    return env


def write_config(tmp_path: Path, server: FixtureServer) -> Path:
    cfg = tmp_path / "my.toml"
    cfg.write_text(
        f"""
[[sources]]
name = "Fixture Wire"
url = "{server.url("wire_en.xml")}"
interval = 60
lang = "en"

[[sources]]
name = "Fixture Kuaixun"
url = "{server.url("kuaixun_zh.xml")}"
interval = 60

[[sources]]
name = "Fixture Challenge Page"
url = "{server.url("not_a_feed.html")}"

[[sources]]
name = "Fixture Dead Host"
url = "http://127.0.0.1:9/feed.xml"
""",
        encoding="utf-8",
    )
    return cfg


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def start_daemon(cfg: Path, db: Path, tmp_path: Path) -> subprocess.Popen[str]:
    """``thesiswatch daemon`` in the background, on the fixture config."""
    return subprocess.Popen(
        [sys.executable, "-m", "thesiswatch", "--config", str(cfg), "--db", str(db), "daemon"],
        cwd=ROOT,
        env=isolated_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_first_cycle(db: Path) -> None:
    """Until the daemon stored the fixture feed's 7 items (a bounded wait, not a timing
    assertion)."""
    for _ in range(600):
        has_items = (
            db.exists()
            and db_rows(db, "select count(*) from sqlite_master where name = 'items'")[0][0]
        )
        if has_items and db_rows(db, "select count(*) from items")[0][0] == 7:
            return
        time.sleep(0.1)


def test_daemon_once_stores_tags_alerts_and_is_idempotent(
    tmp_path: Path, feed_server: FixtureServer
) -> None:
    cfg = write_config(tmp_path, feed_server)
    db = tmp_path / "my.db"
    alerts = tmp_path / "alerts.jsonl"
    args = [
        "--config",
        str(cfg),
        "--db",
        str(db),
        "daemon",
        "--once",
        "--alerts-jsonl",
        str(alerts),
    ]

    first = run_cli(args, tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert any(
        line.startswith("ok") and "Fixture Wire" in line and "4 new" in line for line in lines
    )
    assert any(
        line.startswith("ok") and "Fixture Kuaixun" in line and "3 new" in line for line in lines
    )
    failed = [line for line in lines if line.startswith("failed")]
    assert any("Fixture Challenge Page" in line and "HTML" in line for line in failed)
    assert any("Fixture Dead Host" in line for line in failed)
    assert "Traceback" not in first.stderr

    assert db_rows(db, "select count(*) from items") == [(7,)]
    titles = dict(db_rows(db, "select id, title from items"))
    plunge = next(i for i, t in titles.items() if t.startswith("Nvidia shares plunge"))
    porridge = next(i for i, t in titles.items() if t.startswith("小米粥"))
    tickers_of = (
        "select t.ticker from item_tickers t join items i on i.key = t.item_key where i.id = '{}'"
    )
    assert ("NVDA.US",) in db_rows(db, tickers_of.format(plunge))
    assert db_rows(db, tickers_of.format(porridge)) == []
    labels = dict(
        db_rows(db, "select i.id, s.label from sentiments s join items i on i.key = s.item_key")
    )
    assert labels[plunge] == "neg"

    alert_lines = [json.loads(x) for x in alerts.read_text(encoding="utf-8").splitlines()]
    assert alert_lines, "the Nvidia plunge must raise an alert"
    assert set(alert_lines[0]) >= {
        "id",
        "created",
        "rule",
        "severity",
        "title",
        "message",
        "url",
        "tickers",
        "thesis",
        "stance",
        "item_ids",
    }
    assert any("NVDA.US" in a["tickers"] for a in alert_lines)
    stored_alerts = db_rows(db, "select count(*) from alerts")[0][0]
    assert stored_alerts == len(alert_lines)

    second = run_cli(args, tmp_path)
    assert second.returncode == 0, second.stderr
    assert db_rows(db, "select count(*) from items") == [(7,)]
    assert db_rows(db, "select count(*) from alerts")[0][0] == stored_alerts
    assert len(alerts.read_text(encoding="utf-8").splitlines()) == len(alert_lines)
    assert any(
        "not modified" in line and "Fixture Wire" in line for line in second.stdout.splitlines()
    )
    # every poll of both runs is in the health record (unchanged and failed sources are
    # written together at the end of a cycle)
    sources = db_rows(db, "select count(*) from sources where active = 1")[0][0]
    assert db_rows(db, "select count(*) from fetch_log")[0][0] == 2 * sources
    health = dict(db_rows(db, "select name, status from source_health"))
    assert health["Fixture Wire"] == "ok"
    assert health["Fixture Dead Host"] == "failing"
    assert db_rows(
        db,
        "select consecutive_failures, last_error is not null from sources "
        "where name = 'Fixture Dead Host'",
    ) == [(2, 1)]
    assert db_rows(db, "select last_status from sources where name = 'Fixture Wire'") == [
        ("not_modified",)
    ]


def test_daemon_runs_until_sigterm_and_holds_a_lock(
    tmp_path: Path, feed_server: FixtureServer
) -> None:
    cfg = write_config(tmp_path, feed_server)
    db = tmp_path / "forever.db"
    proc = start_daemon(cfg, db, tmp_path)
    try:
        wait_for_first_cycle(db)
        second = run_cli(["--config", str(cfg), "--db", str(db), "daemon", "--once"], tmp_path)
        assert second.returncode == 1
        assert "another daemon" in second.stderr and "Traceback" not in second.stderr
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "daemon.stop" in err
    assert db_rows(db, "select count(*) from items") == [(7,)]
    assert db_rows(db, "pragma integrity_check") == [("ok",)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "/nonexistent/x.toml", "daemon", "--once"], "config file not found"),
        (["--db", "/proc/forbidden/x.db", "daemon", "--once"], "x.db"),
        (["query", "select 1", "--db", "/nonexistent/none.db"], "no database yet"),
    ],
)
def test_user_mistakes_give_one_line_and_no_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(args, tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_daemon_exits_with_one_line_when_its_database_is_deleted(
    tmp_path: Path, feed_server: FixtureServer
) -> None:
    cfg = write_config(tmp_path, feed_server)
    db = tmp_path / "doomed.db"
    link = tmp_path / "link.db"
    link.symlink_to(db)
    proc = start_daemon(cfg, db, tmp_path)
    try:
        wait_for_first_cycle(db)
        # a second daemon through a symlink finds the same lock
        second = run_cli(["--config", str(cfg), "--db", str(link), "daemon", "--once"], tmp_path)
        assert second.returncode == 1 and "another daemon" in second.stderr
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    gone = [line for line in err.splitlines() if "daemon.database_gone" in line]
    assert len(gone) == 1 and "the database file was deleted" in gone[0]
    assert "Traceback" not in err
