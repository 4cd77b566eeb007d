"""Alert sinks and the dispatcher, against a recording HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import logging
import sys
import threading
import types
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from thesiswatch.alerts.dispatch import Dispatcher
from thesiswatch.alerts.format import digest_messages
from thesiswatch.alerts.sinks import (
    AppriseSink,
    DesktopSink,
    DingTalkSink,
    FeishuSink,
    JsonlSink,
    StdoutSink,
    WebhookSink,
    build_sinks,
    dispatcher_options,
    redact,
)
from thesiswatch.errors import ConfigError
from thesiswatch.records import Alert

SECRET = "whsec-0123456789"
TOKEN = "tok0123456789abcdef"


def alert(n: int = 1, **kw: Any) -> Alert:
    fields: dict[str, Any] = {
        "id": f"alert{n}",
        "created": "2025-01-27T15:00:00+00:00",
        "rule": "shock",
        "severity": "critical",
        "title": f"英伟达股价大跌17% ({n})",
        "message": "shock: sentiment -0.90 (neg; threshold ±0.60) about NVDA.US. sources (2): Reuters, 财联社",
        "url": f"https://example.com/{n}",
        "tickers": ("NVDA.US",),
        "item_ids": (f"i{n}",),
    }
    fields.update(kw)
    return Alert(**fields)


# --- a recording server ------------------------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    replies: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def reply(self, status: int = 200, body: object = b"", **headers: str) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, data))


@pytest.fixture
def server() -> Iterator[Recorder]:
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec.requests.append(
                Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, headers, data = (
                rec.replies.pop(0) if rec.replies else (200, {}, b'{"errcode":0,"code":0}')
            )
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    rec.base_url = f"http://{host}:{port}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield rec
    finally:
        httpd.shutdown()
        httpd.server_close()


class Ledger:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def __call__(self, **row: Any) -> None:
        self.rows.append(row)

    def statuses(self, channel_prefix: str = "") -> list[tuple[str, int]]:
        return [
            (r["status"], r["attempt"])
            for r in self.rows
            if r["channel"].startswith(channel_prefix)
        ]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def dispatch(sinks: list[Any], alerts: list[Alert], ledger: Ledger, **kw: Any) -> list[Any]:
    d = Dispatcher(sinks, ledger=ledger, backoff=0.01, **kw)
    try:
        return await d.dispatch(alerts)
    finally:
        await d.aclose()


# --- JSON Lines and stdout ---------------------------------------------------------------------


def test_jsonl_appends_one_line_per_alert_in_the_design_shape(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "alerts.jsonl"
    sink = JsonlSink(path)
    ledger = Ledger()
    run(dispatch([sink], [alert(1), alert(2)], ledger))
    run(dispatch([sink], [alert(3)], ledger))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["alert1", "alert2", "alert3"]
    first = json.loads(lines[0])
    assert list(first) == [
        "id", "created", "rule", "severity", "title", "message", "url", "tickers", "thesis",
        "stance", "item_ids",
    ]  # fmt: skip
    assert first["title"] == "英伟达股价大跌17% (1)" and first["tickers"] == ["NVDA.US"]
    assert ledger.statuses() == [("sent", 1)] * 3


def test_jsonl_terminates_a_half_line_left_by_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b'{"id": "torn')
    run(JsonlSink(path).deliver([alert(1)]))
    assert json.loads(path.read_text().splitlines()[1])["id"] == "alert1"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_jsonl_full_disk_is_a_clear_retried_failure() -> None:
    ledger = Ledger()
    [final] = run(dispatch([JsonlSink("/dev/full")], [alert(1)], ledger, retries=2))
    assert final.status == "failed"
    assert final.error == "could not write alerts to /dev/full: No space left on device"
    assert ledger.statuses() == [("retrying", 1), ("retrying", 2), ("failed", 3)]


def test_stdout_prints_one_line_per_alert() -> None:
    out = io.StringIO()
    title = "Nvidia\nplunges\x1b[31m"
    run(StdoutSink(out).deliver([alert(1), alert(2, title=title, url="")]))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:4] == ["2025-01-27T15:00:00+00:00", "CRITICAL", "shock", "NVDA.US"]
    assert "\x1b" not in lines[1] and lines[1].endswith("Nvidia plunges [31m")
    js = io.StringIO()
    run(StdoutSink(js, format="json").deliver([alert(1)]))
    assert json.loads(js.getvalue())["id"] == "alert1"


# --- our signed webhook ------------------------------------------------------------------------


def test_webhook_delivers_signed_json(server: Recorder) -> None:
    ledger = Ledger()
    sink = WebhookSink(f"{server.base_url}/hook/{TOKEN}", secret=SECRET)
    [d] = run(dispatch([sink], [alert(1)], ledger))
    assert d.status == "sent" and d.http_status == 200
    [req] = server.requests
    assert req.path == f"/hook/{TOKEN}"
    assert req.headers["x-thesiswatch-event"] == "alert"
    assert req.headers["x-thesiswatch-delivery"] == "alert1"
    expected = "sha256=" + hmac.new(SECRET.encode(), req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-thesiswatch-signature"], expected)
    assert req.json()["title"] == "英伟达股价大跌17% (1)"
    assert ledger.rows == [
        {
            "alert_id": "alert1",
            "channel": "webhook:127.0.0.1",
            "status": "sent",
            "attempt": 1,
            "http_status": 200,
            "vendor_code": None,
            "error": None,
        }
    ]


def test_webhook_failure_is_retried_with_backoff(server: Recorder) -> None:
    server.reply(500)
    server.reply(503)
    ledger = Ledger()
    [d] = run(dispatch([WebhookSink(f"{server.base_url}/h")], [alert(1)], ledger))
    assert d.status == "sent" and d.attempt == 3
    assert ledger.statuses() == [("retrying", 1), ("retrying", 2), ("sent", 3)]
    assert [r["http_status"] for r in ledger.rows] == [500, 503, 200]
    assert len(server.requests) == 3


def test_webhook_client_error_is_not_retried(server: Recorder) -> None:
    server.reply(404)
    ledger = Ledger()
    [d] = run(dispatch([WebhookSink(f"{server.base_url}/h")], [alert(1)], ledger))
    assert (d.status, d.http_status, d.error) == ("failed", 404, "HTTP 404 Not Found")
    assert ledger.statuses() == [("failed", 1)]


def test_webhook_rate_limit_honours_retry_after(server: Recorder) -> None:
    server.reply(429, Retry_After="1")
    ledger = Ledger()
    sink = WebhookSink(f"{server.base_url}/h")
    first = run(sink.deliver([alert(1)]))
    assert first[0].retry_after == 1.0 and first[0].retryable
    server.reply(429, Retry_After="1")
    [d] = run(dispatch([sink], [alert(1)], ledger))
    assert d.status == "sent"
    assert [(r["status"], r["http_status"]) for r in ledger.rows] == [
        ("retrying", 429),
        ("sent", 200),
    ]


def test_secrets_never_appear_in_errors_logs_or_ledger(caplog: pytest.LogCaptureFixture) -> None:
    with socket_closed_port() as port:
        url = f"http://127.0.0.1:{port}/services/{TOKEN}?key={TOKEN}"
        sink = WebhookSink(url, secret=SECRET)
        ledger = Ledger()
        with caplog.at_level(logging.DEBUG):
            [d] = run(dispatch([sink], [alert(1)], ledger, retries=1))
    assert d.status == "failed" and d.error
    seen = " ".join([d.error, repr(sink), sink.name, caplog.text, json.dumps(ledger.rows)])
    assert TOKEN not in seen and SECRET not in seen
    assert ledger.statuses() == [("retrying", 1), ("failed", 2)]
    assert redact(f"x?access_token={TOKEN}&a=1", []) == "x?access_token=***&a=1"


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self) -> int:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass


# --- DingTalk and Feishu -----------------------------------------------------------------------

CLOCK = 1737990000.0  # 2025-01-27T15:00:00Z


def test_dingtalk_signs_in_the_query_and_sends_one_markdown_digest(server: Recorder) -> None:
    sink = DingTalkSink(
        f"{server.base_url}/robot/send?access_token={TOKEN}", secret=SECRET, clock=lambda: CLOCK
    )
    ledger = Ledger()
    results = run(dispatch([sink], [alert(1), alert(2), alert(3)], ledger))
    assert [d.status for d in results] == ["sent"] * 3
    [req] = server.requests  # three alerts, one message
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query)
    ts = query["timestamp"][0]
    assert ts == str(int(CLOCK * 1000))
    digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert query["sign"][0] == base64.b64encode(digest).decode()
    body = req.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "thesiswatch: 3 alerts"
    assert all(f"英伟达股价大跌17% ({n})" in body["markdown"]["text"] for n in (1, 2, 3))
    assert body["at"]["isAtAll"] is False


def test_dingtalk_200_with_errcode_is_a_failure_with_the_vendor_code(server: Recorder) -> None:
    server.reply(200, {"errcode": 310000, "errmsg": "keywords not in content"})
    ledger = Ledger()
    sink = DingTalkSink(f"{server.base_url}/robot/send?access_token={TOKEN}")
    [d] = run(dispatch([sink], [alert(1)], ledger))
    assert (d.status, d.http_status, d.vendor_code) == ("failed", 200, "310000")
    assert d.error == "DingTalk error 310000: keywords not in content"
    assert ledger.rows[0]["vendor_code"] == "310000" and ledger.statuses() == [("failed", 1)]


def test_dingtalk_throttled_errcode_is_retried(server: Recorder) -> None:
    server.reply(200, {"errcode": 130101, "errmsg": "send too fast"})
    sink = DingTalkSink(f"{server.base_url}/robot/send?access_token={TOKEN}")
    [d] = run(sink.deliver([alert(1)]))
    assert d.retryable and d.retry_after == 60.0 and d.vendor_code == "130101"


def test_feishu_signs_in_the_body_and_checks_the_code(server: Recorder) -> None:
    server.reply(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
    ledger = Ledger()
    sink = FeishuSink(
        f"{server.base_url}/open-apis/bot/v2/hook/{TOKEN}", secret=SECRET, clock=lambda: CLOCK
    )
    [d] = run(dispatch([sink], [alert(1)], ledger))
    assert (d.status, d.vendor_code) == ("failed", "19021")
    body = server.requests[0].json()
    assert body["timestamp"] == str(int(CLOCK)) and body["msg_type"] == "text"
    key = f"{body['timestamp']}\n{SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert "英伟达股价大跌17% (1)" in body["content"]["text"]
    server.reply(200, {"StatusCode": 0, "StatusMessage": "success"})
    [ok] = run(sink.deliver([alert(2)]))
    assert ok.status == "sent"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_budget_merges_waiting_alerts_into_one_digest(server: Recorder) -> None:
    clock = FakeClock()
    sink = DingTalkSink(
        f"{server.base_url}/robot/send?access_token={TOKEN}", per_minute=1, budget_clock=clock
    )
    ledger = Ledger()

    async def scenario() -> list[Any]:
        d = Dispatcher([sink], ledger=ledger, backoff=0.01)
        await d.dispatch([alert(1)])  # spends the budget (1/min)
        clock.now += 59.9  # 0.1 s of the minute left

        async def free_budget() -> None:
            await asyncio.sleep(0.05)
            clock.now += 1

        results = await asyncio.gather(
            d.dispatch([alert(2)]), d.dispatch([alert(3)]), free_budget()
        )
        await d.aclose()
        return [*results[0], *results[1]]

    results = run(scenario())
    assert [r.status for r in results] == ["sent", "sent"]
    assert len(server.requests) == 2  # alert 1 alone, then 2 and 3 merged
    text = server.requests[1].json()["markdown"]["text"]
    assert "(2)" in text and "(3)" in text
    waits = [r for r in ledger.rows if r["status"] == "retrying"]
    assert waits and "rate budget of 1/min spent" in waits[0]["error"]


def test_budget_spent_answers_retry_later_without_sending(server: Recorder) -> None:
    clock = FakeClock()
    sink = FeishuSink(
        f"{server.base_url}/hook/{TOKEN}", per_minute=2, per_second=5, budget_clock=clock
    )
    run(sink.deliver([alert(1)]))
    run(sink.deliver([alert(2)]))
    [d] = run(sink.deliver([alert(3)]))
    assert d.status == "failed" and d.retryable and d.retry_after == 60.0
    assert len(server.requests) == 2
    clock.now += 60
    [ok] = run(sink.deliver([alert(3)]))
    assert ok.status == "sent"


def test_digests_are_split_by_size() -> None:
    alerts = [alert(n, message="证据 " * 300) for n in range(10)]
    messages = digest_messages(alerts, max_bytes=4000, markdown=True)
    assert len(messages) > 1
    assert all(len(text.encode()) <= 4000 for _, text, _ in messages)
    assert [a.id for _, _, members in messages for a in members] == [a.id for a in alerts]
    huge = alert(99, message="x" * 100_000)
    [(_, text, _)] = digest_messages([huge], max_bytes=2000, markdown=False)
    assert len(text.encode()) <= 2000


def test_chat_sink_splits_a_large_batch_into_several_messages(server: Recorder) -> None:
    sink = DingTalkSink(f"{server.base_url}/robot/send?access_token={TOKEN}")
    sink.max_bytes = 3000
    alerts = [alert(n, message="证据 " * 80) for n in range(8)]  # ~700 bytes each
    results = run(sink.deliver(alerts))
    assert all(r.status == "sent" for r in results) and len(results) == 8
    assert 1 < len(server.requests) < 8
    assert all(len(r.json()["markdown"]["text"].encode()) <= 3000 for r in server.requests)


# --- Apprise -----------------------------------------------------------------------------------


def test_apprise_missing_is_one_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    with pytest.raises(ConfigError, match=r"pip install 'thesiswatch\[notify\]'"):
        build_sinks({"apprise": ["tgram://123:abc/456"]})


def test_apprise_sends_a_digest_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, str, list[str]]] = []

    class FakeApprise:
        def __init__(self) -> None:
            self.urls: list[str] = []

        def add(self, url: str) -> bool:
            self.urls.append(url)
            return True

        async def async_notify(self, *, body: str, title: str) -> bool:
            sent.append((title, body, list(self.urls)))
            return "fail" not in body

    monkeypatch.setitem(sys.modules, "apprise", types.SimpleNamespace(Apprise=FakeApprise))
    sink = AppriseSink(["tgram://123456:secrettoken/789", "ntfy://topic-xyz"])
    assert sink.name == "apprise:ntfy+tgram" and "secrettoken" not in repr(sink)
    results = run(sink.deliver([alert(1), alert(2)]))
    assert [r.status for r in results] == ["sent", "sent"]
    assert len(sent) == 1 and sent[0][0] == "thesiswatch: 2 alerts"
    [failed] = run(sink.deliver([alert(3, title="fail")]))
    assert failed.status == "failed" and failed.retryable


# --- configuration -----------------------------------------------------------------------------


def test_build_sinks_from_the_alerts_table(tmp_path: Path) -> None:
    sinks = build_sinks(
        {
            "jsonl": "alerts.jsonl",
            "stdout": True,
            "webhooks": [
                {"url": "https://hooks.example.com/x/" + TOKEN, "secret": SECRET, "name": "ops"}
            ],
            "dingtalk": [{"token": TOKEN, "secret": SECRET, "keyword": "thesis"}],
            "feishu": [{"url": "https://open.feishu.cn/open-apis/bot/v2/hook/" + TOKEN}],
        },
        base_dir=tmp_path,
    )
    assert [s.name for s in sinks] == [
        "jsonl",
        "stdout",
        "webhook:ops",
        "dingtalk:bot",
        "feishu:bot",
    ]
    assert sinks[0].path == tmp_path / "alerts.jsonl"  # type: ignore[attr-defined]
    assert all(TOKEN not in repr(s) and SECRET not in repr(s) for s in sinks)
    override = build_sinks({"jsonl": "a.jsonl"}, jsonl_override=tmp_path / "b.jsonl")
    assert override[0].path == tmp_path / "b.jsonl"  # type: ignore[attr-defined]
    assert build_sinks({}) == []
    assert dispatcher_options({"retries": 2, "backoff_seconds": 0.5}) == {
        "retries": 2,
        "backoff": 0.5,
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"jsonl_path": "x"}, r"alerts.jsonl_path: unknown key"),
        (
            {"webhooks": [{"url": "https://h/x", "sekret": "s"}]},
            r"alerts.webhooks\[0\].sekret: unknown key",
        ),
        ({"webhooks": [{"secret": "s"}]}, r"alerts.webhooks\[0\].url: missing"),
        ({"webhooks": [{"url": "ftp://h/x"}]}, r"alerts.webhooks\[0\].url: a webhook url must be"),
        (
            {"dingtalk": [{"secret": "s"}]},
            r"alerts.dingtalk\[0\]: give exactly one of token or url",
        ),
        ({"stdout": "yes"}, r"alerts.stdout: expected"),
        ({"apprise": "tgram://x"}, r"alerts.apprise: expected"),
    ],
)
def test_build_sinks_rejects_bad_tables(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_sinks(table, origin="thesiswatch.toml")


def test_dispatcher_keeps_going_when_one_sink_breaks(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        async def deliver(self, alerts: Any) -> list[Any]:
            raise RuntimeError("boom")

    ledger = Ledger()
    results = run(
        dispatch([Broken(), JsonlSink(tmp_path / "a.jsonl")], [alert(1)], ledger, retries=1)
    )
    assert sorted((r.channel, r.status) for r in results) == [
        ("broken", "failed"),
        ("jsonl", "sent"),
    ]
    assert ("retrying", 1) in ledger.statuses("broken")


def test_dispatcher_without_waiting_writes_local_sinks_first(
    server: Recorder, tmp_path: Path
) -> None:
    server.reply(500)

    async def scenario() -> list[Any]:
        d = Dispatcher(
            [
                JsonlSink(tmp_path / "a.jsonl"),
                WebhookSink(f"{server.base_url}/h"),
            ],
            backoff=0.01,
            wait=False,
        )
        early = await d.dispatch([alert(1)])
        assert (tmp_path / "a.jsonl").read_text().count("\n") == 1
        await d.aclose()
        return early

    early = run(scenario())
    assert [(r.channel, r.status) for r in early] == [("jsonl", "sent")]
    assert len(server.requests) == 2  # the webhook retried in the background and was drained


def test_desktop_sink_runs_the_notifier(tmp_path: Path) -> None:
    record = tmp_path / "args.txt"
    script = tmp_path / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    script.chmod(0o755)
    sink = DesktopSink(str(script))
    results = run(sink.deliver([alert(1), alert(2, severity="info")]))
    assert [r.status for r in results] == ["sent", "sent"]
    args = record.read_text().splitlines()
    assert "--urgency=critical" in args and "thesiswatch: 2 alerts" in args
    failing = tmp_path / "fail-send"
    failing.write_text("#!/bin/sh\necho 'no display' >&2\nexit 1\n")
    failing.chmod(0o755)
    [bad] = run(DesktopSink(str(failing)).deliver([alert(1)]))
    assert bad.status == "failed" and bad.error == "no display"


def test_dispatcher_survives_a_new_event_loop(server: Recorder, tmp_path: Path) -> None:
    d = Dispatcher(
        [JsonlSink(tmp_path / "a.jsonl"), WebhookSink(f"{server.base_url}/h")], backoff=0.01
    )
    first = asyncio.run(d.dispatch([alert(1)]))
    second = asyncio.run(d.dispatch([alert(2)]))  # e.g. two `daemon --once` cycles in one process
    assert [r.status for r in first + second] == ["sent"] * 4
    assert len(server.requests) == 2
