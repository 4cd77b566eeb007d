"""Alert formatting shared by the sinks: the DESIGN.md alert dict and JSON line, one-line
text for logs and chat, and chat digests that merge alerts into messages within a size limit."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from thesiswatch.records import Alert

_ALERT_KEYS = (
    "id", "created", "rule", "severity", "title", "message", "url", "tickers", "thesis",
    "stance", "item_ids",
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def alert_dict(alert: Any) -> dict[str, object]:
    """The DESIGN.md alert shape of an ``Alert`` (or a store's ``StoredAlert``)."""
    data = {key: getattr(alert, key, None) for key in _ALERT_KEYS}
    data["tickers"] = list(data["tickers"] or ())
    data["item_ids"] = list(data["item_ids"] or ())
    data["url"] = data["url"] or ""
    return data


def alert_json(alert: Any) -> str:
    return json.dumps(alert_dict(alert), ensure_ascii=False, separators=(",", ":"))


def one_line(text: str, limit: int = 300) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def _alert_block(alert: Alert, *, markdown: bool) -> str:
    tickers = ", ".join(alert.tickers)
    head = f"{_SEVERITY_MARK.get(alert.severity, '')} [{alert.severity}] {alert.rule}"
    if tickers:
        head += f" · {tickers}"
    head += f" · id {alert.id}"  # the key a receiver de-duplicates on (a resend after a crash)
    title = one_line(alert.title, 300)
    message = one_line(alert.message, 1500)
    if markdown:
        link = f"[{title}]({alert.url})" if alert.url else title
        return f"#### {head}\n\n{link}\n\n> {message}\n"
    return f"{head}\n{title}\n{alert.url}\n{message}\n".replace("\n\n", "\n")


def digest_messages(
    alerts: Sequence[Alert], *, max_bytes: int, markdown: bool, keyword: str = ""
) -> list[tuple[str, str, list[Alert]]]:
    """Merge alerts into as few messages as fit ``max_bytes`` (UTF-8) each:
    ``(title, text, alerts in it)``. A single alert too long on its own is cut to fit."""
    prefix = f"thesiswatch{(' ' + keyword) if keyword else ''}"
    messages: list[tuple[str, str, list[Alert]]] = []
    blocks: list[str] = []
    members: list[Alert] = []

    def header(n: int) -> tuple[str, str]:
        top = f"{prefix}: {n} alert{'s' if n != 1 else ''}"
        return (f"### {top}\n\n" if markdown else f"{top}\n\n"), top

    def size(parts: list[str], n: int) -> int:
        return len((header(n)[0] + "\n".join(parts)).encode("utf-8"))

    def flush() -> None:
        if members:
            head, title = header(len(members))
            messages.append((title, head + "\n".join(blocks), list(members)))
            blocks.clear()
            members.clear()

    for alert in alerts:
        block = _alert_block(alert, markdown=markdown)
        if members and size([*blocks, block], len(members) + 1) > max_bytes:
            flush()
        if size([block], 1) > max_bytes:
            room = max_bytes - size([], 1) - 8
            block = block.encode("utf-8")[:room].decode("utf-8", "ignore") + "…"
        blocks.append(block)
        members.append(alert)
    flush()
    return messages
