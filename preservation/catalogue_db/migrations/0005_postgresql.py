"""What PostgreSQL needs beyond the models: the audit log's append-only triggers (SQLite has its own from 0003)
and the full-text part of the search index (SQLite's FTS5 comes from 0002).

search_fts holds one tsvector per message, made by edepot from the same words and Snowball Dutch stems the
SQLite index uses: the folded words with their positions at weight A (phrases and prefixes match those), the
stems at weight B. A GIN index serves the matches. Nothing here runs on SQLite.
"""
from django.db import migrations

from preservation.catalogue_db.migrations._on_database import run_on

POSTGRES = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' OR NEW.entry_id IS DISTINCT FROM OLD.entry_id OR NEW.at IS DISTINCT FROM OLD.at "
    "OR NEW.person IS DISTINCT FROM OLD.person OR NEW.action IS DISTINCT FROM OLD.action "
    "OR NEW.target IS DISTINCT FROM OLD.target OR NEW.organisation IS DISTINCT FROM OLD.organisation "
    "OR NEW.outcome IS DISTINCT FROM OLD.outcome OR NEW.detail IS DISTINCT FROM OLD.detail "
    "OR (NEW.address IS NOT NULL AND NEW.address IS DISTINCT FROM OLD.address) THEN "
    "RAISE EXCEPTION 'the audit log is append only' USING ERRCODE = 'restrict_violation'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TABLE search_fts (message_id bigint PRIMARY KEY, doc tsvector NOT NULL)",
    "CREATE INDEX search_fts_doc ON search_fts USING gin (doc)",
]
POSTGRES_DROP = [
    "DROP TABLE IF EXISTS search_fts",
    "DROP TRIGGER IF EXISTS audit_log_append_only_update ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_append_only_delete ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
]


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0004_storage_identity")]
    operations = [run_on("postgresql", POSTGRES, POSTGRES_DROP)]
