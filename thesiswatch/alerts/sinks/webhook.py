"""Our signed JSON webhook: one POST per alert (see docs/alerts.md to verify signatures)."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Sequence

import httpx

from thesiswatch.alerts.format import alert_json
from thesiswatch.alerts.sinks.base import Delivery
from thesiswatch.alerts.sinks.http import HttpSink
from thesiswatch.records import Alert


def sign_body(secret: str, body: bytes) -> str:
    """The ``X-Thesiswatch-Signature`` header value of a webhook body.

    >>> sign_body("s3cret", b'{"id":"a1"}')
    'sha256=22c2912dd187b8ebbba89770a5aa110876daf4dbe9cd43c105b41e275bf8c088'
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookSink(HttpSink):
    """Our signed JSON webhook: one POST per alert, body = the alert's JSON.

    Headers: ``Content-Type: application/json``, ``X-Thesiswatch-Event: alert``,
    ``X-Thesiswatch-Delivery: <alert id>`` and, with a secret,
    ``X-Thesiswatch-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` (see docs/alerts.md for
    verifying it). Any 2xx is success; 408/425/429/5xx and network errors are retried.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        client: httpx.AsyncClient | None = None,
        name: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(client, timeout)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a webhook url must be an http(s) URL")
        self.url = url
        self.secret = secret
        self.name = f"webhook:{name or parts.hostname}"
        self._secrets = tuple(
            s for s in (url, secret, parts.path.strip("/"), parts.query, parts.password) if s
        )

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        return [await self._deliver_one(a) for a in alerts]

    async def _deliver_one(self, alert: Alert) -> Delivery:
        body = alert_json(alert).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Thesiswatch-Event": "alert",
            "X-Thesiswatch-Delivery": alert.id,
        }
        if self.secret:
            headers["X-Thesiswatch-Signature"] = sign_body(self.secret, body)
        response = await self._post(self.url, content=body, headers=headers)
        if isinstance(response, str):
            return Delivery(
                alert_id=alert.id,
                channel=self.name,
                status="failed",
                error=response,
                retryable=True,
            )
        failure = self._http_failure(response)
        if failure:
            return Delivery(alert_id=alert.id, channel=self.name, status="failed", **failure)
        return Delivery(
            alert_id=alert.id, channel=self.name, status="sent", http_status=response.status_code
        )
