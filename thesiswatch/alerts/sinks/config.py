"""Sinks and dispatcher options from the ``[alerts]`` config table (validated once here)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from thesiswatch.alerts.sinks.apprise import AppriseSink
from thesiswatch.alerts.sinks.base import Sink
from thesiswatch.alerts.sinks.chat import DingTalkSink, FeishuSink
from thesiswatch.alerts.sinks.local import DesktopSink, JsonlSink, StdoutSink
from thesiswatch.alerts.sinks.webhook import WebhookSink
from thesiswatch.errors import ConfigError

log = logging.getLogger("thesiswatch.sinks")

_ALERTS_KEYS = {
    "jsonl": "a file path (string)",
    "stdout": 'true/false or "text"/"json"',
    "desktop": "true/false (a desktop notification per batch, with notify-send or osascript)",
    "webhooks": "an array of tables with url (and secret, name)",
    "apprise": "an array of Apprise URL strings",
    "dingtalk": "an array of tables with token or url (and secret, keyword, name)",
    "feishu": "an array of tables with token or url (and secret, keyword, name)",
    "retries": "a whole number >= 0",
    "backoff_seconds": "a number > 0",
    "give_up_hours": "a number > 0",
    "shutdown_grace_seconds": "a number >= 0",
}


def _tag(url: str) -> str:
    """A short, stable tag of a URL for a channel name (6 hex digits of its SHA-256: names
    the destination across restarts without revealing the URL)."""
    return hashlib.sha256(url.encode()).hexdigest()[:6]


def _expect_rows(where: str, value: object, allowed: set[str]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: expected an array of tables")
    for i, row in enumerate(value):
        for key, item in row.items():
            if key not in allowed:
                raise ConfigError(
                    f"{where}[{i}].{key}: unknown key (expected one of: {', '.join(sorted(allowed))})"
                )
            if not isinstance(item, str):
                raise ConfigError(f"{where}[{i}].{key}: expected a string")
    return value


def build_sinks(
    alerts_config: Mapping[str, Any],
    *,
    jsonl_override: Path | None = None,
    base_dir: Path | None = None,
    client: httpx.AsyncClient | None = None,
    origin: str = "config",
) -> list[Sink]:
    """Sinks from the ``[alerts]`` table; unknown keys and bad values raise ``ConfigError``
    naming the key. ``jsonl_override`` (``--alerts-jsonl``) replaces ``jsonl``; a relative
    ``jsonl`` is taken from ``base_dir`` (the config file's directory).

    >>> [s.name for s in build_sinks({"jsonl": "a.jsonl", "webhooks": [
    ...     {"url": "https://hooks.example.com/T0/B1/xyz", "secret": "s"}]})]
    ['jsonl', 'webhook:hooks.example.com']
    """
    for key in alerts_config:
        if key not in _ALERTS_KEYS:
            raise ConfigError(
                f"{origin}: alerts.{key}: unknown key (expected one of: {', '.join(_ALERTS_KEYS)})"
            )
    sinks: list[Sink] = []
    jsonl = alerts_config.get("jsonl")
    if jsonl is not None and (not isinstance(jsonl, str) or not jsonl.strip()):
        raise ConfigError(f"{origin}: alerts.jsonl: expected {_ALERTS_KEYS['jsonl']}")
    path = jsonl_override or (Path(jsonl).expanduser() if jsonl else None)
    if path is not None:
        if not path.is_absolute() and jsonl_override is None and base_dir is not None:
            path = base_dir / path
        sinks.append(JsonlSink(path))
    stdout = alerts_config.get("stdout", False)
    if stdout not in (True, False, "text", "json"):
        raise ConfigError(f"{origin}: alerts.stdout: expected {_ALERTS_KEYS['stdout']}")
    if stdout:
        sinks.append(StdoutSink(format="json" if stdout == "json" else "text"))
    desktop = alerts_config.get("desktop", False)
    if not isinstance(desktop, bool):
        raise ConfigError(f"{origin}: alerts.desktop: expected {_ALERTS_KEYS['desktop']}")
    if desktop:
        try:
            sinks.append(DesktopSink())
        except ValueError as exc:
            log.warning("alerts.desktop: %s; desktop notifications are off", exc)
    for i, row in enumerate(
        _expect_rows(
            f"{origin}: alerts.webhooks",
            alerts_config.get("webhooks", []),
            {"url", "secret", "name"},
        )
    ):
        if "url" not in row:
            raise ConfigError(f"{origin}: alerts.webhooks[{i}].url: missing")
        try:
            sinks.append(
                WebhookSink(
                    row["url"], secret=row.get("secret"), name=row.get("name"), client=client
                )
            )
        except ValueError as exc:
            raise ConfigError(f"{origin}: alerts.webhooks[{i}].url: {exc}") from exc
    for vendor, cls in (("dingtalk", DingTalkSink), ("feishu", FeishuSink)):
        rows = _expect_rows(
            f"{origin}: alerts.{vendor}",
            alerts_config.get(vendor, []),
            {"token", "url", "secret", "keyword", "name"},
        )
        for i, row in enumerate(rows):
            token = row.get("token") or row.get("url")
            if not token or ("token" in row and "url" in row):
                raise ConfigError(
                    f"{origin}: alerts.{vendor}[{i}]: give exactly one of token or url"
                )
            sinks.append(
                cls(
                    token,
                    secret=row.get("secret"),
                    keyword=row.get("keyword", ""),
                    name=row.get("name") or (str(i + 1) if len(rows) > 1 else None),
                    client=client,
                )
            )
    urls = alerts_config.get("apprise", [])
    if not isinstance(urls, list) or not all(isinstance(u, str) and "://" in u for u in urls):
        raise ConfigError(f"{origin}: alerts.apprise: expected {_ALERTS_KEYS['apprise']}")
    # One sink per URL: each URL has its own queue, retries and outbox rows, so a dead URL
    # never repeats or holds up a good one.
    for url in urls:
        scheme = url.split("://", 1)[0]
        sinks.append(AppriseSink([url], name=f"{scheme}#{_tag(url)}"))
    # Channel names are the outbox's destinations: two sinks may not share one.
    seen: set[str] = set()
    for sink in sinks:
        if sink.name in seen:
            url = str(getattr(sink, "url", "") or getattr(sink, "_url", "") or len(seen))
            sink.name = f"{sink.name}#{_tag(url)}"
        seen.add(sink.name)
    return sinks


def dispatcher_options(
    alerts_config: Mapping[str, Any], *, origin: str = "config"
) -> dict[str, Any]:
    """``Dispatcher`` keyword arguments from ``[alerts]`` (``retries``, ``backoff_seconds``,
    ``give_up_hours``, ``shutdown_grace_seconds``)."""
    out: dict[str, Any] = {}
    retries = alerts_config.get("retries")
    if retries is not None:
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ConfigError(f"{origin}: alerts.retries: expected {_ALERTS_KEYS['retries']}")
        out["retries"] = retries
    backoff = alerts_config.get("backoff_seconds")
    if backoff is not None:
        if not isinstance(backoff, int | float) or isinstance(backoff, bool) or backoff <= 0:
            raise ConfigError(
                f"{origin}: alerts.backoff_seconds: expected {_ALERTS_KEYS['backoff_seconds']}"
            )
        out["backoff"] = float(backoff)
    for key, arg, least in (
        ("give_up_hours", "give_up_after", 0.0),
        ("shutdown_grace_seconds", "grace", None),
    ):
        value = alerts_config.get(key)
        if value is None:
            continue
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or value < 0
            or (least is not None and value <= least)
        ):
            raise ConfigError(f"{origin}: alerts.{key}: expected {_ALERTS_KEYS[key]}")
        out[arg] = float(value) * (3600.0 if key == "give_up_hours" else 1.0)
    return out
