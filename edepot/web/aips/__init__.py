"""The AIP screens of the archivist's desk: the list with its filters, one AIP's page, its own DIP."""
