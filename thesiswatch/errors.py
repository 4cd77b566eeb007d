"""The one exception tree of thesiswatch.

Every error a user can cause (bad config, bad watchlist, bad feed, unreadable database) is a
``ThesiswatchError``; the CLI prints its message on one line and exits non-zero, the daemon
logs it and carries on, the TUI shows it as a notification.

    ThesiswatchError
    ├── ConfigError        a config file or option is wrong (names the file, key, expectation)
    ├── WatchlistError     a watchlist file is wrong
    ├── FeedError          a source could not be fetched or parsed
    └── StoreError         the database cannot be opened, migrated or written
        └── ReadOnlyQueryError   a write was attempted through the read-only query path
"""

from __future__ import annotations


class ThesiswatchError(Exception):
    """Base class of every error thesiswatch raises on purpose."""


class ConfigError(ThesiswatchError):
    """A config file, environment variable or command-line option is invalid."""


class WatchlistError(ThesiswatchError):
    """A watchlist file is invalid."""


class FeedError(ThesiswatchError):
    """A source could not be fetched, or what it answered is not a feed."""


class StoreError(ThesiswatchError):
    """The database cannot be opened, migrated, read or written."""


class ReadOnlyQueryError(StoreError):
    """A statement given to the read-only query path tried to write."""
