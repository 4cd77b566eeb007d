"""The bundled demo: sample news written by us, served as real feeds on 127.0.0.1.

``thesiswatch demo`` needs no network: :class:`DemoServer` serves the items of
``samples.toml`` as RSS 2.0 and Atom with conditional-GET support, and its ``sources()``
plug into the ordinary pipeline. ``python -m thesiswatch.demo.server`` serves them until
Ctrl-C for manual runs.

The names below are loaded on first use, so that running the server module with ``-m`` does
not import it twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thesiswatch.demo.server import (
        DemoFeed,
        DemoServer,
        SampleItem,
        load_feeds,
        load_samples,
        serve_forever_cli,
    )

__all__ = [
    "DemoFeed",
    "DemoServer",
    "SampleItem",
    "load_feeds",
    "load_samples",
    "serve_forever_cli",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from thesiswatch.demo import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
