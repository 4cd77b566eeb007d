"""Getting items: source models and catalogue builders, fetch, parse, normalize, OPML.

Only ``feeds.fetch`` talks to the network. Nothing in this package imports Textual.
"""
