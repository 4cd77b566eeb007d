"""The plumbing of the HTTP sinks: an httpx client (given or owned), redaction of their
credentials, and the classification of an answer (retryable or not, ``Retry-After``)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx

from thesiswatch.alerts.format import one_line
from thesiswatch.alerts.sinks.base import describe_error, redact


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpSink:
    """Shared plumbing: an httpx client (given or owned), redaction, response classification."""

    name: str
    _secrets: tuple[str, ...] = ()

    def __init__(self, client: httpx.AsyncClient | None, timeout: float) -> None:
        self._client = client
        self._own_client = client is None
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, headers={"User-Agent": "thesiswatch (alert delivery)"}
            )
        return self._client

    async def aclose(self) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _redact(self, text: str) -> str:
        return one_line(redact(text, self._secrets))

    async def _post(
        self, url: str, *, content: bytes, headers: Mapping[str, str]
    ) -> httpx.Response | str:
        """The response, or a redacted one-line error for a transport failure."""
        try:
            return await self.client.post(url, content=content, headers=dict(headers))
        except httpx.HTTPError as exc:
            return self._redact(describe_error(exc))

    def _http_failure(self, response: httpx.Response) -> dict[str, Any] | None:
        """Delivery fields for a non-2xx answer, or None when the status is a success."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        retryable = status in (408, 425, 429) or status >= 500
        reason = response.reason_phrase or "error"
        return {
            "http_status": status,
            "error": self._redact(f"HTTP {status} {reason}"),
            "retryable": retryable,
            "retry_after": retry_after(response.headers.get("Retry-After")),
        }
