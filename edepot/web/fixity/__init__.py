"""The fixity screen of the archivist's desk: per storage location the last run, coverage, damage, repairs and
known losses; run fixity now, restore from an uploaded outside copy, declare a loss."""
