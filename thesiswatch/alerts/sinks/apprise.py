"""Apprise (optional extra ``thesiswatch[notify]``): Telegram, Slack, Discord, email, ntfy...
imported lazily, one digest per batch."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from thesiswatch.alerts.format import digest_messages, one_line
from thesiswatch.alerts.sinks.base import Delivery, deliveries, describe_error, redact
from thesiswatch.errors import ConfigError
from thesiswatch.records import Alert


def _import_apprise() -> Any:
    try:
        import apprise  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ConfigError(
            "alerts.apprise needs the optional package 'apprise': "
            "pip install 'thesiswatch[notify]' (or pip install apprise)"
        ) from exc
    return apprise


class AppriseSink:
    """Notification services through Apprise URLs (``tgram://``, ``slack://``, ``ntfy://``,
    ``mailto://``, ...): one digest per URL per delivery. Apprise is imported lazily; without
    it the constructor raises ``ConfigError`` with the install command."""

    def __init__(self, urls: Sequence[str], *, name: str | None = None) -> None:
        self._apprise = _import_apprise()
        if not urls:
            raise ValueError("no Apprise URLs")
        self.urls = list(urls)
        schemes = sorted({u.split("://", 1)[0] for u in urls})
        self.name = f"apprise:{name or '+'.join(schemes)}"
        self._secrets = tuple(self.urls) + tuple(
            p for u in urls for p in re.split(r"[/:@?&=]+", u.split("://", 1)[-1]) if len(p) >= 6
        )

    def __repr__(self) -> str:
        return f"AppriseSink({self.name!r})"

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        messages = digest_messages(alerts, max_bytes=3800, markdown=False)
        notifier = self._apprise.Apprise()
        for url in self.urls:
            if not notifier.add(url):
                return deliveries(
                    alerts,
                    self.name,
                    "failed",
                    error=one_line(redact(f"Apprise did not accept the URL {url}", self._secrets)),
                )
        out: list[Delivery] = []
        for title, text, members in messages:
            try:
                ok = await self._notify(notifier, title, text)
            except Exception as exc:  # a plugin bug must not stop delivery to other channels
                error = one_line(redact(describe_error(exc), self._secrets))
                out += deliveries(members, self.name, "failed", error=error, retryable=True)
                continue
            if ok:
                out += deliveries(members, self.name, "sent")
            else:
                error = "Apprise reported a failed notification (see its log)"
                out += deliveries(members, self.name, "failed", error=error, retryable=True)
        return out

    @staticmethod
    async def _notify(notifier: Any, title: str, body: str) -> bool:
        if hasattr(notifier, "async_notify"):
            return bool(await notifier.async_notify(body=body, title=title))
        return bool(await asyncio.to_thread(notifier.notify, body=body, title=title))
