"""Metadata the archive writes and reads: MDTO, ToPX and PREMIS documents, and the record description."""
