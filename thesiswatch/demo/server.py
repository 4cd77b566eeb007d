"""The demo feed server: bundled sample news served as real RSS 2.0 / Atom on 127.0.0.1.

``thesiswatch demo`` starts a :class:`DemoServer`, points the ordinary pipeline at
:meth:`DemoServer.sources` and opens the TUI: the fetcher, parser, tagger and store run exactly
as they would against the internet, but nothing leaves the machine.

The feeds behave like well-kept real ones, so the demo exercises the same code paths:
``ETag`` / ``Last-Modified`` with ``304 Not Modified`` on conditional requests, a declared
charset (one Chinese feed is served as GB18030 bytes), one Atom feed, and one deliberately
ill-formed feed carrying raw ANSI escapes. Timestamps are relative to the moment the server
started, so the demo always looks live; a few items are held back and appear only after the
server has run for a while, so new alerts arrive while the user watches.

Example::

    with DemoServer() as server:
        for source in server.sources():
            print(source.name, source.url)

Run ``python -m thesiswatch.demo.server`` to serve the feeds until Ctrl-C and print their URLs
as a config snippet.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from thesiswatch.errors import ThesiswatchError
from thesiswatch.feeds.models import Source

__all__ = [
    "DemoFeed",
    "DemoServer",
    "SampleItem",
    "load_feeds",
    "load_samples",
    "serve_forever_cli",
]

HOST = "127.0.0.1"
POLL_INTERVAL = 30  # seconds: short, so held-back items show up soon after their release
FeedFormat = Literal["rss", "atom"]
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoFeed:
    """One sample feed: where it is served and how it is encoded."""

    slug: str
    name: str
    format: FeedFormat = "rss"
    lang: str = "en"  # the hint given to the app
    language: str = "en"  # the feed's own language tag
    encoding: str = "utf-8"
    description: str = ""
    malformed: bool = False  # carries raw control characters XML forbids, on purpose

    @property
    def path(self) -> str:
        return f"/feeds/{self.slug}.xml"

    @property
    def content_type(self) -> str:
        kind = "application/atom+xml" if self.format == "atom" else "application/rss+xml"
        return f"{kind}; charset={self.encoding.upper()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleItem:
    """One sample news item, as written in ``samples.toml``."""

    feed: str  # slug of the DemoFeed that carries it
    title: str
    summary: str = ""
    url: str
    minutes_ago: float = 0.0
    release_after_seconds: float | None = None

    def published(self, started: datetime) -> datetime:
        """When the item is dated, for a server started at ``started``."""
        if self.release_after_seconds is not None:
            return self.released(started) - timedelta(minutes=self.minutes_ago)
        return started - timedelta(minutes=self.minutes_ago)

    def released(self, started: datetime) -> datetime:
        """When the item first appears in its feed."""
        return started + timedelta(seconds=self.release_after_seconds or 0.0)


def _samples_document(path: Path | None) -> dict[str, Any]:
    try:
        if path is None:
            data = resources.files("thesiswatch.demo").joinpath("samples.toml").read_bytes()
        else:
            data = path.read_bytes()
        return tomllib.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        where = path or "the bundled samples.toml"
        raise ThesiswatchError(f"cannot read demo samples from {where}: {exc}") from exc


def _build(cls: type[Any], table: dict[str, Any], where: str) -> Any:
    try:
        return cls(**table)
    except TypeError as exc:
        raise ThesiswatchError(f"bad {where} in demo samples: {exc}") from exc


def load_feeds(path: Path | None = None) -> list[DemoFeed]:
    """The sample feeds declared in ``samples.toml`` (or the file at ``path``)."""
    document = _samples_document(path)
    feeds = [_build(DemoFeed, t, "[[feeds]] entry") for t in document.get("feeds", [])]
    slugs = [feed.slug for feed in feeds]
    if len(set(slugs)) != len(slugs):
        raise ThesiswatchError(f"duplicate feed slug in demo samples: {slugs}")
    return feeds


def load_samples(path: Path | None = None) -> list[SampleItem]:
    """The sample items of ``samples.toml`` (or the file at ``path``), checked for consistency."""
    document = _samples_document(path)
    slugs = {t.get("slug") for t in document.get("feeds", [])}
    items: list[SampleItem] = [
        _build(SampleItem, t, "[[items]] entry") for t in document.get("items", [])
    ]
    seen: set[tuple[str, str]] = set()
    for item in items:
        if item.feed not in slugs:
            raise ThesiswatchError(f"demo item {item.url!r} names unknown feed {item.feed!r}")
        if (item.feed, item.url) in seen:
            raise ThesiswatchError(f"demo item {item.url!r} appears twice in feed {item.feed!r}")
        seen.add((item.feed, item.url))
    return items


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _text(value: str) -> str:
    """Escape text for XML. Control characters are kept: hostile feeds carry them too."""
    return escape(value)


@dataclass(frozen=True, slots=True)
class _Rendered:
    body: bytes
    content_type: str
    etag: str
    last_modified: datetime


class DemoServer:
    """Serve the sample feeds on ``127.0.0.1`` from a background thread.

    ``samples`` defaults to :func:`load_samples`, ``feeds`` to :func:`load_feeds`; ``clock``
    returns the current time as an aware datetime (tests pass a fake one); ``port`` 0 picks a
    free port. Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        samples: Sequence[SampleItem] | None = None,
        *,
        clock: Clock | None = None,
        feeds: Sequence[DemoFeed] | None = None,
        port: int = 0,
    ) -> None:
        self._feeds = {feed.slug: feed for feed in (feeds if feeds is not None else load_feeds())}
        self._samples = tuple(samples if samples is not None else load_samples())
        unknown = {item.feed for item in self._samples} - self._feeds.keys()
        if unknown:
            raise ThesiswatchError(f"demo samples name unknown feeds: {sorted(unknown)}")
        self._clock: Clock = clock or _utc_now
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.started_at: datetime | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> DemoServer:
        """Bind to 127.0.0.1, fix the time origin of the samples and serve in a thread."""
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((HOST, self._port), _Handler)
        httpd.daemon_threads = True
        httpd.demo = self  # type: ignore[attr-defined]
        self.started_at = self._now()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="thesiswatch-demo-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what it serves ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; only known once started."""
        if self._httpd is None:
            raise RuntimeError("DemoServer.base_url is known only after start()")
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    @property
    def feeds(self) -> tuple[DemoFeed, ...]:
        return tuple(self._feeds.values())

    @property
    def samples(self) -> tuple[SampleItem, ...]:
        return self._samples

    def sources(self) -> list[Source]:
        """One :class:`Source` per sample feed, pointing at this server."""
        base = self.base_url
        return [
            Source(name=feed.name, url=base + feed.path, interval=POLL_INTERVAL, lang=feed.lang)
            for feed in self._feeds.values()
        ]

    def visible_items(self, slug: str, now: datetime | None = None) -> list[SampleItem]:
        """Items of feed ``slug`` released by ``now`` (default: the clock), newest first."""
        started = self._started()
        now = now or self._now()
        items = [
            item for item in self._samples if item.feed == slug and item.released(started) <= now
        ]
        return sorted(items, key=lambda item: item.published(started), reverse=True)

    def render(self, slug: str, now: datetime | None = None) -> _Rendered:
        """The feed document of ``slug`` as it would be served at ``now``."""
        feed = self._feeds[slug]
        started = self._started()
        items = self.visible_items(slug, now)
        updated = max((item.published(started) for item in items), default=started)
        if feed.format == "atom":
            text = self._atom(feed, items, updated)
        else:
            text = self._rss(feed, items, updated)
        body = text.encode(feed.encoding)
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        return _Rendered(body, feed.content_type, etag, updated)

    def index_page(self) -> bytes:
        lines = ["thesiswatch demo feeds (sample data, served on loopback)", ""]
        lines += [f"{feed.name}\t{self.base_url}{feed.path}" for feed in self._feeds.values()]
        return ("\n".join(lines) + "\n").encode("utf-8")

    # -- internals --------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ThesiswatchError("the demo server's clock must return an aware datetime")
        return now

    def _started(self) -> datetime:
        if self.started_at is None:
            raise RuntimeError("DemoServer is not started")
        return self.started_at

    def _rss(self, feed: DemoFeed, items: Sequence[SampleItem], updated: datetime) -> str:
        started = self._started()
        base = self.base_url
        parts = [
            f'<?xml version="1.0" encoding="{feed.encoding.upper()}"?>',
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
            "<channel>",
            f"<title>{_text(feed.name)}</title>",
            f"<link>{_text(base + '/')}</link>",
            f'<atom:link href={quoteattr(base + feed.path)} rel="self" type="application/rss+xml"/>',
            f"<description>{_text(feed.description)}</description>",
            f"<language>{_text(feed.language)}</language>",
            f"<lastBuildDate>{_http_date(updated)}</lastBuildDate>",
            "<generator>thesiswatch demo</generator>",
            # no <ttl>: it counts whole minutes, and one minute would double the 30 s interval
        ]
        for item in items:
            parts += [
                "<item>",
                f"<title>{_text(item.title)}</title>",
                f"<link>{_text(item.url)}</link>",
                f"<description>{_text(item.summary)}</description>",
                f"<pubDate>{_http_date(item.published(started))}</pubDate>",
                f'<guid isPermaLink="true">{_text(item.url)}</guid>',
                "</item>",
            ]
        parts += ["</channel>", "</rss>", ""]
        return "\n".join(parts)

    def _atom(self, feed: DemoFeed, items: Sequence[SampleItem], updated: datetime) -> str:
        started = self._started()
        base = self.base_url
        parts = [
            f'<?xml version="1.0" encoding="{feed.encoding.upper()}"?>',
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(feed.language)}>',
            f'<title type="text">{_text(feed.name)}</title>',
            f'<subtitle type="text">{_text(feed.description)}</subtitle>',
            f"<id>urn:thesiswatch:demo:{_text(feed.slug)}</id>",
            f'<link rel="self" type="application/atom+xml" href={quoteattr(base + feed.path)}/>',
            f'<link rel="alternate" href={quoteattr(base + "/")}/>',
            f"<updated>{_iso(updated)}</updated>",
            "<generator>thesiswatch demo</generator>",
        ]
        for item in items:
            published = _iso(item.published(started))
            parts += [
                "<entry>",
                f'<title type="text">{_text(item.title)}</title>',
                f'<link rel="alternate" href={quoteattr(item.url)}/>',
                f"<id>{_text(item.url)}</id>",
                f"<published>{published}</published>",
                f"<updated>{published}</updated>",
                f'<summary type="text">{_text(item.summary)}</summary>',
                f"<author><name>{_text(feed.name)}</name></author>",
                "</entry>",
            ]
        parts += ["</feed>", ""]
        return "\n".join(parts)


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [part.strip() for part in header.split(",")]
    weak = [c[2:] if c.startswith("W/") else c for c in candidates]
    return "*" in candidates or etag in weak


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


class _Handler(BaseHTTPRequestHandler):
    """Answers GET/HEAD for ``/`` (a plain-text index) and ``/feeds/<slug>.xml``."""

    server_version = "thesiswatch-demo/1"
    # HTTP/1.0: one request per connection, so no handler thread lingers on an idle keep-alive
    # connection after stop(); on loopback reconnecting costs nothing.
    protocol_version = "HTTP/1.0"
    timeout = 10  # seconds a silent client may hold a handler thread

    @property
    def demo(self) -> DemoServer:
        return self.server.demo  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the demo runs under a full-screen TUI."""

    def _respond(self, *, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.txt"):
            self._send(
                HTTPStatus.OK, self.demo.index_page(), "text/plain; charset=utf-8", send_body
            )
            return
        slug = path.removeprefix("/feeds/").removesuffix(".xml")
        if not path.startswith("/feeds/") or slug not in {f.slug for f in self.demo.feeds}:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)
            return
        rendered = self.demo.render(slug)
        headers = {
            "ETag": rendered.etag,
            "Last-Modified": _http_date(rendered.last_modified),
            "Cache-Control": "no-cache",
        }
        if_none_match = self.headers.get("If-None-Match")
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_none_match is not None:
            fresh = _etag_matches(if_none_match, rendered.etag)
        elif if_modified_since is not None:
            fresh = _not_modified_since(if_modified_since, rendered.last_modified)
        else:
            fresh = False
        if fresh:
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, False, headers)
        else:
            self._send(HTTPStatus.OK, rendered.body, rendered.content_type, send_body, headers)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        send_body: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def _config_snippet(sources: Sequence[Source]) -> Iterator[str]:
    for source in sources:
        yield "[[sources]]"
        yield f"name = {_toml_string(source.name)}"
        yield f"url = {_toml_string(source.url)}"
        yield f"interval = {source.interval}"
        if source.lang:
            yield f"lang = {_toml_string(source.lang)}"
        yield ""


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serve_forever_cli(argv: Sequence[str] | None = None) -> int:
    """Serve the demo feeds until Ctrl-C (or SIGTERM), printing their URLs as config TOML."""
    parser = argparse.ArgumentParser(
        prog="python -m thesiswatch.demo.server",
        description="Serve thesiswatch's bundled sample feeds on 127.0.0.1 (no network).",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free one)")
    args = parser.parse_args(argv)

    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        with DemoServer(port=args.port) as server:
            print(f"# thesiswatch demo feeds on {server.base_url} (Ctrl-C to stop)")
            print("# paste into a config file to poll them:\n")
            print("\n".join(_config_snippet(server.sources())), flush=True)
            try:
                while not stopped.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    except OSError as exc:
        print(f"thesiswatch demo: cannot serve on {HOST}:{args.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("# stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(serve_forever_cli())
