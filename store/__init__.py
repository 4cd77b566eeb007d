"""The only package that touches SQLite: schema and migrations, writes, queries, views, FTS."""
