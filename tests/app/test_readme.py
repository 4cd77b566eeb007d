"""The README tells the truth: its config example is accepted, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from thesiswatch.alerts import RuleSettings
from thesiswatch.cli import cli
from thesiswatch.config import parse_config

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_config_example_is_valid(tmp_path: Path) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README, flags=re.S)
    assert blocks
    for block in blocks:
        parsed = parse_config(block, origin="README.md", base_dir=tmp_path)
        RuleSettings.from_config(parsed["rules"])
        assert parsed["sources"], "the example shows a source"


def test_readme_commands_exist() -> None:
    runner = CliRunner()
    shell = "\n".join(re.findall(r"```sh\n(.*?)```", README, flags=re.S))
    lines = re.findall(r"(?:^|\| )thesiswatch ([^#\n]*)", shell, flags=re.M)
    assert len(lines) > 10
    groups = {"sources", "rules", "export"}
    for line in lines:
        words = [w for w in line.split() if not w.startswith("--")]
        words = [w for w in words if not re.fullmatch(r"\S+\.(db|toml|jsonl|opml)|\d+[dh]?", w)]
        command = words[:2] if words and words[0] in groups else words[:1]
        if not command or command[0].startswith(("'", '"')):
            continue
        if command[0] == "export":
            command = command[:1]
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (line, result.output)


def test_readme_sql_examples_run_on_a_fresh_database(tmp_path: Path) -> None:
    from thesiswatch.store import Store

    blocks = re.findall(r"```sql\n(.*?)```", README, flags=re.S)
    statements = [
        s.strip()
        for block in blocks
        for s in "\n".join(x for x in block.splitlines() if not x.startswith("--")).split(";")
        if s.strip()
    ]
    assert len(statements) >= 5
    with Store.open(tmp_path / "readme.db") as store:
        for sql in statements:
            store.query(sql)
