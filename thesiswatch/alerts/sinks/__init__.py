"""Alert delivery by kind: sinks (JSON Lines, stdout, webhooks, Apprise, DingTalk, Feishu) and the
dispatcher that fans alerts out to them with retries, backoff and a delivery ledger.

A sink turns alerts into messages and reports one ``Delivery`` per alert and attempt; it never
raises for a delivery problem. The ``Dispatcher`` owns retries: failed attempts that may
succeed later (network errors, 5xx, 429, a vendor's "too fast", a full disk) are retried with
exponential backoff (at least what the receiver asked for in ``Retry-After``), and every attempt
goes to the ledger callback (``Store.record_delivery``) with its channel, status, HTTP status
and vendor error code.

Chat bots (DingTalk, Feishu) have message budgets (20 and 100 per minute per bot). Their sinks
merge the alerts at hand into one digest message, split it by the vendor's size limit, and when
the budget is spent answer "retry later" so that the dispatcher comes back with everything that
piled up meanwhile, merged again. Both vendors answer HTTP 200 with an error code in the body
(DingTalk ``errcode``, Feishu ``code``): those are parsed and recorded as failures.

Webhook URLs, tokens and secrets are credentials: they never appear in a channel name, a log
line, an error or a ``repr`` (``redact``).
"""

from __future__ import annotations

from thesiswatch.alerts.sinks.apprise import AppriseSink
from thesiswatch.alerts.sinks.base import Delivery, DeliveryStatus, Sink, redact
from thesiswatch.alerts.sinks.chat import DingTalkSink, FeishuSink, RateBudget
from thesiswatch.alerts.sinks.config import build_sinks, dispatcher_options
from thesiswatch.alerts.sinks.local import DesktopSink, JsonlSink, StdoutSink
from thesiswatch.alerts.sinks.webhook import WebhookSink, sign_body

__all__ = [
    "AppriseSink",
    "Delivery",
    "DeliveryStatus",
    "DesktopSink",
    "DingTalkSink",
    "FeishuSink",
    "JsonlSink",
    "RateBudget",
    "Sink",
    "StdoutSink",
    "WebhookSink",
    "build_sinks",
    "dispatcher_options",
    "redact",
    "sign_body",
]
