"""The JSON API under /api/v1/: the screens' operations for scripts and other systems, on the Depot service."""
