"""Config loading: precedence, strict validation with one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from thesiswatch.config import load_settings, parse_config
from thesiswatch.errors import ConfigError

GOOD = """
db = "data/my.db"

[fetch]
timeout = 12
rsshub_base = "http://127.0.0.1:1200"

[[sources]]
name = "Google News: DeepSeek (zh)"
url = "https://news.google.com/rss/search?q=DeepSeek&hl=zh-CN&gl=CN&ceid=CN:zh-Hans"
interval = 600
lang = "zh"

[[sources]]
name = "A JSON API"
url = "https://example.invalid/api/news"
kind = "json"
json = { items = "data.list", title = "headline", url = "link" }

[alerts]
jsonl = "alerts.jsonl"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_parsed_with_relative_paths_resolved(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={})
    assert settings.db_path == tmp_path / "data" / "my.db"
    assert [s.name for s in settings.sources] == ["Google News: DeepSeek (zh)", "A JSON API"]
    assert settings.sources[0].interval == 600 and settings.sources[0].lang == "zh"
    assert settings.sources[1].json is not None and settings.sources[1].json.items == "data.list"
    assert settings.fetch.timeout == 12
    assert settings.alerts == {"jsonl": "alerts.jsonl"}
    assert not settings.uses_catalogue


def test_precedence_option_then_env_then_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, GOOD)
    env = {"THESISWATCH_DB": str(tmp_path / "env.db"), "THESISWATCH_CONFIG": str(cfg)}
    assert load_settings(env=env).db_path == tmp_path / "env.db"
    assert load_settings(db_path=tmp_path / "opt.db", env=env).db_path == tmp_path / "opt.db"


def test_missing_default_config_is_fine_but_named_one_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing"))
    assert load_settings(env={}).uses_catalogue
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.toml", env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 1", "unknown key 'colour'"),
        ("[fetch]\ntimout = 3", "unknown key fetch.'timout'"),
        ("[fetch]\ntimeout = 'fast'", "fetch.timeout must be a number"),
        ("[fetch]\ntimeout = -1", "fetch.timeout must be positive"),
        (
            '[[sources]]\nname = "x"\nurl = "ftp://x/y"',
            r"sources\[0\].url must be an http\(s\) URL",
        ),
        (
            '[[sources]]\nname = "x"\nurl = "not a url"',
            r"sources\[0\].url must be an http\(s\) URL",
        ),
        ('[[sources]]\nurl = "https://a.invalid/f"', r"sources\[0\].name is required"),
        (
            '[[sources]]\nname = "x"\nurl = "https://a.invalid/f"\ninterval = 5',
            "at least 30 seconds",
        ),
        (
            '[[sources]]\nname = "x"\nurl = "https://a.invalid/f"\nlang = "fr"',
            "lang must be one of zh, en",
        ),
        ('[[sources]]\nname = "x"\nurl = "https://a.invalid/f"\nkind = "json"', "field mapping"),
        (
            '[[sources]]\nname = "x"\nurl = "https://a.invalid/f"\ncolor = 1',
            r"unknown key sources\[0\].'color'",
        ),
        ("[retention]\ndays = 0", "retention.days must be at least 1"),
        ("this is = = not toml", "not valid TOML"),
        (
            '[[sources]]\nname = "a"\nurl = "https://a.invalid/f"\n[[sources]]\nname = "b"\nurl = "https://a.invalid/f"',
            "same url",
        ),
    ],
)
def test_bad_config_names_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(text, origin="my.toml")
    assert str(info.value).startswith("my.toml: ")
    assert "\n" not in str(info.value)
