"""`python -m thesiswatch` runs the command line."""

from __future__ import annotations

from thesiswatch.cli import main

if __name__ == "__main__":
    main()
