"""Template tags of the web screens."""
