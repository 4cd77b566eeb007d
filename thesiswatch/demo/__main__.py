"""`python -m thesiswatch.demo`: serve the sample feeds on 127.0.0.1 and print them."""

from __future__ import annotations

from thesiswatch.demo.server import serve_forever_cli

if __name__ == "__main__":
    raise SystemExit(serve_forever_cli())
