"""What every sink shares: the ``Sink`` protocol, the ``Delivery`` record of one attempt,
and the redaction of credentials (webhook URLs, tokens and secrets never reach a channel
name, a log line, an error or a ``repr``)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from thesiswatch.records import Alert

DeliveryStatus = Literal["sent", "failed", "retrying", "dropped"]
_SECRET_PARAMS = re.compile(r"((?:access_token|token|key|secret|sign)=)[^&\s\"']+", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One delivery attempt of one alert to one channel.

    ``retryable``: the attempt may succeed later (the dispatcher retries it);
    ``retry_after``: seconds the receiver asked us to wait (429 ``Retry-After``, a rate budget).
    """

    alert_id: str
    channel: str
    status: DeliveryStatus
    attempt: int = 1
    http_status: int | None = None
    vendor_code: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret (and its URL-quoted forms) and any ``token=...`` query value.

    >>> redact("POST https://h/robot/send?access_token=abc123 failed: abc123", ["abc123"])
    'POST https://h/robot/send?access_token=*** failed: ***'
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "***")
    return _SECRET_PARAMS.sub(r"\1***", text)


def describe_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


@runtime_checkable
class Sink(Protocol):
    """Something alerts can be delivered to. ``name`` is the ledger's channel (no secrets)."""

    name: str

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]: ...


def deliveries(
    alerts: Sequence[Alert], channel: str, status: DeliveryStatus, **fields: Any
) -> list[Delivery]:
    return [Delivery(alert_id=a.id, channel=channel, status=status, **fields) for a in alerts]
