"""Reading a record's MDTO 1.0.1 informatieobject back: one parser and one way to look values up by MDTO path.

Serves every reader of the record's description: ingest (the title, identifier and appraisal rows of the
rendering, ingest/stages.py), access and search (preservation/record_access.py) and retention
(preservation/retention.py). Each asks for the MDTO elements it needs by their path below the
informatieobject (`bewaartermijn/termijnLooptijd`), as the MDTO 1.0.1 XSD names them.

The document is parsed with lxml with entities, DTDs and the network off (a document from outside may be
hostile). Not well-formed XML, or a document without an informatieobject, is a MetadataError.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from kernel.errors import MetadataError

MDTO = "{https://www.nationaalarchief.nl/mdto}"
BESTAND_SUFFIX = ".bestand.mdto.xml"


class Informatieobject:
    """An informatieobject element (or an element inside one), read by MDTO paths relative to it."""

    def __init__(self, node: Any) -> None:
        self.node = node

    @classmethod
    def parse(cls, document: bytes) -> "Informatieobject":
        """The informatieobject of an MDTO document; MetadataError for bad XML or a document without one."""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.fromstring(document, parser)
        except etree.XMLSyntaxError as error:
            raise MetadataError(f"MDTO document is not well-formed XML: {error}") from None
        node = root.find(f"{MDTO}informatieobject")
        if node is None:
            raise MetadataError("the MDTO document holds no informatieobject")
        return cls(node)

    def text(self, path: str) -> str | None:
        """The text at `path` with the whitespace around it removed; None when absent or empty."""
        value = self.node.findtext(_qualified(path))
        return value.strip() if value and value.strip() else None

    def words(self, path: str) -> str:
        """The text at `path` with every run of whitespace made one space (as shown to people); "" when absent."""
        return " ".join((self.node.findtext(_qualified(path)) or "").split())

    def all(self, path: str) -> list["Informatieobject"]:
        """Every element at `path` (e.g. each `beperkingGebruik`), to be read in turn by paths relative to it."""
        return [Informatieobject(found) for found in self.node.findall(_qualified(path))]


def informatieobject_files(folder: Path) -> list[Path]:
    """The MDTO documents directly in `folder` that may hold the informatieobject (not the per-file
    `*.bestand.mdto.xml`), sorted by name; none when the folder is absent."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.mdto.xml") if not p.name.endswith(BESTAND_SUFFIX))


def _qualified(path: str) -> str:
    return "/".join(f"{MDTO}{part}" for part in path.split("/"))
