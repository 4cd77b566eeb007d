"""The command line as a user types it: help everywhere, tag, query, export, global options."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from thesiswatch.cli import cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, cmd in group.commands.items():
        found.append((*prefix, name))
        if isinstance(cmd, click.Group):
            found.extend(all_commands(cmd, (*prefix, name)))
    return found


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("THESISWATCH_CONFIG", raising=False)
    monkeypatch.delenv("THESISWATCH_DB", raising=False)
    return CliRunner()


def test_the_contract_commands_exist() -> None:
    names = {" ".join(c) for c in all_commands(cli)}
    assert names >= {
        "tui",
        "daemon",
        "demo",
        "tag",
        "export",
        "query",
        "prune",
        "alerts",
        "sources",
        "sources list",
        "sources check",
        "sources import-opml",
        "sources export-opml",
        "rules",
        "rules test",
    }


@pytest.mark.parametrize("command", all_commands(cli))
def test_every_command_has_help(runner: CliRunner, command: tuple[str, ...]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_tag_prints_the_contract_shape(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["tag"], input='{"title": "英伟达股价大跌17%", "id": "x1", "extra": 5}\n'
    )
    assert result.exit_code == 0, result.output
    item = json.loads(result.stdout.strip())
    assert item["id"] == "x1" and item["extra"] == 5
    assert item["lang"] == "zh"
    assert item["tickers"] == ["NVDA.US"]
    assert item["sentiment"]["label"] == "neg"
    assert -1 <= item["sentiment"]["score"] < 0
    assert isinstance(item["theses"], dict)


def test_tag_reports_bad_lines_and_keeps_going(runner: CliRunner) -> None:
    stdin = '{"title": "TSMC lifts capex"}\nnot json\n{"summary": "no title"}\n{"title": "AMD beats estimates"}\n'
    result = runner.invoke(cli, ["tag"], input=stdin)
    assert result.exit_code == 1
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["title"] for o in out] == ["TSMC lifts capex", "AMD beats estimates"]
    assert "stdin line 2: not valid JSON" in result.stderr
    assert 'stdin line 3: needs a "title"' in result.stderr


def test_global_options_work_before_and_after_the_command(
    runner: CliRunner, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.toml")
    before = runner.invoke(cli, ["--config", missing, "tag"], input='{"title": "x"}\n')
    after = runner.invoke(cli, ["tag", "--config", missing], input='{"title": "x"}\n')
    for result in (before, after):
        assert result.exit_code == 1
        assert "config file not found" in result.stderr


def test_rules_test_prints_would_be_alerts_as_jsonl_with_item_ids(
    runner: CliRunner, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from thesiswatch.feeds.models import Item
    from thesiswatch.signals.sentiment import default_scorer
    from thesiswatch.signals.tagger import Tagger
    from thesiswatch.store import Store
    from thesiswatch.watchlists import load_watchlist

    tagger = Tagger(load_watchlist(None), default_scorer())
    now = datetime.now(UTC)
    rows = [
        ("a", "Nvidia shares plunge 17% as DeepSeek rattles AI chip investors", 3, "s1"),
        ("b", "英伟达股价大跌17%", 2, "s1"),  # the same story: no second alert
        ("c", "Xiaomi to announce annual results on March 18", 1, "s2"),  # schedule: none
        ("d", "Nvidia shares plunge 17% as DeepSeek rattles AI chip investors", 24 * 5, "s0"),
    ]
    db = tmp_path / "tw.db"
    with Store.open(db) as store:
        store.save_items(
            [
                (
                    Item(id=i, source_id="src", title=t, published=now - timedelta(hours=h)),
                    tagger.tag(t),
                )
                for i, t, h, _ in rows
            ],
            clusters={i: c for i, _, _, c in rows},
        )
    config = tmp_path / "old.toml"
    config.write_text('[rules]\nenabled = ["shock", "thesis", "risk"]\n', encoding="utf-8")
    args = ["--db", str(db), "--config", str(config), "rules", "test", "--format", "jsonl"]
    result = runner.invoke(cli, [*args, "--since", "2d"])
    assert result.exit_code == 0, result.output
    [alert] = [json.loads(line) for line in result.stdout.splitlines()]
    assert alert["rule"] == "event:shares_down" and alert["severity"] == "critical"
    assert alert["item_ids"] == ["a"] and alert["tickers"][0] == "NVDA.US"
    assert 'rule "shock" is now "event"' in result.stderr
    week = runner.invoke(cli, [*args, "--days", "7"])
    assert [json.loads(x)["item_ids"] for x in week.stdout.splitlines()] == [["d"], ["a"]]
    both = runner.invoke(cli, [*args, "--days", "7", "--since", "2d"])
    assert both.exit_code != 0 and "not both" in both.stderr
