"""Save SVG screenshots of every screen (for docs/): ``python -m tui.screenshots --db PATH``.

Runs the app headless in attach mode on an existing database (e.g. one filled by
``thesiswatch --db /tmp/demo.db daemon --once --demo``) with the built-in watchlist, at
160x50 and 80x24, and writes ``<screen>-<size>.svg`` files to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

SHOTS: list[tuple[str, list[str]]] = [
    ("main", []),
    ("filtered", ["1"]),
    ("search", ["slash", *"DeepSeek", "enter"]),
    ("filters", ["f"]),
    ("ticker", ["T"]),
    ("sources", ["S"]),
    ("report", ["R"]),
    ("help", ["question_mark"]),
]
SIZES = [(160, 50), (80, 24)]


async def shoot(db: Path, out: Path, *, light: bool) -> list[Path]:
    from thesiswatch.store import Store
    from thesiswatch.tui.app import make_app
    from thesiswatch.watchlists import load_watchlist

    written: list[Path] = []
    watchlist = load_watchlist(None)
    for width, height in SIZES:
        for name, keys in SHOTS:
            with Store.open(db, readonly=True) as store:
                app = make_app(None, store=store, watchlist=watchlist)
                async with app.run_test(size=(width, height)) as pilot:
                    if light:
                        app.theme = "textual-light"
                    await pilot.pause()
                    await pilot.press(*keys)
                    await pilot.pause(0.2)
                    suffix = "-light" if light else ""
                    filename = f"{name}-{width}x{height}{suffix}.svg"
                    app.save_screenshot(filename, str(out))
                    written.append(out / filename)
            if light:
                break  # one light-theme shot per size is enough
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for light in (False, True):
        for path in asyncio.run(shoot(args.db, args.out, light=light)):
            print(path)


if __name__ == "__main__":
    main()
