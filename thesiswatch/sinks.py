"""Alert delivery: sinks (JSON Lines, stdout, webhooks, Apprise, DingTalk, Feishu) and the
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

import asyncio
import base64
import contextlib
import email.utils
import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import sys
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol, runtime_checkable

import httpx

from thesiswatch.errors import ConfigError
from thesiswatch.signals.models import Alert

__all__ = [
    "AppriseSink",
    "Delivery",
    "DesktopSink",
    "DingTalkSink",
    "Dispatcher",
    "FeishuSink",
    "JsonlSink",
    "RateBudget",
    "Sink",
    "StdoutSink",
    "WebhookSink",
    "alert_dict",
    "build_sinks",
    "digest_messages",
    "dispatcher_options",
    "redact",
    "sign_body",
]

log = logging.getLogger("thesiswatch.sinks")

DeliveryStatus = Literal["sent", "failed", "retrying", "dropped"]
Ledger = Callable[..., object]

_ALERT_KEYS = (
    "id", "created", "rule", "severity", "title", "message", "url", "tickers", "thesis",
    "stance", "item_ids",
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SECRET_PARAMS = re.compile(r"((?:access_token|token|key|secret|sign)=)[^&\s\"']+", re.IGNORECASE)


# --- records and helpers ---------------------------------------------------------------------


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


def alert_dict(alert: Any) -> dict[str, object]:
    """The DESIGN.md alert shape of an ``Alert`` (or a store's ``StoredAlert``)."""
    data = {key: getattr(alert, key, None) for key in _ALERT_KEYS}
    data["tickers"] = list(data["tickers"] or ())
    data["item_ids"] = list(data["item_ids"] or ())
    data["url"] = data["url"] or ""
    return data


def alert_json(alert: Any) -> str:
    return json.dumps(alert_dict(alert), ensure_ascii=False, separators=(",", ":"))


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret (and its URL-quoted forms) and any ``token=...`` query value.

    >>> redact("POST https://h/robot/send?access_token=abc123 failed: abc123", ["abc123"])
    'POST https://h/robot/send?access_token=*** failed: ***'
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, "***")
    return _SECRET_PARAMS.sub(r"\1***", text)


def one_line(text: str, limit: int = 300) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sign_body(secret: str, body: bytes) -> str:
    """The ``X-Thesiswatch-Signature`` header value of a webhook body.

    >>> sign_body("s3cret", b'{"id":"a1"}')
    'sha256=22c2912dd187b8ebbba89770a5aa110876daf4dbe9cd43c105b41e275bf8c088'
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _retry_after(value: str | None) -> float | None:
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


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


@runtime_checkable
class Sink(Protocol):
    """Something alerts can be delivered to. ``name`` is the ledger's channel (no secrets)."""

    name: str

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]: ...


def _all(
    alerts: Sequence[Alert], channel: str, status: DeliveryStatus, **fields: Any
) -> list[Delivery]:
    return [Delivery(alert_id=a.id, channel=channel, status=status, **fields) for a in alerts]


# --- local sinks -----------------------------------------------------------------------------


class JsonlSink:
    """Append one JSON line per alert (DESIGN.md shape) to a file, flushed and fsynced.

    Creates missing directories. A failed write (a full disk) is undone (the file is cut back
    to its previous size, so no half line is left), reported as a retryable failure naming the
    file and the reason, and retried by the dispatcher; the alerts stay in the database anyway.
    A half line left by a crash is terminated before the next append.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = "jsonl"

    def __repr__(self) -> str:
        return f"JsonlSink({str(self.path)!r})"

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        payload = "".join(alert_json(a) + "\n" for a in alerts).encode("utf-8")
        try:
            await asyncio.to_thread(self._append, payload)
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            error = f"could not write alerts to {self.path}: {reason}"
            return _all(alerts, self.name, "failed", error=error, retryable=True)
        return _all(alerts, self.name, "sent")

    def _append(self, payload: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    payload = b"\n" + payload
            try:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                with contextlib.suppress(OSError):
                    f.truncate(size)
                raise


class StdoutSink:
    """One line per alert, for piping: ``created severity rule tickers title url``
    (``format="json"``: the JSON Lines shape instead)."""

    def __init__(self, stream: IO[str] | None = None, *, format: str = "text") -> None:
        if format not in ("text", "json"):
            raise ValueError("format must be 'text' or 'json'")
        self.stream = stream
        self.format = format
        self.name = "stdout"

    def __repr__(self) -> str:
        return f"StdoutSink(format={self.format!r})"

    @staticmethod
    def line(alert: Alert) -> str:
        tickers = ",".join(alert.tickers) or "-"
        parts = [
            alert.created,
            alert.severity.upper(),
            alert.rule,
            tickers,
            one_line(alert.title, 200),
        ]
        if alert.url:
            parts.append(alert.url)
        return "\t".join(parts)

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        stream = self.stream or sys.stdout
        try:
            for alert in alerts:
                stream.write(
                    (alert_json(alert) if self.format == "json" else self.line(alert)) + "\n"
                )
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe
            return _all(alerts, self.name, "failed", error=one_line(_describe(exc)))
        return _all(alerts, self.name, "sent")


class DesktopSink:
    """A desktop notification per batch through ``notify-send`` (Linux, freedesktop) or
    ``osascript`` (macOS): the count, and the titles of the first few alerts."""

    def __init__(self, command: str | None = None) -> None:
        self.command = command or shutil.which("notify-send") or shutil.which("osascript")
        if self.command is None:
            raise ValueError("no desktop notifier (notify-send or osascript) on PATH")
        self.name = "desktop"

    def __repr__(self) -> str:
        return f"DesktopSink({Path(self.command or '').name!r})"

    def _argv(self, title: str, body: str, critical: bool) -> list[str]:
        assert self.command is not None
        if Path(self.command).name == "osascript":
            quote = lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
            return [
                self.command,
                "-e",
                f"display notification {quote(body)} with title {quote(title)}",
            ]
        urgency = "critical" if critical else "normal"
        return [self.command, "--app-name=thesiswatch", f"--urgency={urgency}", title, body]

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        title = f"thesiswatch: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
        lines = [f"[{a.severity}] {one_line(a.title, 120)}" for a in alerts[:3]]
        if len(alerts) > 3:
            lines.append(f"... and {len(alerts) - 3} more")
        critical = any(a.severity == "critical" for a in alerts)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv(title, "\n".join(lines), critical),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(), timeout=10)
        except (OSError, TimeoutError) as exc:
            return _all(alerts, self.name, "failed", error=one_line(_describe(exc)))
        if proc.returncode:
            error = one_line(err.decode(errors="replace")) or f"exit status {proc.returncode}"
            return _all(alerts, self.name, "failed", error=error)
        return _all(alerts, self.name, "sent")


# --- HTTP sinks ------------------------------------------------------------------------------


class _HttpSink:
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
            return self._redact(_describe(exc))

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
            "retry_after": _retry_after(response.headers.get("Retry-After")),
        }


class WebhookSink(_HttpSink):
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


class RateBudget:
    """At most ``per_minute`` messages in any sliding 60 s (and ``per_second`` in any 1 s)."""

    def __init__(
        self,
        per_minute: int,
        *,
        per_second: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.per_second = per_second
        self.clock = clock
        self._sent: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= 60:
            self._sent.popleft()

    def remaining(self) -> int:
        now = self.clock()
        self._trim(now)
        left = self.per_minute - len(self._sent)
        if self.per_second is not None:
            recent = sum(1 for t in self._sent if now - t < 1)
            left = min(left, self.per_second - recent)
        return max(0, left)

    def wait(self) -> float:
        """Seconds until one more message may go."""
        now = self.clock()
        self._trim(now)
        waits = [0.0]
        if len(self._sent) >= self.per_minute:
            waits.append(60 - (now - self._sent[0]))
        if self.per_second is not None:
            recent = [t for t in self._sent if now - t < 1]
            if len(recent) >= self.per_second:
                waits.append(1 - (now - recent[0]))
        return max(waits)

    def spend(self) -> None:
        self._sent.append(self.clock())


_SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def _alert_block(alert: Alert, *, markdown: bool) -> str:
    tickers = ", ".join(alert.tickers)
    head = f"{_SEVERITY_MARK.get(alert.severity, '')} [{alert.severity}] {alert.rule}"
    if tickers:
        head += f" · {tickers}"
    title = one_line(alert.title, 300)
    message = one_line(alert.message, 1500)
    if markdown:
        link = f"[{title}]({alert.url})" if alert.url else title
        return f"#### {head}\n\n{link}\n\n> {message}\n"
    return f"{head}\n{title}\n{alert.url}\n{message}\n".replace("\n\n", "\n")


def digest_messages(
    alerts: Sequence[Alert], *, max_bytes: int, markdown: bool, keyword: str = ""
) -> list[tuple[str, str, list[Alert]]]:
    """Merge alerts into as few messages as fit ``max_bytes`` (UTF-8) each:
    ``(title, text, alerts in it)``. A single alert too long on its own is cut to fit."""
    prefix = f"thesiswatch{(' ' + keyword) if keyword else ''}"
    messages: list[tuple[str, str, list[Alert]]] = []
    blocks: list[str] = []
    members: list[Alert] = []

    def header(n: int) -> tuple[str, str]:
        top = f"{prefix}: {n} alert{'s' if n != 1 else ''}"
        return (f"### {top}\n\n" if markdown else f"{top}\n\n"), top

    def size(parts: list[str], n: int) -> int:
        return len((header(n)[0] + "\n".join(parts)).encode("utf-8"))

    def flush() -> None:
        if members:
            head, title = header(len(members))
            messages.append((title, head + "\n".join(blocks), list(members)))
            blocks.clear()
            members.clear()

    for alert in alerts:
        block = _alert_block(alert, markdown=markdown)
        if members and size([*blocks, block], len(members) + 1) > max_bytes:
            flush()
        if size([block], 1) > max_bytes:
            room = max_bytes - size([], 1) - 8
            block = block.encode("utf-8")[:room].decode("utf-8", "ignore") + "…"
        blocks.append(block)
        members.append(alert)
    flush()
    return messages


class _ChatBotSink(_HttpSink):
    """A chat bot webhook with a message budget: digests, size splitting, vendor codes."""

    max_bytes: int
    vendor: str
    markdown: bool = True

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None,
        timeout: float,
        budget: RateBudget,
        keyword: str,
    ) -> None:
        super().__init__(client, timeout)
        self.budget = budget
        self.keyword = keyword

    async def deliver(self, alerts: Sequence[Alert]) -> list[Delivery]:
        if not alerts:
            return []
        out: list[Delivery] = []
        messages = digest_messages(
            alerts, max_bytes=self.max_bytes, markdown=self.markdown, keyword=self.keyword
        )
        for index, (title, text, members) in enumerate(messages):
            if self.budget.remaining() < 1:
                # Out of budget: everything not yet sent waits and is merged with whatever
                # arrives meanwhile on the next attempt.
                rest = [a for _, _, m in messages[index:] for a in m]
                wait = round(self.budget.wait(), 3)
                out += _all(
                    rest,
                    self.name,
                    "failed",
                    error=f"rate budget of {self.budget.per_minute}/min spent; waiting {wait:g} s",
                    retryable=True,
                    retry_after=wait,
                )
                break
            self.budget.spend()
            out += await self._send(title, text, members)
        return out

    async def _send(self, title: str, text: str, members: list[Alert]) -> list[Delivery]:
        url, body = self._request(title, text)
        response = await self._post(
            url, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        if isinstance(response, str):
            return _all(members, self.name, "failed", error=response, retryable=True)
        failure = self._http_failure(response)
        if failure:
            return _all(members, self.name, "failed", **failure)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code, msg = self._vendor_code(answer)
        if code is None:
            return _all(members, self.name, "sent", http_status=response.status_code)
        retryable, wait = self._vendor_retry(code)
        return _all(
            members,
            self.name,
            "failed",
            http_status=response.status_code,
            vendor_code=str(code),
            error=self._redact(f"{self.vendor} error {code}: {msg}"),
            retryable=retryable,
            retry_after=wait,
        )

    def _request(self, title: str, text: str) -> tuple[str, bytes]:
        raise NotImplementedError

    def _vendor_code(self, answer: object) -> tuple[object | None, str]:
        raise NotImplementedError

    def _vendor_retry(self, code: object) -> tuple[bool, float | None]:
        raise NotImplementedError


def _timestamp_ms(clock: Callable[[], float]) -> int:
    return round(clock() * 1000)


class DingTalkSink(_ChatBotSink):
    """DingTalk custom robot (自定义机器人): markdown digests, 20 messages/min.

    ``token`` is the ``access_token`` or the whole webhook URL. With ``secret`` ("加签"), each
    request carries ``timestamp`` (ms) and ``sign = urlencode(base64(HMAC-SHA256(secret,
    f"{timestamp}\\n{secret}")))`` in the query string. ``errcode`` in the 200 body is checked;
    130101 (sending too fast) is retried after a minute. ``keyword``: a word the bot's
    "custom keyword" security setting requires (put in every message).
    """

    vendor = "DingTalk"
    max_bytes = 18000  # the text limit is 20000 bytes; leave room for the JSON envelope
    markdown = True
    BASE = "https://oapi.dingtalk.com/robot/send"

    def __init__(
        self,
        token: str,
        *,
        secret: str | None = None,
        keyword: str = "",
        client: httpx.AsyncClient | None = None,
        per_minute: int = 20,
        name: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        budget_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            client=client,
            timeout=timeout,
            budget=RateBudget(per_minute, clock=budget_clock),
            keyword=keyword,
        )
        if token.startswith(("http://", "https://")):
            self.url = token
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(token).query)
            token_value = (query.get("access_token") or [""])[0]
        else:
            self.url = f"{self.BASE}?access_token={urllib.parse.quote(token)}"
            token_value = token
        self.secret = secret
        self.clock = clock
        self.name = f"dingtalk:{name or 'bot'}"
        self._secrets = tuple(s for s in (token, token_value, secret, self.url) if s)

    def signed_url(self) -> str:
        if not self.secret:
            return self.url
        ts = _timestamp_ms(self.clock)
        digest = hmac.new(
            self.secret.encode("utf-8"), f"{ts}\n{self.secret}".encode(), hashlib.sha256
        ).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={ts}&sign={sign}"

    def _request(self, title: str, text: str) -> tuple[str, bytes]:
        body = {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": [], "isAtAll": False},
        }
        return self.signed_url(), json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _vendor_code(self, answer: object) -> tuple[object | None, str]:
        if isinstance(answer, dict):
            code = answer.get("errcode", 0)
            if code not in (0, "0", None):
                return code, str(answer.get("errmsg", ""))
            return None, ""
        return "unparsed", "the answer was not the JSON DingTalk sends"

    def _vendor_retry(self, code: object) -> tuple[bool, float | None]:
        if str(code) == "130101":  # send too fast: throttled
            return True, 60.0
        if str(code) in ("-1", "unparsed"):  # system busy / garbled answer
            return True, None
        return False, None


class FeishuSink(_ChatBotSink):
    """Feishu / Lark custom bot (自定义机器人): text digests, 100 messages/min and 5/s.

    ``token`` is the hook token or the whole webhook URL. With ``secret`` (签名校验) the body
    carries ``timestamp`` (seconds) and ``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
    msg=b""))``. The JSON ``code`` (or the older ``StatusCode``) in the 200 body is checked;
    9499/11232 (too many requests) are retried.
    """

    vendor = "Feishu"
    max_bytes = 18000  # request body limit 20 KB; leave room for the envelope
    markdown = False
    BASE = "https://open.feishu.cn/open-apis/bot/v2/hook/"

    def __init__(
        self,
        token: str,
        *,
        secret: str | None = None,
        keyword: str = "",
        client: httpx.AsyncClient | None = None,
        per_minute: int = 100,
        per_second: int = 5,
        name: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        budget_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            client=client,
            timeout=timeout,
            budget=RateBudget(per_minute, per_second=per_second, clock=budget_clock),
            keyword=keyword,
        )
        if token.startswith(("http://", "https://")):
            self.url = token
            token_value = urllib.parse.urlsplit(token).path.rsplit("/", 1)[-1]
        else:
            self.url = self.BASE + urllib.parse.quote(token)
            token_value = token
        self.secret = secret
        self.clock = clock
        self.name = f"feishu:{name or 'bot'}"
        self._secrets = tuple(s for s in (token, token_value, secret, self.url) if s)

    def sign(self, timestamp: int) -> str:
        assert self.secret is not None
        key = f"{timestamp}\n{self.secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")

    def _request(self, title: str, text: str) -> tuple[str, bytes]:
        body: dict[str, object] = {"msg_type": "text", "content": {"text": text}}
        if self.secret:
            ts = int(self.clock())
            body = {"timestamp": str(ts), "sign": self.sign(ts), **body}
        return self.url, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _vendor_code(self, answer: object) -> tuple[object | None, str]:
        if isinstance(answer, dict):
            code = answer.get("code", answer.get("StatusCode", 0))
            if code not in (0, "0", None):
                return code, str(answer.get("msg", answer.get("StatusMessage", "")))
            return None, ""
        return "unparsed", "the answer was not the JSON Feishu sends"

    def _vendor_retry(self, code: object) -> tuple[bool, float | None]:
        if str(code) in ("9499", "11232"):  # too many requests / frequency limited
            return True, 5.0
        if str(code) == "unparsed":
            return True, None
        return False, None


# --- Apprise ---------------------------------------------------------------------------------


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
                return _all(
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
                error = one_line(redact(_describe(exc), self._secrets))
                out += _all(members, self.name, "failed", error=error, retryable=True)
                continue
            if ok:
                out += _all(members, self.name, "sent")
            else:
                error = "Apprise reported a failed notification (see its log)"
                out += _all(members, self.name, "failed", error=error, retryable=True)
        return out

    @staticmethod
    async def _notify(notifier: Any, title: str, body: str) -> bool:
        if hasattr(notifier, "async_notify"):
            return bool(await notifier.async_notify(body=body, title=title))
        return bool(await asyncio.to_thread(notifier.notify, body=body, title=title))


# --- the dispatcher --------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    alert: Alert
    attempt: int
    not_before: float
    done: asyncio.Future[Delivery]


class Dispatcher:
    """Fan alerts out to sinks; retry with exponential backoff; record every attempt.

    ``ledger(alert_id=, channel=, status=, attempt=, http_status=, vendor_code=, error=)`` is
    called once per attempt: status ``sent``, ``retrying`` (failed, will retry) or ``failed``
    (final). Retries wait ``backoff * 2**(attempt-1)`` seconds (capped at ``max_backoff``),
    at least what the receiver asked for. Each sink has its own queue and worker: a slow or
    rate-limited channel never delays another, and alerts piling up behind a rate budget are
    merged into one digest when it frees.

    ``await dispatch(alerts)`` returns the final deliveries; with ``wait=False`` it returns as
    soon as the local sinks (JSON Lines, stdout) have written and leaves the network sinks to
    their workers: call ``await drain()`` or ``await aclose()`` before exiting.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        ledger: Ledger | None = None,
        retries: int = 4,
        backoff: float = 2.0,
        max_backoff: float = 300.0,
        wait: bool = True,
    ) -> None:
        self.sinks = list(sinks)
        self.ledger = ledger
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.wait = wait
        self._queues: dict[int, list[_Pending]] = {id(s): [] for s in self.sinks}
        self._wakeups: dict[int, asyncio.Event] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._unresolved: set[asyncio.Future[Delivery]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._secrets = tuple(s for sink in self.sinks for s in getattr(sink, "_secrets", ()))

    def __repr__(self) -> str:
        return f"Dispatcher({[s.name for s in self.sinks]})"

    @staticmethod
    def _local(sink: Sink) -> bool:
        return isinstance(sink, JsonlSink | StdoutSink | DesktopSink)

    async def dispatch(self, alerts: Sequence[Alert]) -> list[Delivery]:
        """Deliver alerts to every sink; the final delivery of each alert to each sink."""
        if not alerts or not self.sinks:
            return []
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._rebind(loop)
        futures: list[asyncio.Future[Delivery]] = []
        local: list[asyncio.Future[Delivery]] = []
        for sink in self.sinks:
            queue = self._queues.setdefault(id(sink), [])
            for alert in alerts:
                fut: asyncio.Future[Delivery] = loop.create_future()
                queue.append(_Pending(alert, 1, 0.0, fut))
                futures.append(fut)
                self._unresolved.add(fut)
                fut.add_done_callback(self._unresolved.discard)
                if self._local(sink):
                    local.append(fut)
            self._kick(sink)
        if self.wait:
            return list(await asyncio.gather(*futures))
        if local:  # local sinks are quick: wait for them (bounded), not for the network
            await asyncio.wait(local, timeout=5.0)
        return [f.result() for f in futures if f.done()]

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Used from a new event loop (``asyncio.run`` again): workers, events and owned HTTP
        clients belong to the old loop, so start afresh (anything queued there is gone)."""
        if self._loop is not None:
            dropped = sum(len(q) for q in self._queues.values())
            if dropped:
                log.warning("%d queued deliveries dropped: their event loop has ended", dropped)
            for sink in self.sinks:
                if isinstance(sink, _HttpSink) and sink._own_client:
                    sink._client = None
        self._loop = loop
        self._queues = {id(s): [] for s in self.sinks}
        self._wakeups.clear()
        self._workers.clear()
        self._unresolved.clear()

    async def drain(self) -> None:
        """Wait until every queued alert has been delivered or has finally failed."""
        while self._unresolved:
            await asyncio.gather(*self._unresolved, return_exceptions=True)

    async def aclose(self) -> None:
        """Drain, stop the workers and close the sinks' own HTTP clients."""
        await self.drain()
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        for sink in self.sinks:
            close = getattr(sink, "aclose", None)
            if close is not None:
                await close()

    def _kick(self, sink: Sink) -> None:
        key = id(sink)
        event = self._wakeups.setdefault(key, asyncio.Event())
        event.set()
        task = self._workers.get(key)
        if task is None or task.done():
            self._workers[key] = asyncio.create_task(
                self._worker(sink, event), name=f"deliver:{sink.name}"
            )

    async def _worker(self, sink: Sink, event: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues[id(sink)]
        while True:
            event.clear()
            now = loop.time()
            due = [p for p in queue if p.not_before <= now]
            if not due:
                if not queue:
                    await event.wait()
                    continue
                delay = min(p.not_before for p in queue) - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=max(0.0, delay))
                continue
            for p in due:
                queue.remove(p)
            await self._attempt(sink, due, loop.time(), queue)

    async def _attempt(
        self, sink: Sink, batch: list[_Pending], now: float, queue: list[_Pending]
    ) -> None:
        alerts = [p.alert for p in batch]
        try:
            results = await sink.deliver(alerts)
        except Exception as exc:  # a sink bug: record it, do not lose the worker
            error = one_line(redact(_describe(exc), self._secrets))
            log.exception("sink %s raised: %s", sink.name, error)
            results = _all(alerts, sink.name, "failed", error=error, retryable=True)
        by_id = {d.alert_id: d for d in results}
        for p in batch:
            d = by_id.get(p.alert.id) or Delivery(
                alert_id=p.alert.id,
                channel=sink.name,
                status="failed",
                error="the sink reported nothing for this alert",
                retryable=True,
            )
            final = d.status == "sent" or not d.retryable or p.attempt > self.retries
            status: DeliveryStatus = d.status if final or d.status == "sent" else "retrying"
            d = Delivery(
                alert_id=d.alert_id,
                channel=d.channel,
                status=status,
                attempt=p.attempt,
                http_status=d.http_status,
                vendor_code=d.vendor_code,
                error=one_line(redact(d.error, self._secrets)) if d.error else None,
                retryable=d.retryable,
                retry_after=d.retry_after,
            )
            self._record(d)
            if final:
                if not p.done.done():
                    p.done.set_result(d)
                continue
            delay = min(self.max_backoff, self.backoff * 2 ** (p.attempt - 1))
            if d.retry_after is not None:
                delay = max(delay, min(d.retry_after, 3600.0))
            queue.append(_Pending(p.alert, p.attempt + 1, now + delay, p.done))

    def _record(self, d: Delivery) -> None:
        if d.status != "sent":
            log.warning(
                "delivery of alert %s to %s %s (attempt %d): %s",
                d.alert_id,
                d.channel,
                "will be retried" if d.status == "retrying" else "failed",
                d.attempt,
                d.error,
            )
        if self.ledger is None:
            return
        try:
            self.ledger(
                alert_id=d.alert_id,
                channel=d.channel,
                status=d.status,
                attempt=d.attempt,
                http_status=d.http_status,
                vendor_code=d.vendor_code,
                error=d.error,
            )
        except Exception:  # the ledger must never stop delivery
            log.exception("could not record a delivery of alert %s to %s", d.alert_id, d.channel)


# --- configuration ---------------------------------------------------------------------------

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
}


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
    if urls:
        sinks.append(AppriseSink(urls))
    return sinks


def dispatcher_options(
    alerts_config: Mapping[str, Any], *, origin: str = "config"
) -> dict[str, Any]:
    """``Dispatcher`` keyword arguments from ``[alerts]`` (``retries``, ``backoff_seconds``)."""
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
    return out
