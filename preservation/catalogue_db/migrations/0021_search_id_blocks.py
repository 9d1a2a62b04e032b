"""PostgreSQL: a block range index (BRIN) on search_messages.message_id.

A search in chat order reads the GIN index's matches among a window of message ids (search_postgres: "window"),
the two bitmaps and-ed before any row is read. The primary key's bitmap of a window holds every id in it (half a
million ids: 25 ms, more than the rest of the search); the table is kept in message order (0020), so a BRIN
index names the window's pages from one small summary per 8 pages (2 MB at 10,000,000 messages, 8 ms), and the
GIN index's exact matches are kept on those pages. Ranges filled later are summarized by autovacuum (till then
every page of theirs is in each window that reaches them). Nothing here runs on SQLite.
"""
from django.db import migrations

from preservation.catalogue_db.migrations._on_database import run_on

POSTGRES = ["CREATE INDEX search_messages_id_blocks ON search_messages USING brin (message_id) "
            "WITH (pages_per_range = 8, autosummarize = on)"]
POSTGRES_BACK = ["DROP INDEX search_messages_id_blocks"]


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0020_search_text_in_messages")]
    operations = [run_on("postgresql", POSTGRES, POSTGRES_BACK)]
