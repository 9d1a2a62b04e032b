"""Validation of XML against the official schemas (XML Schema 1.0: MDTO-XML 1.0.1, PREMIS 3.0, ToPX 2.3).

The schemas are not shipped with edepot: they are read from a schema folder (`Config.schema_dir`,
`$EDEPOT_SCHEMA_DIR`) laid out as `mdto/MDTO-XML1.0.1.xsd`, `premis/premis-v3-0.xsd`,
`topx/ToPX-2.3_2.xsd`. None of them imports another schema, so validation works offline.

Every document is parsed with a hardened parser: no network, no DTD loading, no entity expansion,
no huge trees; a document that carries a DOCTYPE at all is refused with UnsafeXml.
"""
from __future__ import annotations

import threading
from enum import Enum
from pathlib import Path

from lxml import etree

from kernel.errors import InputError, ToolMissing, UnsafeXml

SCHEMA_DIR_HINT = "set EDEPOT_SCHEMA_DIR to a folder holding the official schemas (mdto/, premis/)"


class SchemaName(Enum):
    """An official schema, by its path inside the schema folder."""

    MDTO = "mdto/MDTO-XML1.0.1.xsd"
    PREMIS = "premis/premis-v3-0.xsd"
    TOPX = "topx/ToPX-2.3_2.xsd"


_compiled_schemas: dict[Path, etree.XMLSchema] = {}
_compile_lock = threading.Lock()
_validate_lock = threading.Lock()


def hardened_parser() -> etree.XMLParser:
    """A parser that never fetches, never loads a DTD, never expands entities, and caps tree size."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml_safely(xml: bytes) -> etree._ElementTree:
    """Parse untrusted XML bytes; UnsafeXml for any DOCTYPE or entity, InputError if not well-formed."""
    try:
        return _parse_refusing_dtd(xml)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not well-formed XML: line {exc.lineno}: {exc.msg}") from None


def _parse_refusing_dtd(xml: bytes) -> etree._ElementTree:
    # A cheap early refusal; the docinfo check below also catches encodings this byte test misses.
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise UnsafeXml("XML with a DOCTYPE or entity declaration is refused", hint="remove the DTD")
    tree = etree.ElementTree(etree.fromstring(xml, parser=hardened_parser()))
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml("XML with a DOCTYPE or entity declaration is refused", hint="remove the DTD")
    return tree


def schema_path(schema: SchemaName, schema_dir: Path | None) -> Path:
    """Where `schema` lives under `schema_dir`; ToolMissing with a hint if it is not there."""
    if schema_dir is None:
        raise ToolMissing(f"no schema folder configured for {schema.value}", hint=SCHEMA_DIR_HINT)
    path = Path(schema_dir) / schema.value
    if not path.is_file():
        raise ToolMissing(f"schema not found: {path}", hint=SCHEMA_DIR_HINT)
    return path


def _compiled(path: Path) -> etree.XMLSchema:
    key = path.resolve()
    with _compile_lock:
        if key not in _compiled_schemas:
            schema_doc = etree.parse(str(key), parser=hardened_parser())
            _compiled_schemas[key] = etree.XMLSchema(schema_doc)
        return _compiled_schemas[key]


def validate_xml(xml: bytes | Path, schema: SchemaName, schema_dir: Path | None) -> list[str]:
    """Validate a document against an official schema.

    Returns [] when the document is valid, else one "line N: message" per problem (a document
    that is not well-formed is one such problem). Raises UnsafeXml for a DOCTYPE or entity,
    ToolMissing when the schema cannot be found, InputError when a given path cannot be read.
    """
    compiled = _compiled(schema_path(schema, schema_dir))
    try:
        tree = _parse_refusing_dtd(_read_bytes(xml))
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed: {exc.msg}"]
    with _validate_lock:  # an XMLSchema keeps its error log on itself: one validation at a time
        if compiled.validate(tree):
            return []
        return [f"line {error.line}: {error.message}" for error in compiled.error_log]


def _read_bytes(xml: bytes | Path) -> bytes:
    if isinstance(xml, (bytes, bytearray)):
        return bytes(xml)
    try:
        return Path(xml).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {xml}: {exc.strerror}") from None
