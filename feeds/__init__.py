"""Getting items: source models and catalogue builders, fetch, parse, normalize, OPML.

Installed as ``thesiswatch.feeds``. Only ``feeds.fetch`` talks to the network. Nothing in this package imports Textual.
"""
