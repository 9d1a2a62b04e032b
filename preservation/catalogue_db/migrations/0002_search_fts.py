"""The full-text part of the search index on SQLite: FTS5 over each message's text and its Dutch stems.

The stems column is computed by the SQL function `edepot_stems` (registered on every connection), never stored.
Other databases get their own full-text migration.
"""
from django.db import migrations

from preservation.catalogue_db.migrations._on_database import run_on

SQLITE_FTS = [
    "CREATE VIEW IF NOT EXISTS search_content AS "
    "SELECT message_id, body, edepot_stems(body) AS stems FROM search_messages",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "body, stems, content='search_content', content_rowid='message_id', "
    "tokenize='unicode61 remove_diacritics 2')",
]
SQLITE_FTS_DROP = ["DROP TABLE IF EXISTS search_fts", "DROP VIEW IF EXISTS search_content"]


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]
    operations = [run_on("sqlite", SQLITE_FTS, SQLITE_FTS_DROP)]
