"""The Textual app, installed as ``thesiswatch.tui``. Only this package imports Textual."""
