"""Pure tagging: language, entities (tickers), theses and stance, sentiment, clustering, alert rules.

Functions and frozen dataclasses only: str in, records out. No I/O, no Textual, no SQLite.
"""
