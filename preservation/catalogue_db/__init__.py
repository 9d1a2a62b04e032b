"""The catalogue on Django: models, migrations and the database set-up, for every catalogue port.

Only this package, the service wiring and the adapters import Django; pipeline stages and export-format
modules never do. `database.catalogue_alias` turns a catalogue URL into a ready Django database alias.
"""
