"""Fetcher behaviour against a real HTTP server on 127.0.0.1 (plus MockTransport where simpler)."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from datetime import timedelta

import brotli
import httpx
from helpers import NOW, RSS_TYPE, clock, fetcher, rss, run, settings
from loopback import LoopbackServer, Reply, Request

from thesiswatch.feeds.fetch import Fetcher, next_state
from thesiswatch.feeds.models import FetchOutcome, FetchState, Source

FEED = rss(3).encode()


def source(url: str, **kw: object) -> Source:
    return Source(name="test", url=url, **kw)  # type: ignore[arg-type]


# -- conditional GET --------------------------------------------------------------------------


def test_conditional_get_sends_validators_verbatim_and_304_is_not_parsed() -> None:
    etag = 'W/"abc-1"'
    last_modified = "Mon, 27 Jan 2025 14:00:00 GMT"

    def handler(request: Request) -> Reply:
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": 'W/"abc-2"'})
        return Reply(body=FEED, headers={**RSS_TYPE, "ETag": etag, "Last-Modified": last_modified})

    with LoopbackServer({"/feed": handler}) as server:
        src = source(server.url("/feed"))

        async def go() -> tuple:
            f = fetcher()
            first = await f.fetch(src, None)
            state = next_state(None, first, src)
            second = await f.fetch(src, state)
            third = await f.fetch(src, next_state(state, second, src))
            await f.aclose()
            return first, state, second, third

        first, state, second, third = run(go())
    assert first.status == "ok" and len(first.items) == 3 and first.items_seen == 3
    assert (first.etag, first.last_modified) == (etag, last_modified)
    assert (state.etag, state.last_modified) == (etag, last_modified)
    assert server.requests[1].headers["if-none-match"] == etag
    assert server.requests[1].headers["if-modified-since"] == last_modified
    assert second.status == "not_modified" and second.items == () and second.http_status == 304
    assert second.error is None
    # a 304 carrying a new ETag updates it; Last-Modified is kept
    assert second.etag == 'W/"abc-2"' and second.last_modified == last_modified
    # the updated validator is what goes out next time (not matching -> a full 200)
    assert server.requests[2].headers["if-none-match"] == 'W/"abc-2"'
    assert (
        third.status == "not_modified" and third.http_status == 200
    )  # 200, same bytes: not parsed


def test_304_costs_no_parsing(monkeypatch) -> None:
    import thesiswatch.feeds.fetch as fetch_module

    calls: list[tuple] = []

    def fake_parse(*args: object, **kwargs: object) -> list:
        calls.append(args)
        return []

    monkeypatch.setattr(fetch_module, "parse_feed", fake_parse)
    with LoopbackServer({"/f": Reply(status=304, headers={"ETag": '"x"'})}) as server:
        src = source(server.url("/f"))
        outcome = run(fetcher().fetch(src, FetchState(source_id=src.id, etag='"x"')))
    assert outcome.status == "not_modified" and calls == []


def test_honest_default_user_agent_and_per_source_override() -> None:
    with LoopbackServer({"/f": Reply(body=FEED, headers=RSS_TYPE)}) as server:

        async def go() -> None:
            f = fetcher()
            await f.fetch(source(server.url("/f")), None)
            await f.fetch(source(server.url("/f"), user_agent="Name admin@example.com"), None)
            await f.aclose()

        run(go())
    agents = [r.headers["user-agent"] for r in server.requests]
    assert agents[0].startswith("thesiswatch/") and "github.com/thesiswatch" in agents[0]
    assert agents[1] == "Name admin@example.com"
    assert "gzip" in server.requests[0].headers["accept-encoding"]


# -- failures and scheduling ------------------------------------------------------------------


def test_retry_after_is_honoured_and_capped() -> None:
    routes = {
        "/busy": Reply(status=503, headers={"Retry-After": "120"}),
        "/slow-down": Reply(status=429, headers={"Retry-After": "999999"}),
        "/date": Reply(status=429, headers={"Retry-After": "Mon, 27 Jan 2025 15:05:00 GMT"}),
    }
    with LoopbackServer(routes) as server:

        async def go() -> list:
            f = fetcher(retry_after_cap=3600.0)
            out = [await f.fetch(source(server.url(p)), None) for p in routes]
            await f.aclose()
            return out

        busy, slow, dated = run(go())
    assert busy.status == "failed" and busy.error == "HTTP 503, retry after 120 s"
    assert busy.next_poll == NOW + timedelta(seconds=120) and busy.http_status == 503
    assert slow.error == "HTTP 429, retry after 3600 s (capped)"
    assert slow.next_poll == NOW + timedelta(seconds=3600) and slow.retry_after == 999999
    assert dated.next_poll == NOW + timedelta(seconds=300)


def test_backoff_grows_is_capped_never_gives_up_and_resets_on_success() -> None:
    healthy = {"ok": False}

    def handler(request: Request) -> Reply:
        if healthy["ok"]:
            return Reply(body=FEED, headers=RSS_TYPE)
        return Reply(status=500, body=b"oops")

    with LoopbackServer({"/f": handler}) as server:
        src = source(server.url("/f"))

        async def go() -> tuple[list[float], tuple[FetchState, FetchOutcome, FetchState]]:
            f = fetcher(backoff_base=60.0, backoff_cap=600.0, min_interval=30.0)
            state: FetchState | None = None
            delays = []
            for _ in range(8):
                outcome = await f.fetch(src, state)
                assert (
                    outcome.status == "failed" and outcome.error == "HTTP 500 Internal Server Error"
                )
                assert outcome.next_poll is not None
                delays.append((outcome.next_poll - NOW).total_seconds())
                state = next_state(state, outcome, src)
            assert state is not None
            healthy["ok"] = True
            recovered = await f.fetch(src, state)
            await f.aclose()
            return delays, (state, recovered, next_state(state, recovered, src))

        delays, (state, recovered, after) = run(go())
    assert delays == [60, 120, 240, 480, 600, 600, 600, 600]
    assert state.consecutive_failures == 8 and state.last_error == "HTTP 500 Internal Server Error"
    assert recovered.status == "ok" and recovered.consecutive_failures == 0
    assert (
        after.consecutive_failures == 0 and after.last_error is None and after.last_success == NOW
    )


def test_interval_respects_floor_max_age_ttl_and_adapts_to_rare_feeds() -> None:
    rare = rss(5, newest=NOW - timedelta(days=3), gap=timedelta(days=7)).encode()
    routes = {
        "/plain": Reply(body=FEED, headers=RSS_TYPE),
        "/max-age": Reply(body=FEED, headers={**RSS_TYPE, "Cache-Control": "public, max-age=1800"}),
        "/huge-max-age": Reply(
            body=FEED, headers={**RSS_TYPE, "Cache-Control": "max-age=31536000"}
        ),
        "/ttl": Reply(body=rss(3, ttl=45).encode(), headers=RSS_TYPE),
        "/rare": Reply(body=rare, headers=RSS_TYPE),
        "/busy": Reply(
            body=rss(10, newest=NOW, gap=timedelta(seconds=10)).encode(), headers=RSS_TYPE
        ),
    }
    with LoopbackServer(routes) as server:

        async def go() -> dict:
            f = fetcher(min_interval=60.0, max_interval=7200.0)
            out = {p: await f.fetch(source(server.url(p), interval=600), None) for p in routes}
            out["floor"] = await f.fetch(source(server.url("/busy"), interval=5), None)
            await f.aclose()
            return out

        out = run(go())
    assert out["/plain"].interval == 600
    assert out["/max-age"].interval == 1800
    assert out["/huge-max-age"].interval == 7200  # a server hint never stretches past the ceiling
    assert out["/ttl"].interval == 45 * 60
    assert out["/rare"].interval == 2400  # weekly entries: polled 4x less, no further
    assert out["/busy"].interval == 600  # busy: the configured interval
    assert out["floor"].interval == 60  # never more often than the floor
    assert all(o.next_poll == NOW + timedelta(seconds=o.interval) for o in out.values())


def test_jitter_spreads_polls_but_never_earlier_than_the_interval() -> None:
    with LoopbackServer({"/f": Reply(body=FEED, headers=RSS_TYPE)}) as server:

        async def go() -> list:
            f = fetcher(jitter=0.2)
            out = [await f.fetch(source(server.url("/f")), None) for _ in range(6)]
            await f.aclose()
            return out

        outcomes = run(go())
    delays = [(o.next_poll - NOW).total_seconds() for o in outcomes]
    assert all(600 <= d <= 720 for d in delays) and len(set(delays)) > 1


def test_errors_are_one_line_and_never_raise() -> None:
    routes = {
        "/404": Reply(status=404, body=b"<html>nope</html>"),
        "/hangup": Reply(hang_up=True),
        "/empty": Reply(body=b"", headers=RSS_TYPE),
    }
    with LoopbackServer(routes) as server:

        async def go() -> list:
            f = fetcher()
            out = [await f.fetch(source(server.url(p)), None) for p in routes]
            out.append(await f.fetch(source("http://127.0.0.1:9/closed"), None))
            out.append(await f.fetch(source("ftp://example.com/feed"), None))
            await f.aclose()
            return out

        missing, hangup, empty, refused, ftp = run(go())
    assert missing.error == "HTTP 404 Not Found"
    assert hangup.error.startswith("connection broke")
    assert empty.error == "HTTP 200 with an empty body, not a feed"
    assert refused.error.startswith("could not connect")
    assert "not an http(s) URL" in ftp.error
    for outcome in (missing, hangup, empty, refused, ftp):
        assert outcome.status == "failed" and "\n" not in outcome.error
        assert outcome.next_poll is not None and outcome.consecutive_failures == 1


# -- politeness --------------------------------------------------------------------------------


def test_per_host_limit_and_one_request_per_url() -> None:
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    slow = Reply(body=FEED, headers=RSS_TYPE, delay=0.3)
    with LoopbackServer(default=slow, hosts=hosts) as server:

        async def go() -> None:
            f = fetcher(per_host_limit=2)
            jobs = [
                f.fetch(source(server.url(f"/f{n}", host)), None)
                for host in hosts
                for n in range(6)
            ]
            outcomes = await asyncio.gather(*jobs)
            assert all(o.status == "ok" for o in outcomes)
            await f.aclose()

        run(go())
    assert all(server.max_active[h] == 2 for h in hosts)  # limit reached, never exceeded
    assert server.max_active_total > 2  # hosts are served in parallel

    with LoopbackServer({"/same": slow}) as server:

        async def same() -> None:
            f = fetcher(per_host_limit=8)
            src = source(server.url("/same"))
            await asyncio.gather(*(f.fetch(src, None) for _ in range(4)))
            await f.aclose()

        run(same())
    assert server.count("/same") == 4 and server.max_active["127.0.0.1"] == 1


def test_per_host_spacing_separates_request_starts() -> None:
    import time

    starts: list[float] = []

    def handler(request: Request) -> Reply:
        starts.append(time.monotonic())
        return Reply(body=FEED, headers=RSS_TYPE)

    with LoopbackServer(default=handler) as server:

        async def go() -> None:
            f = fetcher(per_host_spacing=0.1, per_host_limit=4)
            await asyncio.gather(*(f.fetch(source(server.url(f"/f{n}")), None) for n in range(4)))
            await f.aclose()

        run(go())
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.08  # a lower bound: spacing is never skipped


# -- limits ------------------------------------------------------------------------------------


def test_oversize_response_is_cut_off_with_or_without_content_length() -> None:
    big = rss(1).encode() + b"<!--" + b"x" * 300_000 + b"-->"
    routes = {
        "/announced": Reply(body=big, headers=RSS_TYPE),
        "/unannounced": Reply(body=big, headers=RSS_TYPE, content_length=False),
    }
    with LoopbackServer(routes) as server:

        async def go() -> list:
            f = fetcher(max_bytes=100_000)
            out = [await f.fetch(source(server.url(p)), None) for p in routes]
            await f.aclose()
            return out

        announced, unannounced = run(go())
    assert announced.status == "failed" and announced.error.startswith(
        "response over 97.6562 KB cut off"
    )
    assert (
        unannounced.status == "failed" and unannounced.error == "response over 97.6562 KB cut off"
    )
    assert unannounced.bytes == 0 or unannounced.bytes <= 100_000 + 65536


def test_decompression_bombs_are_cut_off() -> None:
    zeros = b"\0" * (20 * 1024 * 1024)
    gz = gzip.compress(zeros, 9)
    br = brotli.compress(zeros)
    assert len(gz) < 100_000 and len(br) < 100_000
    routes = {
        "/gzip": Reply(body=gz, headers={**RSS_TYPE, "Content-Encoding": "gzip"}),
        "/br": Reply(body=br, headers={**RSS_TYPE, "Content-Encoding": "br"}),
        "/double": Reply(
            body=gzip.compress(gz), headers={**RSS_TYPE, "Content-Encoding": "gzip, gzip"}
        ),
    }
    with LoopbackServer(routes) as server:

        async def go() -> list:
            f = fetcher(max_bytes=1024 * 1024)
            out = [await f.fetch(source(server.url(p)), None) for p in routes]
            await f.aclose()
            return out

        outcomes = run(go())
    for outcome in outcomes:
        assert outcome.status == "failed"
        assert outcome.error == "response over 1 MB when decompressed, cut off (compression bomb?)"


def test_compressed_feeds_are_decoded() -> None:
    raw_deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    routes = {
        "/gzip": Reply(body=gzip.compress(FEED), headers={**RSS_TYPE, "Content-Encoding": "gzip"}),
        "/br": Reply(body=brotli.compress(FEED), headers={**RSS_TYPE, "Content-Encoding": "br"}),
        "/deflate": Reply(
            body=zlib.compress(FEED), headers={**RSS_TYPE, "Content-Encoding": "deflate"}
        ),
        "/raw-deflate": Reply(
            body=raw_deflate.compress(FEED) + raw_deflate.flush(),
            headers={**RSS_TYPE, "Content-Encoding": "deflate"},
        ),
        "/corrupt": Reply(
            body=b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage!",
            headers={**RSS_TYPE, "Content-Encoding": "gzip"},
        ),
        "/truncated": Reply(
            body=gzip.compress(FEED)[:-30], headers={**RSS_TYPE, "Content-Encoding": "gzip"}
        ),
        "/zstd": Reply(body=b"(\xb5/\xfd", headers={**RSS_TYPE, "Content-Encoding": "zstd"}),
    }
    with LoopbackServer(routes) as server:

        async def go() -> dict:
            f = fetcher()
            out = {p: await f.fetch(source(server.url(p)), None) for p in routes}
            await f.aclose()
            return out

        out = run(go())
    for path in ("/gzip", "/br", "/deflate", "/raw-deflate"):
        assert out[path].status == "ok" and len(out[path].items) == 3, path
    assert out["/corrupt"].status == "failed" and out["/corrupt"].error.startswith(
        "corrupt compressed body"
    )
    assert out["/truncated"].error == "corrupt compressed body: gzip stream cut short"
    assert out["/zstd"].error == "answered with unsupported Content-Encoding 'zstd'"


def test_slow_drip_cannot_hold_a_slot_past_the_total_timeout() -> None:
    drip = Reply(
        body=FEED, headers=RSS_TYPE, drip=16, drip_pause=0.05
    )  # each byte within read timeout
    stall = Reply(body=FEED, headers=RSS_TYPE, delay=3.0)
    with LoopbackServer({"/drip": drip, "/stall": stall}) as server:

        async def go() -> tuple:
            f = fetcher(read_timeout=1.0, total_timeout=0.4)
            dripped = await f.fetch(source(server.url("/drip")), None)
            g = fetcher(read_timeout=0.2, total_timeout=10.0)
            stalled = await g.fetch(source(server.url("/stall")), None)
            await f.aclose()
            await g.aclose()
            return dripped, stalled

        dripped, stalled = run(go())
    assert (
        dripped.status == "failed"
        and dripped.error == "timed out after 0.4 s in total (server too slow)"
    )
    assert stalled.status == "failed" and stalled.error == "read timed out (server stopped sending)"


# -- not a feed --------------------------------------------------------------------------------

CLOUDFLARE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div id="challenge-platform"></div></body></html>"""
CONSENT = b"""<html><head><title>Before you continue to Google</title></head><body>
<form action="https://consent.google.com/save"></form></body></html>"""
SEC_BLOCK = b"""<html><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head><body>
Please declare your traffic by updating your user agent</body></html>"""
RSSHUB_NOTICE = b"Due to cost considerations, we will gradually restrict access to rsshub.app for some feed readers."


def test_pages_that_are_not_feeds_count_as_failures() -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {
        "/cloudflare": Reply(body=CLOUDFLARE, headers=html),
        "/consent": Reply(body=CONSENT, headers=html),
        "/sec": Reply(body=SEC_BLOCK, headers=html),
        "/plain-html": Reply(body=b"<html><body><p>Hello</p></body></html>", headers=html),
        "/html-as-xml": Reply(body=CLOUDFLARE, headers=RSS_TYPE),
        "/notice": Reply(body=RSSHUB_NOTICE, headers={"Content-Type": "text/plain"}),
        "/garbage": Reply(
            body=b"\x00\x01 this is <not> a feed &&&", headers={"Content-Type": "application/xml"}
        ),
        "/not-rss": Reply(
            body=b"<?xml version='1.0'?><config><a>1</a></config>",
            headers={"Content-Type": "application/xml"},
        ),
        "/json": Reply(
            body=b'{"error": "max requests limit exceeded"}',
            headers={"Content-Type": "application/json"},
        ),
        "/empty-feed": Reply(body=rss(0).encode(), headers=RSS_TYPE),
    }
    with LoopbackServer(routes) as server:

        async def go() -> dict:
            f = fetcher(blocked_min_delay=600.0, backoff_base=60.0)
            out = {p: await f.fetch(source(server.url(p)), None) for p in routes}
            await f.aclose()
            return out

        out = run(go())
    assert (
        out["/cloudflare"].error
        == 'answered HTML, not a feed: an anti-bot challenge page ("Just a moment...")'
    )
    assert (
        out["/consent"].error
        == 'answered HTML, not a feed: a consent page ("Before you continue to Google")'
    )
    assert out["/sec"].error.startswith("answered HTML, not a feed: a rate-limit page")
    assert out["/plain-html"].error == "answered HTML, not a feed"
    assert out["/html-as-xml"].error.startswith(
        "answered HTML, not a feed: an anti-bot challenge page"
    )
    assert out["/notice"].error.startswith('answered plain text, not a feed ("Due to cost')
    assert out["/garbage"].error.startswith("not a feed")
    assert out["/not-rss"].error == "not a feed: no RSS, Atom or RDF root element"
    assert out["/json"].error == "answered JSON, not a feed (no JSON Feed version)"
    for path, outcome in out.items():
        if path != "/empty-feed":
            assert outcome.status == "failed" and outcome.http_status == 200, path
    # anti-bot, consent and rate-limit pages wait longer than plain backoff
    assert out["/cloudflare"].next_poll == NOW + timedelta(seconds=600)
    assert out["/plain-html"].next_poll == NOW + timedelta(seconds=60)
    # a valid feed with no entries is "no news", not a failure
    assert out["/empty-feed"].status == "ok" and out["/empty-feed"].items == ()


# -- redirects ---------------------------------------------------------------------------------


def test_redirects_permanent_temporary_loops_and_caps() -> None:
    def to(path: str, status: int) -> Reply:
        return Reply(status=status, headers={"Location": path})

    routes = {
        "/old": to("/new", 301),
        "/new": Reply(body=FEED, headers=RSS_TYPE),
        "/perm308": to("/new", 308),
        "/temp": to("/new", 302),
        "/mixed": to("/temp", 301),
        "/loop-a": to("/loop-b", 302),
        "/loop-b": to("/loop-a", 302),
        "/r0": to("/r1", 302),
        "/r1": to("/r2", 302),
        "/r2": to("/r3", 302),
        "/r3": to("/new", 302),
        "/nowhere": Reply(status=302),
        "/consent": to("https://consent.google.com/m?continue=x", 302),
        "/to-304": to("/cached", 301),
        "/cached": Reply(status=304),
    }
    with LoopbackServer(routes) as server:

        async def go() -> dict:
            f = fetcher(max_redirects=3)
            out = {
                p: await f.fetch(source(server.url(p)), None)
                for p in (
                    "/old",
                    "/perm308",
                    "/temp",
                    "/mixed",
                    "/loop-a",
                    "/r0",
                    "/nowhere",
                    "/consent",
                )
            }
            out["/to-304"] = await f.fetch(
                source(server.url("/to-304")), FetchState(source_id="x", etag='"e"')
            )
            await f.aclose()
            return out

        out = run(go())
    assert out["/old"].status == "ok" and out["/old"].final_url == server.url("/new")
    assert out["/perm308"].final_url == server.url("/new")
    assert out["/temp"].status == "ok" and out["/temp"].final_url is None
    assert out["/mixed"].status == "ok" and out["/mixed"].final_url is None
    assert out["/loop-a"].status == "failed" and out["/loop-a"].error.startswith(
        "redirect loop at "
    )
    assert out["/r0"].error == "more than 3 redirects"
    assert out["/nowhere"].error == "HTTP 302 redirect without a Location"
    assert out["/consent"].error == "redirected to a consent page (consent.google.com)"
    assert out["/to-304"].status == "not_modified" and out["/to-304"].final_url == server.url(
        "/cached"
    )
    # the store moves the source: the next poll goes straight to the new URL
    src = source(server.url("/old"))
    assert next_state(None, out["/old"], src).url == server.url("/new")


# -- MockTransport: an injected client ----------------------------------------------------------


def test_injected_client_with_mock_transport() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=FEED, headers=RSS_TYPE)

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            f = Fetcher(client, settings=settings(), clock=clock)
            outcome = await f.fetch(source("https://feeds.example.com/rss"), None)
            await f.aclose()  # does not close a client it did not create
            assert not client.is_closed
            return outcome

    outcome = run(go())
    assert outcome.status == "ok" and len(outcome.items) == 3 and outcome.started == NOW
    assert seen[0].headers["user-agent"].startswith("thesiswatch/")


def test_latency_and_bytes_are_reported() -> None:
    with LoopbackServer({"/f": Reply(body=FEED, headers=RSS_TYPE, delay=0.05)}) as server:
        outcome = run(fetcher().fetch(source(server.url("/f")), None))
    assert outcome.latency >= 0.05 and outcome.bytes == len(FEED)


def test_json_api_source_over_http() -> None:
    from thesiswatch.feeds.models import JsonMapping

    body = '{"data": {"items": [{"t": "蔚来交付创新高", "u": "https://ex.cn/n/1?spm=x"}]}}'.encode()
    with LoopbackServer(
        {"/api": Reply(body=body, headers={"Content-Type": "application/json"})}
    ) as server:
        src = Source(
            name="api",
            url=server.url("/api"),
            kind="json",
            json=JsonMapping(items="data.items", title="t", url="u"),
        )
        outcome = run(fetcher().fetch(src, None))
    assert outcome.status == "ok" and [(i.title, i.url) for i in outcome.items] == [
        ("蔚来交付创新高", "https://ex.cn/n/1")
    ]
    assert server.requests[0].headers["accept"].startswith("application/json")


def test_identical_body_without_validators_is_not_parsed_again(monkeypatch) -> None:
    import thesiswatch.feeds.fetch as fetch_module

    real_parse = fetch_module.parse_feed
    calls: list[str] = []

    def counting_parse(*args: object, **kwargs: object) -> list:
        calls.append("parse")
        return real_parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fetch_module, "parse_feed", counting_parse)
    body = {"v": FEED}

    def handler(request: Request) -> Reply:
        return Reply(body=body["v"], headers=RSS_TYPE)  # no ETag, no Last-Modified

    with LoopbackServer({"/f": handler}) as server:
        src = source(server.url("/f"))

        async def go() -> list[FetchOutcome]:
            f = fetcher()
            first = await f.fetch(src, None)
            state = next_state(None, first, src)
            same = await f.fetch(src, state)
            body["v"] = rss(4).encode()
            changed = await f.fetch(src, next_state(state, same, src))
            fresh = await f.fetch(src, None)  # a caller without state always gets the items
            await f.aclose()
            return [first, same, changed, fresh]

        first, same, changed, fresh = run(go())
    assert first.status == "ok" and same.status == "not_modified" and same.http_status == 200
    assert same.items == () and "unchanged" in same.extra
    assert changed.status == "ok" and len(changed.items) == 4
    assert fresh.status == "ok" and len(fresh.items) == 4
    assert len(calls) == 3
