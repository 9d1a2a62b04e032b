"""The accounts application's migrations (made by `makemigrations accounts` with the web's settings)."""
