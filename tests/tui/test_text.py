"""Untrusted text helpers and the small renderers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from thesiswatch.tui.filters import Filters
from thesiswatch.tui.render import age, sparkline, stance_bar
from thesiswatch.tui.text import clean, is_web_url, safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("[bold red]x[/] \x1b[31m <script>", "[bold red]x[/] <script>"),
        ("a\x1b]8;;http://evil\x07link\x1b]8;;\x07b", "alinkb"),  # OSC 8 hyperlink
        ("bell\x07 nul\x00 del\x7f c1\x9b31m", "bell nul del c1"),
        ("rtl \u202eevil\u202c", "rtl evil"),
        ("line\nbreak\ttab", "line break tab"),
        (None, ""),
    ],
)
def test_clean_strips_escapes_and_controls(raw: str | None, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_keeps_newlines_for_summaries() -> None:
    assert clean("one\r\ntwo\x1b[2J", single_line=False) == "one\ntwo"


def test_safe_text_never_parses_markup() -> None:
    text = safe_text("[link=http://evil]click[/link] [b]b[/b]")
    assert text.plain == "[link=http://evil]click[/link] [b]b[/b]"
    assert not text.spans


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("data:text/html,x", False),
        ("https://", False),
        ("", False),
    ],
)
def test_only_web_urls_open(url: str, ok: bool) -> None:
    assert is_web_url(url) is ok


def test_renderers() -> None:
    assert age(timedelta(seconds=30)) == "now"
    assert age(timedelta(days=3)) == "3d"
    assert stance_bar(10, 0, 8).plain == "────│████"
    assert stance_bar(0, 10, 8).plain == "████│────"
    assert stance_bar(5, 5, 8).plain == "────│────"
    assert sparkline([0, -2, 4]).plain == "·▄█"


def test_filters_describe_and_window() -> None:
    f = Filters(thesis="compute", lang="zh", window="24h", search="芯片")
    assert f.describe() == "thesis compute, lang zh, last 24h, search “芯片”"
    assert not f.is_empty and Filters().is_empty
