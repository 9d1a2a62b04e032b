"""The edepot command: wiring of the verbs to ingest, preservation and access (see edepot/cli.py)."""
