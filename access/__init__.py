"""Access (OAIS): search, access rules, redaction and DIPs for researchers and Woo officers."""
