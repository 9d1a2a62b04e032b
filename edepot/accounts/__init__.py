"""The people who sign in to the web application (a custom user model from the start, so that people,
organisations and roles can be added to it without replacing Django's own)."""
