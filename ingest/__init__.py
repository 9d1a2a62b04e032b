"""Ingest (OAIS): export parsers, SIP building and validation, and the ingest pipeline (ingest/pipeline.py)."""
