"""Chat bots (DingTalk, Feishu) with message budgets.

Their sinks merge the alerts at hand into one digest message, split it by the vendor's size
limit, and when the budget is spent answer "retry later" so that the dispatcher comes back with
everything that piled up meanwhile, merged again. Both vendors answer HTTP 200 with an error
code in the body (DingTalk ``errcode``, Feishu ``code``): those are parsed and recorded as
failures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Sequence

import httpx

from thesiswatch.alerts.format import digest_messages
from thesiswatch.alerts.sinks.base import Delivery, deliveries
from thesiswatch.alerts.sinks.http import HttpSink
from thesiswatch.records import Alert


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


class _ChatBotSink(HttpSink):
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
                out += deliveries(
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
            return deliveries(members, self.name, "failed", error=response, retryable=True)
        failure = self._http_failure(response)
        if failure:
            return deliveries(members, self.name, "failed", **failure)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code, msg = self._vendor_code(answer)
        if code is None:
            return deliveries(members, self.name, "sent", http_status=response.status_code)
        retryable, wait = self._vendor_retry(code)
        return deliveries(
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
