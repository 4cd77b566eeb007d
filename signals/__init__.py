"""Pure tagging: language, entities (tickers), theses and stance, sentiment, clustering.

Installed as ``thesiswatch.signals`` (the alert rules are in ``thesiswatch.alerts``).

Functions and frozen dataclasses only: str in, records out. No I/O, no Textual, no SQLite.
"""
