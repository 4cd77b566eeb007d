"""A small real HTTP/1.1 server on loopback for tests and benchmarks (no network, no mocks).

It runs its own asyncio loop in a daemon thread, so the code under test can run its own loop
(``asyncio.run``) in the main thread. Routes map a path to a ``Reply`` or to a function of the
``Request`` returning one; a ``Reply`` can delay its answer, drip its body slowly, or hang up.
It can listen on several loopback addresses (127.0.0.2, 127.0.0.3, ...: Linux routes all of
127/8 to ``lo``), which gives tests and the benchmark distinct "hosts" without DNS.

    with LoopbackServer({"/feed.xml": Reply(body=RSS, headers={"Content-Type": "application/rss+xml"})}) as server:
        url = server.url("/feed.xml")
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoopbackServer", "Reply", "Request"]


@dataclass
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-cased names
    host: str  # the local address that received it


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: int = 0  # when > 0, send the body in pieces of this many bytes ...
    drip_pause: float = 0.0  # ... with this pause between pieces
    content_length: bool = True  # False: close-delimited body
    hang_up: bool = False  # close the connection without answering


Handler = Reply | Callable[[Request], Reply]

_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class LoopbackServer:
    """A threaded asyncio HTTP server on one or more loopback addresses."""

    def __init__(
        self,
        routes: Mapping[str, Handler] | None = None,
        *,
        hosts: Iterable[str] = ("127.0.0.1",),
        default: Handler | None = None,
    ) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.default = default
        self.hosts = list(hosts)
        self.ports: dict[str, int] = {}
        self.requests: list[Request] = []
        self.active: Counter[str] = Counter()  # requests being answered, per host
        self.max_active: Counter[str] = Counter()
        self.max_active_total = 0
        self._active_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._lock = threading.Lock()
        self._error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._run, name="loopback-http", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"loopback server failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str, host: str | None = None) -> str:
        host = host or self.hosts[0]
        return f"http://{host}:{self.ports[host]}{path}"

    def count(self, path: str) -> int:
        """How many requests asked for ``path`` (query string ignored)."""
        return sum(1 for r in self.requests if urlsplit(r.path).path == path)

    # -- server -------------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        servers = []
        for host in self.hosts:
            server = await asyncio.start_server(
                functools.partial(self._connection, host=host), host, 0, backlog=1024
            )
            self.ports[host] = server.sockets[0].getsockname()[1]
            servers.append(server)
        self._ready.set()
        await self._stop.wait()
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    def _handler(self, path: str) -> Handler | None:
        bare = urlsplit(path).path
        return self.routes.get(path) or self.routes.get(bare) or self.default

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                try:
                    method, target, _version = line.decode("latin-1").split(" ", 2)
                except ValueError:
                    return
                headers: dict[str, str] = {}
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                if target.startswith("http"):
                    split = urlsplit(target)
                    target = split.path + (f"?{split.query}" if split.query else "")
                request = Request(method=method, path=target, headers=headers, host=host)
                with self._lock:
                    self.requests.append(request)
                keep = await self._answer(request, writer, host)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter, host: str) -> bool:
        handler = self._handler(request.path)
        reply = handler(request) if callable(handler) else handler
        if reply is None:
            reply = Reply(status=404, body=b"not found", headers={"Content-Type": "text/plain"})
        with self._lock:
            self.active[host] += 1
            self._active_total += 1
            self.max_active[host] = max(self.max_active[host], self.active[host])
            self.max_active_total = max(self.max_active_total, self._active_total)
        try:
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.hang_up:
                return False
            pairs = (
                list(reply.headers.items())
                if isinstance(reply.headers, Mapping)
                else list(reply.headers)
            )
            names = {name.lower() for name, _ in pairs}
            head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
            head += [f"{name}: {value}" for name, value in pairs]
            body = b"" if request.method == "HEAD" or reply.status == 304 else reply.body
            if reply.content_length and "content-length" not in names and reply.status != 304:
                head.append(f"Content-Length: {len(body)}")
            if not reply.content_length:
                head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            if reply.drip and body:
                for start in range(0, len(body), reply.drip):
                    writer.write(body[start : start + reply.drip])
                    await writer.drain()
                    if reply.drip_pause:
                        await asyncio.sleep(reply.drip_pause)
            else:
                writer.write(body)
            await writer.drain()
            return reply.content_length
        finally:
            with self._lock:
                self.active[host] -= 1
                self._active_total -= 1
