"""The database schema and its versioned migrations.

Every change to the schema is a new function registered on ``MIGRATIONS`` (an
``sqlite_utils.Migrations`` set); migrations are never edited once released. After applying
them the store writes ``PRAGMA user_version = SCHEMA_VERSION`` so that any SQLite tool can
tell which schema a file has, and a database written by a newer thesiswatch (a higher
``user_version`` or a migration this code does not know) is refused instead of misread.

The DDL carries ``--`` comments: SQLite keeps them in ``sqlite_master``, so ``.schema`` in the
``sqlite3`` shell and Datasette's table pages show what each column means. ``docs/schema.md``
is the long form.

Conventions: times are UTC ISO-8601 text (``2025-01-27T14:30:00+00:00``), so they sort and
compare as strings; lists are JSON arrays in TEXT columns; ids are stored as given.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from sqlite_utils import Database

MIGRATION_SET = "thesiswatch"
MIGRATIONS = sqlite_utils.Migrations(MIGRATION_SET)


def _run(db: Database, statements: str) -> None:
    """Run ``;``-separated DDL statement by statement (``executescript`` would commit)."""
    for statement in _split(statements):
        db.execute(statement)


def _split(script: str) -> list[str]:
    """Split a DDL script into statements; ``sqlite3.complete_statement`` handles triggers."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


# --- 1: the first schema -------------------------------------------------------------------

SCHEMA_1 = """
CREATE TABLE meta (
  key TEXT PRIMARY KEY,            -- e.g. 'last_seen_alerts'
  value TEXT                       -- free text, owned by whoever set the key
);

CREATE TABLE sources (
  id TEXT PRIMARY KEY,             -- stable id: short hash of the configured URL
  name TEXT NOT NULL,              -- display name from the config or catalogue
  url TEXT NOT NULL,               -- configured URL
  kind TEXT NOT NULL DEFAULT 'feed', -- 'feed' (RSS/Atom) or 'json' (news API)
  lang TEXT,                       -- language hint from the config ('zh', 'en') or NULL
  interval INTEGER,                -- configured poll interval, seconds
  tickers TEXT NOT NULL DEFAULT '[]', -- JSON array of ticker ids the source is about
  active INTEGER NOT NULL DEFAULT 1,  -- 1 = configured now; 0 = dropped from the config (history kept)
  added TEXT NOT NULL,             -- first time the source was configured or seen
  updated TEXT NOT NULL,           -- last time its configuration was synced
  fetch_url TEXT,                  -- URL in use after a permanent redirect, else NULL
  etag TEXT,                       -- ETag of the last response, verbatim (conditional GET)
  last_modified TEXT,              -- Last-Modified of the last response, verbatim
  last_attempt TEXT,               -- start of the last poll
  last_success TEXT,               -- start of the last poll that answered (200 or 304)
  last_status TEXT,                -- 'ok', 'not_modified' or 'failed'
  last_http_status INTEGER,        -- HTTP status of the last poll, NULL when none
  consecutive_failures INTEGER NOT NULL DEFAULT 0, -- failed polls since the last success
  last_error TEXT,                 -- one-line reason of the last failure, NULL after a success
  last_latency_ms INTEGER,         -- duration of the last poll, milliseconds
  next_poll TEXT,                  -- when the poller plans to poll next
  poll_interval REAL,              -- adaptive interval in force, seconds
  last_items INTEGER,              -- entries in the last answer
  items_seen INTEGER NOT NULL DEFAULT 0 -- entries seen over all polls (with repeats)
);

CREATE TABLE clusters (
  id TEXT PRIMARY KEY,             -- story cluster id (signals.cluster)
  title TEXT,                      -- title of the first item of the story
  first_seen TEXT,                 -- time of the earliest item in the cluster
  last_seen TEXT,                  -- time of the latest item in the cluster
  size INTEGER NOT NULL DEFAULT 0  -- number of items in the cluster
);

CREATE TABLE items (
  key INTEGER PRIMARY KEY,         -- integer key: what the item_* tables and items_fts refer to
  id TEXT NOT NULL UNIQUE,         -- stable item id from feeds.normalize (same story, same id)
  url TEXT NOT NULL DEFAULT '',    -- canonical URL ('' when the entry had none)
  title TEXT NOT NULL,             -- plain-text title
  summary TEXT NOT NULL DEFAULT '',-- plain-text summary
  lang TEXT,                       -- 'zh' or 'en'
  published TEXT,                  -- publication time given by the feed, NULL when none
  fetched TEXT NOT NULL,           -- first time thesiswatch fetched the item
  ts TEXT NOT NULL,                -- item time: published, else fetched (orders lists, buckets days)
  updated TEXT,                    -- last time the title or summary changed, NULL if never
  guid TEXT,                       -- the feed's entry guid, as given
  author TEXT,                     -- the feed's entry author, as given
  label TEXT CHECK (label IN ('pos', 'neg', 'neu')), -- current sentiment label (see sentiments)
  score REAL,                      -- current sentiment score in [-1, 1]
  cluster_id TEXT REFERENCES clusters(id) -- story cluster, NULL until clustered
);
CREATE INDEX items_ts ON items(ts);
CREATE INDEX items_url ON items(url) WHERE url <> '';
CREATE INDEX items_cluster ON items(cluster_id) WHERE cluster_id IS NOT NULL;

CREATE TABLE item_sources (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  source_id TEXT NOT NULL REFERENCES sources(id), -- a source that carried it
  first_seen TEXT NOT NULL,        -- first time this source carried the item
  PRIMARY KEY (item_key, source_id)
) WITHOUT ROWID;

CREATE TABLE item_tickers (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  ticker TEXT NOT NULL,            -- covered ticker id, e.g. 'NVDA.US', '1810.HK', 'DEEPSEEK'
  ts TEXT NOT NULL,                -- copy of items.ts (time-ordered lookups per ticker)
  spans TEXT NOT NULL DEFAULT '[]',   -- JSON [[start, end], ...]: where the tagger found it
  matched TEXT NOT NULL DEFAULT '[]', -- JSON array of the matched alias strings (evidence)
  PRIMARY KEY (item_key, ticker)
) WITHOUT ROWID;
CREATE INDEX item_tickers_ticker_ts ON item_tickers(ticker, ts);

CREATE TABLE item_theses (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  thesis TEXT NOT NULL,            -- thesis id: 'compute', 'edge', 'localization', 'risk', ...
  stance TEXT NOT NULL CHECK (stance IN ('support', 'challenge')),
  strength REAL NOT NULL DEFAULT 1.0, -- how strongly the item bears on the thesis
  evidence TEXT NOT NULL DEFAULT '[]',-- JSON array of the phrases that decided the stance
  ts TEXT NOT NULL,                -- copy of items.ts
  PRIMARY KEY (item_key, thesis)
) WITHOUT ROWID;
CREATE INDEX item_theses_thesis_ts ON item_theses(thesis, ts);

CREATE TABLE sentiments (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  scorer TEXT NOT NULL,            -- scorer name, e.g. 'lexicon'
  scorer_version TEXT NOT NULL,    -- scorer version; a new version adds rows, old ones stay
  label TEXT NOT NULL CHECK (label IN ('pos', 'neg', 'neu')),
  score REAL NOT NULL,             -- in [-1, 1], the investor's reading
  evidence TEXT NOT NULL DEFAULT '[]', -- JSON array of the words/phrases that drove the score
  scored TEXT NOT NULL,            -- when the score was stored
  PRIMARY KEY (item_key, scorer, scorer_version)
) WITHOUT ROWID;

CREATE TABLE ticker_daily (
  ticker TEXT NOT NULL,
  day TEXT NOT NULL,               -- UTC date of items.ts, 'YYYY-MM-DD'
  items INTEGER NOT NULL DEFAULT 0,-- items mentioning the ticker that day
  pos INTEGER NOT NULL DEFAULT 0,  -- of which labelled pos
  neg INTEGER NOT NULL DEFAULT 0,  -- of which labelled neg
  neu INTEGER NOT NULL DEFAULT 0,  -- of which labelled neu
  score_sum REAL NOT NULL DEFAULT 0, -- sum of their scores (mean = score_sum / items)
  PRIMARY KEY (ticker, day)
) WITHOUT ROWID;

CREATE TABLE thesis_daily (
  thesis TEXT NOT NULL,
  day TEXT NOT NULL,               -- UTC date of items.ts
  support INTEGER NOT NULL DEFAULT 0,   -- items supporting the thesis that day
  challenge INTEGER NOT NULL DEFAULT 0, -- items challenging it that day
  PRIMARY KEY (thesis, day)
) WITHOUT ROWID;

CREATE TABLE source_daily (
  source_id TEXT NOT NULL,
  day TEXT NOT NULL,               -- UTC date of items.ts
  items INTEGER NOT NULL DEFAULT 0,-- distinct items the source carried for that day
  PRIMARY KEY (source_id, day)
) WITHOUT ROWID;

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,             -- stable for the same rule + story (+ key): one alert per story
  created TEXT NOT NULL,           -- UTC ISO-8601, as given by the rule engine
  rule TEXT NOT NULL,              -- rule name, e.g. 'thesis_challenge', 'mention_spike'
  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  title TEXT NOT NULL,
  message TEXT NOT NULL,           -- why it fired, for people
  url TEXT NOT NULL DEFAULT '',    -- the story's URL
  tickers TEXT NOT NULL DEFAULT '[]',  -- JSON array of ticker ids
  thesis TEXT,                     -- thesis id, NULL when not about one thesis
  stance TEXT,                     -- 'support' / 'challenge' / NULL
  item_ids TEXT NOT NULL DEFAULT '[]', -- JSON array of the items behind the alert
  stored TEXT NOT NULL             -- when the store saved it
);
CREATE INDEX alerts_created ON alerts(created);
CREATE INDEX alerts_thesis_created ON alerts(thesis, created);

CREATE TABLE alert_state (
  alert_id TEXT PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
  acked INTEGER NOT NULL DEFAULT 0,    -- 1 = acknowledged by the user
  acked_at TEXT,
  snoozed_until TEXT,              -- hidden until then
  false_positive INTEGER NOT NULL DEFAULT 0, -- 1 = marked as a false positive (feedback for rules)
  updated TEXT NOT NULL
);

CREATE TABLE muted_tickers (
  ticker TEXT PRIMARY KEY,
  until TEXT,                      -- muted until then; NULL = until unmuted
  muted_at TEXT NOT NULL
);

CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  alert_id TEXT NOT NULL,          -- alerts.id
  channel TEXT NOT NULL,           -- 'jsonl', 'webhook:<name>', 'apprise', ...
  status TEXT NOT NULL,            -- 'sent', 'failed', 'retrying', 'dropped', ...
  attempt INTEGER NOT NULL,        -- 1 for the first try
  http_status INTEGER,
  vendor_code TEXT,                -- error code from the receiving service, as given
  error TEXT,                      -- one-line reason
  at TEXT NOT NULL                 -- when the attempt finished
);
CREATE INDEX deliveries_alert ON deliveries(alert_id);

CREATE TABLE fetch_log (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL,         -- sources.id
  started TEXT NOT NULL,           -- start of the poll
  status TEXT NOT NULL,            -- 'ok', 'not_modified', 'failed'
  http_status INTEGER,
  latency_ms INTEGER,
  bytes INTEGER,                   -- size of the body received
  items INTEGER,                   -- entries in the answer
  error TEXT,                      -- one-line reason of a failure
  final_url TEXT                   -- set when a permanent redirect moved the source
);
CREATE INDEX fetch_log_source_started ON fetch_log(source_id, started);
CREATE INDEX fetch_log_started ON fetch_log(started);
"""


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    _run(db, SCHEMA_1)


# --- 2: full-text search -------------------------------------------------------------------

SCHEMA_2 = """
CREATE VIRTUAL TABLE items_fts USING fts5(
  title, summary,
  content='items', content_rowid='key',
  tokenize='trigram'
);
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
  INSERT INTO items_fts(items_fts, rowid, title, summary)
  VALUES ('delete', old.key, old.title, old.summary);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN
  INSERT INTO items_fts(items_fts, rowid, title, summary)
  VALUES ('delete', old.key, old.title, old.summary);
  INSERT INTO items_fts(rowid, title, summary) VALUES (new.key, new.title, new.summary);
END;
CREATE VIRTUAL TABLE items_fts_short USING fts5(
  terms,
  content='', detail='none'
);
"""


@MIGRATIONS(name="0002_fts")
def m0002_fts(db: Database) -> None:
    """Trigram index on title+summary (substring search, any script, terms of 3+ characters),
    and a store-maintained index of short terms (Chinese bigrams, 2-letter words) for the
    2-character queries trigram cannot answer (小米, AI).

    ``Store.save_items`` adds new items to ``items_fts`` itself, in one ``executemany``: an
    AFTER INSERT trigger would make FTS5 flush its pending index at every row's statement
    savepoint, five times slower. Updates and deletes go through triggers, so an analyst's
    ``DELETE FROM items`` keeps the index right."""
    from thesiswatch.store.textindex import short_terms

    _run(db, SCHEMA_2)
    # Merge 16 segments at a time instead of 4: a third less work per insert at 1M items,
    # and no slower to query (measured on 300k generated items).
    db.execute("INSERT INTO items_fts(items_fts, rank) VALUES ('automerge', 16)")
    db.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
    rows = db.execute("SELECT key, title, summary FROM items").fetchall()
    db.conn.executemany(
        "INSERT INTO items_fts_short(rowid, terms) VALUES (?, ?)",
        ((key, short_terms(title, summary)) for key, title, summary in rows),
    )


# --- 3: analysis views ---------------------------------------------------------------------

VIEWS_3 = """
CREATE VIEW ticker_daily_sentiment AS
-- Daily sentiment per covered ticker: items that day, label counts and mean score.
SELECT day, ticker, items, pos, neg, neu,
       round(score_sum / items, 4) AS mean_score
FROM ticker_daily
WHERE items > 0;

CREATE VIEW thesis_evidence_daily AS
-- Thesis evidence per day: items supporting vs challenging each thesis, and the net.
SELECT day, thesis, support, challenge, support - challenge AS net
FROM thesis_daily;

CREATE VIEW alerts_by_rule_ticker AS
-- Alerts per rule and ticker (an alert about two tickers counts for each; NULL = no ticker).
SELECT a.rule, t.value AS ticker, count(*) AS alerts,
       sum(a.severity = 'critical') AS critical,
       sum(coalesce(s.false_positive, 0)) AS false_positives,
       min(a.created) AS first_created, max(a.created) AS last_created
FROM alerts AS a
LEFT JOIN json_each(a.tickers) AS t
LEFT JOIN alert_state AS s ON s.alert_id = a.id
GROUP BY a.rule, t.value;

CREATE VIEW source_health AS
-- Health of every source: status, last poll, failures, latency, volume.
SELECT s.id, s.name, s.active,
       CASE
         WHEN s.active = 0 THEN 'inactive'
         WHEN s.last_attempt IS NULL THEN 'never polled'
         WHEN s.consecutive_failures > 0 THEN 'failing'
         ELSE 'ok'
       END AS status,
       s.last_attempt, s.last_success, s.consecutive_failures, s.last_error,
       s.last_http_status, s.last_latency_ms, s.next_poll, s.items_seen,
       coalesce(s.fetch_url, s.url) AS url
FROM sources AS s;

CREATE VIEW items_per_source_daily AS
-- Distinct items each source carried per day (kept after prune).
SELECT d.day, d.source_id, s.name AS source, d.items
FROM source_daily AS d
LEFT JOIN sources AS s ON s.id = d.source_id;

CREATE VIEW items_tagged AS
-- One row per item with its tags flattened, for browsing (Datasette, sqlite-utils).
SELECT i.id, i.ts, i.title, i.lang, i.label, i.score,
       (SELECT group_concat(ticker, ' ') FROM item_tickers AS t WHERE t.item_key = i.key) AS tickers,
       (SELECT group_concat(thesis || ':' || stance, ' ') FROM item_theses AS h
         WHERE h.item_key = i.key) AS theses,
       (SELECT group_concat(s.name, ' | ') FROM item_sources AS x JOIN sources AS s ON s.id = x.source_id
         WHERE x.item_key = i.key) AS sources,
       i.url, i.cluster_id
FROM items AS i;
"""


@MIGRATIONS(name="0003_views")
def m0003_views(db: Database) -> None:
    _run(db, VIEWS_3)


# --- 4: the outlet behind an aggregator entry ----------------------------------------------


@MIGRATIONS(name="0004_item_publisher")
def m0004_item_publisher(db: Database) -> None:
    """``items.publisher``: the outlet named by an aggregator entry (Google News ``<source>``).
    (No ``--`` comment here: ALTER TABLE splices the text into the CREATE statement.)"""
    db.execute("ALTER TABLE items ADD COLUMN publisher TEXT")


# --- 5: a larger FTS5 in-memory buffer for items_fts ---------------------------------------


@MIGRATIONS(name="0005_fts_hashsize")
def m0005_fts_hashsize(db: Database) -> None:
    """Let ``items_fts`` buffer up to 32 MiB of new index entries in memory per transaction
    (FTS5's default is 1 MiB). A batch of a few thousand items makes ~1 MiB of trigram entries
    per 500 items; with the default, FTS5 flushed a new level-0 segment several times per
    batch and spent its time merging them. Measured at 1M generated items (together with a
    larger page cache): trigram indexing time 11.7 s -> 6.5 s, same index size and query speed. (A setting kept in
    ``items_fts_config``: no data changes, instant on any database size.)"""
    db.execute("INSERT INTO items_fts(items_fts, rank) VALUES ('hashsize', 33554432)")


# --- 6: items are found by id only ---------------------------------------------------------


@MIGRATIONS(name="0006_drop_items_url_index")
def m0006_drop_items_url_index(db: Database) -> None:
    """Drop ``items_url``: the store no longer looks items up by URL. ``feeds.normalize.item_id``
    already derives the id from the URL key, so the same article has one id wherever it is
    seen; the only items whose ids are not URL-derived are entries sharing one link (a live or
    home page) with different guids, and the URL lookup merged exactly those: the second flash
    of a live page overwrote the first (and, in one batch, broke the text index). The index
    was also the costliest to maintain: canonical URLs land on random pages of a large index,
    rewritten by every batch. Queries on ``url`` still work, by scanning."""
    db.execute("DROP INDEX IF EXISTS items_url")


# --- 7: events, relevance, per-ticker readings, novelty (Signals v3) -----------------------

EVENTS_7 = """
CREATE TABLE item_events (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  seq INTEGER NOT NULL,            -- 0 = the item's main event, then by weight
  type TEXT NOT NULL,              -- event type id (docs/evaluation.md, event taxonomy)
  polarity INTEGER NOT NULL,       -- reading for the subject after negation: -1, 0, 1
  materiality TEXT NOT NULL,       -- 'material', 'minor' or 'schedule' (procedure: never alerts)
  entities TEXT NOT NULL DEFAULT '{}', -- JSON {ticker: 'subject' | 'counterparty'}
  evidence TEXT NOT NULL DEFAULT '[]', -- JSON array of the words the event was read from
  magnitude REAL,                  -- a percentage named with the event (a 17 % fall), or NULL
  ts TEXT NOT NULL,                -- copy of items.ts
  PRIMARY KEY (item_key, seq)
) WITHOUT ROWID;
CREATE INDEX item_events_type_ts ON item_events(type, ts);

CREATE TABLE item_mentions (
  item_key INTEGER NOT NULL REFERENCES items(key) ON DELETE CASCADE, -- the item (items.key)
  ticker TEXT NOT NULL,            -- every covered company named, passing mentions too
  relevance INTEGER NOT NULL,      -- 0-100: subject >= 80, counterparty 50-79, passing < 50
  label TEXT CHECK (label IN ('pos', 'neg', 'neu')), -- reading for this ticker (tagged only)
  score REAL,                      -- in [-1, 1], NULL for passing mentions
  ts TEXT NOT NULL,                -- copy of items.ts
  PRIMARY KEY (item_key, ticker)
) WITHOUT ROWID;
CREATE INDEX item_mentions_ticker_ts ON item_mentions(ticker, ts);

CREATE VIEW events_daily AS
-- Events per UTC day, type and covered company (ticker NULL: an event naming none).
SELECT substr(e.ts, 1, 10) AS day, e.type AS type, j.key AS ticker, count(*) AS n
FROM item_events AS e LEFT JOIN json_each(e.entities) AS j
GROUP BY day, e.type, j.key;
"""


@MIGRATIONS(name="0007_events")
def m0007_events(db: Database) -> None:
    """Signals v3: ``item_events`` (what happened, to whom), ``item_mentions`` (relevance and
    the reading of every covered company named), ``items.novelty`` (100 for the first item
    of a story, then 75, 56, ...) and the ``events_daily`` view. Older items have no rows
    there (they were tagged before events existed) and a NULL novelty."""
    _run(db, EVENTS_7)
    db.execute("ALTER TABLE items ADD COLUMN novelty INTEGER")


OUTBOX_8 = """
CREATE TABLE outbox (
  alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE, -- the alert (alerts.id)
  destination TEXT NOT NULL,       -- the sink's channel name (jsonl, webhook:NAME, apprise:...)
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0, -- delivery attempts so far
  created TEXT NOT NULL,           -- written with the alert, in the same transaction
  last_attempt TEXT,               -- time of the latest attempt
  http_status INTEGER,             -- of the latest attempt
  error TEXT,                      -- one line, of the latest failed attempt
  done TEXT,                       -- when it was delivered or given up
  PRIMARY KEY (alert_id, destination)
) WITHOUT ROWID;
CREATE INDEX outbox_status ON outbox(status, destination);
"""


@MIGRATIONS(name="0008_outbox")
def m0008_outbox(db: Database) -> None:
    """The outbox: one row per (alert, destination), written in the transaction that raises
    the alert, marked ``delivered`` or ``dead`` by the dispatcher. Alerts stored before
    version 8 have no rows (they were delivered, or not, by the old dispatcher)."""
    _run(db, OUTBOX_8)


MIGRATION_NAMES: tuple[str, ...] = (
    "0001_initial",
    "0002_fts",
    "0003_views",
    "0004_item_publisher",
    "0005_fts_hashsize",
    "0006_drop_items_url_index",
    "0007_events",
    "0008_outbox",
)
SCHEMA_VERSION = len(MIGRATION_NAMES)
"""The schema version this code writes (``PRAGMA user_version``)."""
