"""Shared fixtures: a loopback HTTP server for our own fixture feeds (never the internet)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FEEDS = Path(__file__).parent / "data" / "feeds"
TYPES = {".xml": "application/xml; charset=utf-8", ".html": "text/html; charset=utf-8"}


class FixtureServer:
    """Serves files of tests/data/feeds (or overrides set by a test) with ETag/304."""

    def __init__(self) -> None:
        self.overrides: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                name = self.path.lstrip("/").split("?")[0]
                if name in server.overrides:
                    status, ctype, body = server.overrides[name]
                else:
                    path = FEEDS / name
                    if not name or not path.is_file():
                        self.send_error(404)
                        return
                    status, ctype, body = (
                        200,
                        TYPES.get(path.suffix, "application/octet-stream"),
                        path.read_bytes(),
                    )
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


@pytest.fixture
def feed_server() -> Iterator[FixtureServer]:
    server = FixtureServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``--doctest-modules`` is for the package's modules: helpers and conftest files here hold
    no doctests, and share basenames (``sample.py``, ``conftest.py``) that would clash when
    imported as doctest modules. (Conftest files still load as plugins.)"""
    here = Path(__file__).parent
    if (
        collection_path.suffix == ".py"
        and collection_path.is_relative_to(here)
        and not collection_path.name.startswith("test_")
    ):
        return True
    return None
