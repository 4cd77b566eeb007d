"""Settings: the TOML config file, environment overrides and default paths.

Precedence for each path: command-line option, then environment variable
(``THESISWATCH_CONFIG``, ``THESISWATCH_DB``), then the config file (``db``, ``watchlist``),
then the platform default (XDG on Linux, via platformdirs).

Validation is strict: an unknown key or a bad value raises ``ConfigError`` naming the file,
the key and what was expected. Sections owned by other modules (``[alerts]``, ``[rules]``)
are type-checked here as tables and validated in full by their owners.

Example::

    db = "~/research/thesis.db"

    [fetch]
    timeout = 20
    rsshub_base = "http://127.0.0.1:1200"

    [[sources]]
    name = "Google News: DeepSeek (zh)"
    url = "https://news.google.com/rss/search?q=DeepSeek&hl=zh-CN&gl=CN&ceid=CN:zh-Hans"
    interval = 600
    lang = "zh"

    [alerts]
    jsonl = "alerts.jsonl"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from thesiswatch.errors import ConfigError
from thesiswatch.feeds.models import JsonMapping, Source

APP_NAME = "thesiswatch"
ENV_CONFIG = "THESISWATCH_CONFIG"
ENV_DB = "THESISWATCH_DB"

_TOP_KEYS = {
    "db",
    "watchlist",
    "fetch",
    "sources",
    "alerts",
    "rules",
    "retention",
    "scorer",
    "tui",
}
_TUI_KEYS = {"bell": bool, "desktop_notify": bool}
_FETCH_KEYS: dict[str, type | tuple[type, ...]] = {
    "timeout": (int, float),
    "connect_timeout": (int, float),
    "max_bytes": int,
    "user_agent": str,
    "per_host_limit": int,
    "rsshub_base": str,
    "default_interval": int,
    "sec_contact": str,
}
_SOURCE_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "url": str,
    "interval": int,
    "lang": str,
    "kind": str,
    "user_agent": str,
    "tickers": list,
    "json": dict,
    "utc_offset": str,
}
_JSON_KEYS = {"items", "title", "url", "summary", "published", "id"}
_RETENTION_KEYS = {"days": int}
_SCORER_KEYS = {"plugin": str}
_LANGS = {"zh", "en"}
MIN_INTERVAL = 30


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / "config.toml"


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME) / "thesiswatch.db"


@dataclass(frozen=True, kw_only=True)
class FetchConfig:
    """The ``[fetch]`` table."""

    timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str | None = None
    per_host_limit: int = 2
    rsshub_base: str | None = None
    default_interval: int = 900
    sec_contact: str | None = None  # e-mail for SEC's required User-Agent
    adaptive: bool = True  # stretch quiet feeds' intervals (the demo turns it off)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the app shell needs, resolved and validated."""

    config_path: Path | None
    db_path: Path
    watchlist_path: Path | None = None
    sources: tuple[Source, ...] = ()  # empty: use the built-in catalogue
    fetch: FetchConfig = field(default_factory=FetchConfig)
    alerts: Mapping[str, Any] = field(default_factory=dict)
    rules: Mapping[str, Any] = field(default_factory=dict)
    retention_days: int | None = None
    scorer_plugin: str | None = None
    tui_bell: bool = False  # [tui] bell: ring the terminal bell when a critical alert arrives
    tui_desktop_notify: bool = False  # [tui] desktop_notify: and a desktop notification

    @property
    def uses_catalogue(self) -> bool:
        return not self.sources


def _expect(
    origin: str, key: str, value: object, types: type | tuple[type, ...], what: str
) -> None:
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"{origin}: {key} must be {what}, got {value!r}")
    if not isinstance(value, types):
        raise ConfigError(f"{origin}: {key} must be {what}, got {value!r}")


def _check_keys(
    origin: str, where: str, table: Mapping[str, Any], allowed: set[str] | Mapping[str, Any]
) -> None:
    for key in table:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise ConfigError(f"{origin}: unknown key {where}{key!r} (expected one of: {expected})")


def check_url(url: str, *, origin: str, key: str) -> str:
    """Accept only absolute http(s) URLs with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{origin}: {key} must be an http(s) URL, got {url!r}")
    return url.strip()


def _parse_source(origin: str, index: int, raw: object, default_interval: int) -> Source:
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: {where} must be a table ([[sources]])")
    _check_keys(origin, f"{where}.", raw, _SOURCE_KEYS)
    for key, types in _SOURCE_KEYS.items():
        if key in raw:
            _expect(
                origin, f"{where}.{key}", raw[key], types, f"a {getattr(types, '__name__', types)}"
            )
    for key in ("name", "url"):
        if not str(raw.get(key, "")).strip():
            raise ConfigError(f"{origin}: {where}.{key} is required")
    url = check_url(raw["url"], origin=origin, key=f"{where}.url")
    interval = raw.get("interval", default_interval)
    if interval < MIN_INTERVAL:
        raise ConfigError(
            f"{origin}: {where}.interval must be at least {MIN_INTERVAL} seconds, got {interval}"
        )
    lang = raw.get("lang")
    if lang is not None and lang not in _LANGS:
        raise ConfigError(f"{origin}: {where}.lang must be one of zh, en, got {lang!r}")
    kind = raw.get("kind", "feed")
    if kind not in ("feed", "json"):
        raise ConfigError(f"{origin}: {where}.kind must be 'feed' or 'json', got {kind!r}")
    mapping = None
    if kind == "json":
        table = raw.get("json")
        if not isinstance(table, dict):
            raise ConfigError(
                f"{origin}: {where}.json (field mapping) is required when kind = 'json'"
            )
        _check_keys(origin, f"{where}.json.", table, _JSON_KEYS)
        for req in ("items", "title"):
            if not isinstance(table.get(req), str):
                raise ConfigError(f"{origin}: {where}.json.{req} must be a dotted path string")
        mapping = JsonMapping(**{k: str(v) for k, v in table.items()})
    offset = raw.get("utc_offset")
    if offset is not None and not re.fullmatch(r"[+-]\d{2}:\d{2}", offset):
        raise ConfigError(f"{origin}: {where}.utc_offset must look like '+08:00', got {offset!r}")
    tickers = raw.get("tickers", [])
    if not all(isinstance(t, str) for t in tickers):
        raise ConfigError(f"{origin}: {where}.tickers must be a list of ticker ids")
    return Source(
        name=raw["name"].strip(),
        url=url,
        kind=kind,
        interval=interval,
        lang=lang,
        user_agent=raw.get("user_agent"),
        tickers=tuple(tickers),
        json=mapping,
        utc_offset=offset,
    )


def _resolve(path: str | os.PathLike[str], base: Path | None) -> Path:
    p = Path(os.path.expanduser(os.fspath(path)))
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


def parse_config(text: str, *, origin: str, base_dir: Path | None = None) -> dict[str, Any]:
    """Parse and validate config text; returns the checked raw tables plus parsed sources."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    _check_keys(origin, "", data, _TOP_KEYS)
    out: dict[str, Any] = {}
    for key in ("db", "watchlist"):
        if key in data:
            _expect(origin, key, data[key], str, "a path string")
            out[key] = _resolve(data[key], base_dir)
    fetch_raw = data.get("fetch", {})
    _expect(origin, "fetch", fetch_raw, dict, "a table")
    _check_keys(origin, "fetch.", fetch_raw, _FETCH_KEYS)
    for key, types in _FETCH_KEYS.items():
        if key in fetch_raw:
            _expect(
                origin,
                f"fetch.{key}",
                fetch_raw[key],
                types,
                "a number" if types is not str else "a string",
            )
            if types is not str and fetch_raw[key] <= 0:
                raise ConfigError(f"{origin}: fetch.{key} must be positive, got {fetch_raw[key]!r}")
    if "rsshub_base" in fetch_raw:
        check_url(fetch_raw["rsshub_base"], origin=origin, key="fetch.rsshub_base")
    fetch = FetchConfig(**fetch_raw)
    out["fetch"] = fetch
    sources_raw = data.get("sources", [])
    _expect(origin, "sources", sources_raw, list, "an array of tables ([[sources]])")
    sources = [
        _parse_source(origin, i, s, fetch.default_interval) for i, s in enumerate(sources_raw)
    ]
    seen: dict[str, str] = {}
    for src in sources:
        if src.url in seen:
            raise ConfigError(
                f"{origin}: sources {seen[src.url]!r} and {src.name!r} have the same url"
            )
        seen[src.url] = src.name
    out["sources"] = tuple(sources)
    for key in ("alerts", "rules"):
        table = data.get(key, {})
        _expect(origin, key, table, dict, "a table")
        out[key] = table
    retention = data.get("retention", {})
    _expect(origin, "retention", retention, dict, "a table")
    _check_keys(origin, "retention.", retention, _RETENTION_KEYS)
    if "days" in retention:
        _expect(origin, "retention.days", retention["days"], int, "a whole number of days")
        if retention["days"] < 1:
            raise ConfigError(f"{origin}: retention.days must be at least 1")
        out["retention_days"] = retention["days"]
    scorer = data.get("scorer", {})
    _expect(origin, "scorer", scorer, dict, "a table")
    _check_keys(origin, "scorer.", scorer, _SCORER_KEYS)
    if "plugin" in scorer:
        _expect(origin, "scorer.plugin", scorer["plugin"], str, "a 'module:factory' string")
        out["scorer_plugin"] = scorer["plugin"]
    tui = data.get("tui", {})
    _expect(origin, "tui", tui, dict, "a table")
    _check_keys(origin, "tui.", tui, _TUI_KEYS)
    for key in _TUI_KEYS:
        if key in tui:
            _expect(origin, f"tui.{key}", tui[key], bool, "true or false")
            out[f"tui_{key}"] = tui[key]
    return out


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    db_path: str | os.PathLike[str] | None = None,
    watchlist_path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings from options, environment, config file and defaults.

    A config file named explicitly (option or environment) must exist; the default one is
    optional.
    """
    env = os.environ if env is None else env
    explicit = config_path or env.get(ENV_CONFIG)
    path = Path(os.path.expanduser(os.fspath(explicit))) if explicit else default_config_path()
    raw: dict[str, Any] = {}
    used_path: Path | None = None
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
        raw = parse_config(text, origin=str(path), base_dir=path.parent)
        used_path = path
    elif explicit:
        raise ConfigError(f"{path}: config file not found")
    db = db_path or env.get(ENV_DB) or raw.get("db") or default_db_path()
    watchlist = watchlist_path or raw.get("watchlist")
    return Settings(
        config_path=used_path,
        db_path=Path(os.path.expanduser(os.fspath(db))),
        watchlist_path=Path(os.path.expanduser(os.fspath(watchlist))) if watchlist else None,
        sources=raw.get("sources", ()),
        fetch=raw.get("fetch", FetchConfig()),
        alerts=raw.get("alerts", {}),
        rules=raw.get("rules", {}),
        retention_days=raw.get("retention_days"),
        scorer_plugin=raw.get("scorer_plugin"),
        tui_bell=raw.get("tui_bell", False),
        tui_desktop_notify=raw.get("tui_desktop_notify", False),
    )
