"""The catalogue's migrations, in order; `database.migration_names` lists them for the version check."""
