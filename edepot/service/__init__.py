"""The Depot service: one object, built from config, ports, a clock and the acting person, that owns every rule.

The command line and the web are adapters over it: they turn input into calls and errors (by reference) into
words and exit codes; they hold no rule. `Depot` (depot.py) is assembled from one module per area:
ingest and preservation, access and delivery, retention and holds.
"""
from edepot.service.depot import Depot
from edepot.service.person import Person, acting_person

__all__ = ["Depot", "Person", "acting_person"]
