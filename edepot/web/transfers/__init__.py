"""The archivist's desk: transfers (SIPs uploaded in chunks) and the ingest monitor (the jobs a person follows)."""
