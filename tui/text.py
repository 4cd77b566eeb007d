"""Untrusted text made safe to show: control characters and escape codes stripped, no markup.

Every string that came from a feed (titles, summaries, source names, URLs, error messages)
reaches the screen through :func:`safe_text`, which builds a ``rich.text.Text`` directly (Rich
never parses markup in it) from a string with terminal escape sequences, C0/C1 control
characters and bidirectional overrides removed.

>>> safe_text("[bold red]x[/] \\x1b[31m <script>").plain
'[bold red]x[/] <script>'
"""

from __future__ import annotations

import re

from rich.text import Text

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# C0 and C1 controls, DEL, and bidi embedding/override/isolate marks (used to spoof text).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"[\t\r\n]+")
_SPACES = re.compile(r"[ \u00a0]{2,}")


def clean(value: object, *, single_line: bool = True) -> str:
    """Return ``value`` as a string without escape sequences or control characters.

    With ``single_line`` (the default) tabs and newlines become spaces, for table cells and
    titles; without it newlines are kept, for summaries.
    """
    text = "" if value is None else str(value)
    text = _ESCAPE_SEQUENCE.sub("", text)
    if single_line:
        text = _NEWLINES.sub(" ", text)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL.sub("", text)
    if single_line:
        text = _SPACES.sub(" ", text).strip()
    return text


def safe_text(value: object, style: str = "", *, single_line: bool = True) -> Text:
    """A ``Text`` holding ``value`` literally (markup is never parsed), cleaned by :func:`clean`."""
    return Text(
        clean(value, single_line=single_line),
        style=style,
        no_wrap=single_line,
        overflow="ellipsis" if single_line else "fold",
    )


def is_web_url(url: str) -> bool:
    """True for ``http://`` and ``https://`` URLs only: the only links the app will open."""
    lowered = url.strip().lower()
    return (lowered.startswith("http://") or lowered.startswith("https://")) and len(lowered) > 8
