"""thesiswatch: a terminal news-and-sentiment monitor for an equity-research thesis.

The one import name. This folder holds the CLI, the app shell (session, config, pipeline
wiring, daemon, demo, watchlists), the alerts package and the kernel (this module, ``errors``,
``clock``, ``records``); the root folders ``feeds/``, ``signals/``, ``store/`` and ``tui/`` are
linked in as ``thesiswatch.feeds`` ... ``thesiswatch.tui`` (docs/ENGINEERING.md has the layers).
It must stay cheap to import: nothing here may import Textual or snownlp at module level.
"""

from __future__ import annotations

__version__ = "0.1.0"

ALERTS_SEEN_KEY = "alerts_seen_at"
"""``meta`` key: when the user last looked at the alerts (``thesiswatch alerts``, TUI exit)."""
