"""PostgreSQL: each message's tsvector moves into its own row of search_messages (column `doc`, GIN index
search_messages_doc), and the table search_fts goes. On both databases the index on a message's record and seq
becomes one on its record and time (a search of a few records sorted by time reads each one's newest first).

A search filters and sorts its matches by time, sender, kind and record: with the tsvector in another table, every
match cost a second row read before any of that could be tested, and most matches were read only to be passed by.
The table is rewritten in message order (CLUSTER), so reading messages in chat order reads its pages one after
another. Nothing here runs on SQLite (its FTS5 index stays as 0002 made it).
"""
from django.db import migrations, models

from preservation.catalogue_db.migrations._on_database import run_on

POSTGRES = [
    "ALTER TABLE search_messages ADD COLUMN doc tsvector NOT NULL DEFAULT ''",
    "UPDATE search_messages m SET doc = f.doc FROM search_fts f WHERE f.message_id = m.message_id",
    "DROP TABLE search_fts",
    "CLUSTER search_messages USING search_messages_pkey",
    "CREATE INDEX search_messages_doc ON search_messages USING gin (doc)",
    "ANALYZE search_messages",
]
POSTGRES_BACK = [
    "CREATE TABLE search_fts (message_id bigint PRIMARY KEY, doc tsvector NOT NULL)",
    "INSERT INTO search_fts (message_id, doc) SELECT message_id, doc FROM search_messages",
    "CREATE INDEX search_fts_doc ON search_fts USING gin (doc)",
    "ALTER TABLE search_messages DROP COLUMN doc",
]


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0019_retention_due_dates")]
    operations = [
        run_on("postgresql", POSTGRES, POSTGRES_BACK),
        migrations.RemoveIndex(model_name="searchmessage", name="search_messages_record"),
        migrations.AddIndex(model_name="searchmessage", index=models.Index(
            fields=["record_key", "ts", "message_id"], name="search_messages_record_time")),
    ]
