"""Archival storage, data management and preservation planning (OAIS): identification, normalisation, AIPs,
storage locations, the catalogue, PREMIS, fixity and retention."""
