"""thesiswatch: a terminal news-and-sentiment monitor for an equity-research thesis.

This package is the app shell (CLI, config, pipeline wiring, daemon, demo, sinks). It must stay
cheap to import: nothing here may import Textual or snownlp at module level.
"""

from __future__ import annotations

__version__ = "0.1.0"

ALERTS_SEEN_KEY = "alerts_seen_at"
"""``meta`` key: when the user last looked at the alerts (``thesiswatch alerts``, TUI exit)."""
