"""PREMIS 3.0 (Library of Congress, Data Dictionary for Preservation Metadata) for an AIP.

One document per AIP holds its file objects, the preservation events that touched them and the
agents that carried those out. Controlled values carry the id.loc.gov preservation vocabularies
(authority and valueURI attributes) where edepot knows the term. Identifier types: objects
"edepot-path" (the file's path inside the AIP), events "UUID", agents "local".

An object's role in the AIP (original, preservation copy, metadata) is written as a
significantProperties pair of type "edepot role", since PREMIS has no semantic unit for it.

Text XML 1.0 cannot hold (control characters a tool's message may quote from a file, bytes that are not
UTF-8) is written escaped as in kernel/names.py (`\x07`), so no value can make the document unwritable.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from lxml import etree

from kernel.errors import MetadataError
from preservation.metadata.xml_text import xml_text
from preservation.xsd import hardened_parser, parse_xml_safely

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS_SCHEMA_LOCATION = f"{PREMIS_NS} https://www.loc.gov/standards/premis/v3/premis-v3-0.xsd"
VOCABULARY = "http://id.loc.gov/vocabulary/preservation"

OBJECT_IDENTIFIER_TYPE = "edepot-path"
EVENT_IDENTIFIER_TYPE = "UUID"
AGENT_IDENTIFIER_TYPE = "local"
ROLE_PROPERTY = "edepot role"
ROLES = ("original", "preservation", "metadata")

# Digest names as edepot keys them → the term and code of the cryptographicHashFunctions vocabulary.
DIGEST_ALGORITHMS = {"sha256": ("SHA-256", "sha256"), "sha512": ("SHA-512", "sha512")}

# eventType vocabulary: term → code (http://id.loc.gov/vocabulary/preservation/eventType).
EVENT_TYPE_CODES = {
    "accession": "acc",
    "creation": "cre",
    "deletion": "del",
    "fixity check": "fix",
    "format identification": "for",
    "information package creation": "ipc",
    "ingestion": "ing",
    "message digest calculation": "mes",
    "metadata extraction": "met",
    "migration": "mig",
    "normalization": "nor",
    "replication": "rep",
    "unpacking": "unp",
    "validation": "val",
    "virus check": "vir",
}
OUTCOME_CODES = {"success": "suc", "failure": "fai", "warning": "war"}
AGENT_TYPE_CODES = {"software": "sof", "organization": "org", "person": "per", "hardware": "har"}
OBJECT_ROLE_CODES = {"source": "sou", "outcome": "out"}


@dataclass(frozen=True)
class PremisObject:
    """A file in an AIP: its path there, size, digests, identified format and role."""

    identifier: str
    size: int
    digests: Mapping[str, str]
    puid: str | None
    format_name: str | None
    format_version: str | None
    original_name: str | None
    role: str


@dataclass(frozen=True)
class PremisEvent:
    """Something done to objects by agents, when, and with what outcome."""

    identifier: str
    type: str
    date_time: datetime
    detail: str
    outcome: str
    outcome_detail: str
    agents: tuple[str, ...]
    source_objects: tuple[str, ...]
    outcome_objects: tuple[str, ...]


@dataclass(frozen=True)
class PremisAgent:
    """Software, an organisation or a person that carried out events."""

    identifier: str
    name: str
    type: str
    version: str | None


def person_agent(name: str) -> PremisAgent:
    """The agent of a person acting on the depot, by name: identifier "person:NAME", type person."""
    return PremisAgent(identifier=f"person:{name}", name=name, type="person", version=None)


# ---------------------------------------------------------------------------------------------------
# Writing


def premis_xml(
    objects: Sequence[PremisObject], events: Sequence[PremisEvent], agents: Sequence[PremisAgent]
) -> bytes:
    """A PREMIS 3.0 document with the objects, events and agents in the order given.

    Valid against premis-v3-0.xsd. ValueError when there is no object, an identifier repeats, or an
    event names an agent that is not among `agents` (a dangling link is a bug, not a document).
    """
    if not objects:
        raise ValueError("a PREMIS document needs at least one object")
    _check_unique("object", [o.identifier for o in objects])
    _check_unique("event", [e.identifier for e in events])
    _check_unique("agent", [a.identifier for a in agents])
    _check_agents_known(events, {a.identifier for a in agents})
    # Written as text, indented as lxml's indent() would: for an AIP of 10,000 files and 25,000 events this
    # takes a fraction of building the same tree element by element.
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<premis xmlns="{PREMIS_NS}" xmlns:xsi="{XSI_NS}" '
             f'xsi:schemaLocation="{PREMIS_SCHEMA_LOCATION}" version="3.0">\n']
    parts += map(_object_xml, objects)
    parts += map(_event_xml, events)
    parts += map(_agent_xml, agents)
    parts.append("</premis>\n")
    return "".join(parts).encode("utf-8")


def _object_xml(obj: PremisObject) -> str:
    """The <object xsi:type="file"> element of one file, as indented text."""
    if obj.role not in ROLES:
        raise ValueError(f"object role {obj.role!r} is not one of {', '.join(ROLES)}")
    lines = ['  <object xsi:type="file">\n    <objectIdentifier>\n',
             _leaf(3, "objectIdentifierType", OBJECT_IDENTIFIER_TYPE),
             _leaf(3, "objectIdentifierValue", obj.identifier),
             "    </objectIdentifier>\n    <significantProperties>\n",
             _leaf(3, "significantPropertiesType", ROLE_PROPERTY),
             _leaf(3, "significantPropertiesValue", obj.role),
             "    </significantProperties>\n    <objectCharacteristics>\n"]
    for algorithm in sorted(obj.digests):
        lines.append(_fixity_xml(algorithm, obj.digests[algorithm]))
    lines += [_leaf(3, "size", str(obj.size)), _format_xml(obj), "    </objectCharacteristics>\n"]
    if obj.original_name:
        lines.append(_leaf(2, "originalName", obj.original_name))
    lines.append("  </object>\n")
    return "".join(lines)


def _event_xml(event: PremisEvent) -> str:
    """The <event> element of one event, linking its agents and its source and outcome objects, as indented text."""
    lines = ["  <event>\n    <eventIdentifier>\n",
             _leaf(3, "eventIdentifierType", EVENT_IDENTIFIER_TYPE),
             _leaf(3, "eventIdentifierValue", event.identifier),
             "    </eventIdentifier>\n",
             _controlled(2, "eventType", event.type, "eventType", EVENT_TYPE_CODES.get(event.type)),
             _leaf(2, "eventDateTime", _datetime(event.date_time))]
    if event.detail:
        lines += ["    <eventDetailInformation>\n", _leaf(3, "eventDetail", event.detail),
                  "    </eventDetailInformation>\n"]
    lines += ["    <eventOutcomeInformation>\n",
              _controlled(3, "eventOutcome", event.outcome, "eventOutcome", OUTCOME_CODES.get(event.outcome))]
    if event.outcome_detail:
        lines += ["      <eventOutcomeDetail>\n", _leaf(4, "eventOutcomeDetailNote", event.outcome_detail),
                  "      </eventOutcomeDetail>\n"]
    lines.append("    </eventOutcomeInformation>\n")
    for agent in event.agents:
        lines += ["    <linkingAgentIdentifier>\n", _leaf(3, "linkingAgentIdentifierType", AGENT_IDENTIFIER_TYPE),
                  _leaf(3, "linkingAgentIdentifierValue", agent), "    </linkingAgentIdentifier>\n"]
    for role, identifiers in (("source", event.source_objects), ("outcome", event.outcome_objects)):
        role_xml = _controlled(3, "linkingObjectRole", role, "eventRelatedObjectRole", OBJECT_ROLE_CODES[role])
        for identifier_value in identifiers:
            lines += ["    <linkingObjectIdentifier>\n",
                      _leaf(3, "linkingObjectIdentifierType", OBJECT_IDENTIFIER_TYPE),
                      _leaf(3, "linkingObjectIdentifierValue", identifier_value), role_xml,
                      "    </linkingObjectIdentifier>\n"]
    lines.append("  </event>\n")
    return "".join(lines)


def _agent_xml(agent: PremisAgent) -> str:
    """The <agent> element of one agent, as indented text."""
    lines = ["  <agent>\n    <agentIdentifier>\n",
             _leaf(3, "agentIdentifierType", AGENT_IDENTIFIER_TYPE),
             _leaf(3, "agentIdentifierValue", agent.identifier),
             "    </agentIdentifier>\n",
             _leaf(2, "agentName", agent.name),
             _controlled(2, "agentType", agent.type, "agentType", AGENT_TYPE_CODES.get(agent.type))]
    if agent.version:
        lines.append(_leaf(2, "agentVersion", agent.version))
    lines.append("  </agent>\n")
    return "".join(lines)


def _fixity_xml(algorithm: str, digest: str) -> str:
    key = algorithm.lower().replace("-", "")
    if key not in DIGEST_ALGORITHMS:
        raise ValueError(f"digest algorithm {algorithm!r} is not one of {', '.join(DIGEST_ALGORITHMS)}")
    term, code = DIGEST_ALGORITHMS[key]
    return ("      <fixity>\n"
            + _controlled(4, "messageDigestAlgorithm", term, "cryptographicHashFunctions", code)
            + _leaf(4, "messageDigest", digest.lower()) + "      </fixity>\n")


def _format_xml(obj: PremisObject) -> str:
    lines = ["      <format>\n"]
    if obj.format_name or not obj.puid:
        lines += ["        <formatDesignation>\n", _leaf(5, "formatName", obj.format_name or "Onbekend")]
        if obj.format_version:
            lines.append(_leaf(5, "formatVersion", obj.format_version))
        lines.append("        </formatDesignation>\n")
    if obj.puid:
        lines += ["        <formatRegistry>\n", _leaf(5, "formatRegistryName", "PRONOM"),
                  _leaf(5, "formatRegistryKey", obj.puid), _leaf(5, "formatRegistryRole", "identification"),
                  "        </formatRegistry>\n"]
    lines.append("      </format>\n")
    return "".join(lines)


def _controlled(depth: int, name: str, term: str, vocabulary: str, code: str | None) -> str:
    if code is None:
        return _leaf(depth, name, term)
    return _leaf(depth, name, term, f' authority="{vocabulary}" authorityURI="{VOCABULARY}/{vocabulary}" '
                                    f'valueURI="{VOCABULARY}/{vocabulary}/{code}"')


def _check_unique(kind: str, identifiers: Sequence[str]) -> None:
    seen: set[str] = set()
    for identifier in identifiers:
        if identifier in seen:
            raise ValueError(f"{kind} identifier {identifier!r} appears twice")
        seen.add(identifier)


def _check_agents_known(events: Sequence[PremisEvent], known: set[str]) -> None:
    for event in events:
        for agent in event.agents:
            if agent not in known:
                raise ValueError(f"event {event.identifier} names agent {agent!r}, which is not described")


# ---------------------------------------------------------------------------------------------------
# Reading and appending


def parse_premis_events(xml: bytes) -> list[PremisEvent]:
    """The events of a PREMIS 3 document, in document order.

    Reads what `premis_xml` writes; of a document written elsewhere, an object linked without a
    role counts as a source object and only the first detail and outcome note are read.
    MetadataError for a document that is not PREMIS 3 or an eventDateTime that is not ISO 8601;
    UnsafeXml for a DOCTYPE.
    """
    root = _premis_root(xml)
    return [_event_from(element) for element in root.iterfind(_q("event"))]


def append_events(xml: bytes, events: Sequence[PremisEvent], agents: Sequence[PremisAgent]) -> bytes:
    """The document with `events` added after its last event, and the `agents` it lacks after its last agent.

    What was there is kept as it was; a document written by `premis_xml` stays byte-identical up to
    the insertions. ValueError when an event identifier is already present or an event names an agent
    described neither in the document nor in `agents`.
    """
    root = _premis_root(xml)
    present_events = {_value(e, "eventIdentifier/eventIdentifierValue") for e in root.iterfind(_q("event"))}
    present_agents = {_value(a, "agentIdentifier/agentIdentifierValue") for a in root.iterfind(_q("agent"))}
    for event in events:
        if event.identifier in present_events:
            raise ValueError(f"event identifier {event.identifier!r} is already in the document")
    _check_unique("event", [e.identifier for e in events])
    new_agents = [a for a in _unique_agents(agents) if a.identifier not in present_agents]
    _check_agents_known(events, present_agents | {a.identifier for a in new_agents})
    _insert_after_last(root, ("object", "event"), _elements([_event_xml(e) for e in events]))
    _insert_after_last(root, ("object", "event", "agent"), _elements([_agent_xml(a) for a in new_agents]))
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def _unique_agents(agents: Sequence[PremisAgent]) -> list[PremisAgent]:
    by_identifier: dict[str, PremisAgent] = {}
    for agent in agents:
        by_identifier.setdefault(agent.identifier, agent)
    return list(by_identifier.values())


def _insert_after_last(
    root: etree._Element, after_kinds: tuple[str, ...], elements: list[etree._Element]
) -> None:
    """Insert `elements` after the last child of one of `after_kinds`, indented like their siblings."""
    if not elements:
        return
    names = {_q(kind) for kind in after_kinds}
    anchor = [child for child in root if child.tag in names][-1]  # PREMIS requires an object: never empty
    gap = root.text if root.text and not root.text.strip() else "\n  "
    unit = gap.rpartition("\n")[2] or "  "
    for element in elements:
        etree.indent(element, space=unit, level=1)
        element.tail = anchor.tail
        anchor.tail = gap
        anchor.addnext(element)
        anchor = element


def _premis_root(xml: bytes) -> etree._Element:
    root = parse_xml_safely(xml).getroot()
    if root.tag != _q("premis"):
        raise MetadataError(f"not a PREMIS 3 document: root element is {root.tag}")
    return root


def _event_from(element: etree._Element) -> PremisEvent:
    identifier = _value(element, "eventIdentifier/eventIdentifierValue")
    raw_time = _value(element, "eventDateTime")
    try:
        date_time = datetime.fromisoformat(raw_time)
    except ValueError:
        raise MetadataError(f"event {identifier}: eventDateTime {raw_time!r} is not ISO 8601") from None
    sources: list[str] = []
    outcomes: list[str] = []
    for link in element.iterfind(_q("linkingObjectIdentifier")):
        roles = [r.text for r in link.iterfind(_q("linkingObjectRole"))]
        target = outcomes if "outcome" in roles else sources
        target.append(_value(link, "linkingObjectIdentifierValue"))
    return PremisEvent(
        identifier=identifier,
        type=_value(element, "eventType"),
        date_time=date_time,
        detail=_value(element, "eventDetailInformation/eventDetail"),
        outcome=_value(element, "eventOutcomeInformation/eventOutcome"),
        outcome_detail=_value(element, "eventOutcomeInformation/eventOutcomeDetail/eventOutcomeDetailNote"),
        agents=tuple(
            _value(link, "linkingAgentIdentifierValue")
            for link in element.iterfind(_q("linkingAgentIdentifier"))
        ),
        source_objects=tuple(sources),
        outcome_objects=tuple(outcomes),
    )


def _value(element: etree._Element, path: str) -> str:
    """Text of the first element at `path` (PREMIS names, slash-separated), "" when absent."""
    found = element.find("/".join(_q(step) for step in path.split("/")))
    return (found.text or "").strip() if found is not None else ""


# ---------------------------------------------------------------------------------------------------
# Shared


def _q(name: str) -> str:
    return f"{{{PREMIS_NS}}}{name}"


def _leaf(depth: int, name: str, value: str, attributes: str = "") -> str:
    """One element holding text, on its own line at `depth`, escaped as lxml writes it."""
    value = xml_text(value)
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return f"{'  ' * depth}<{name}{attributes}>{value}</{name}>\n"


def _elements(fragments: Sequence[str]) -> list[etree._Element]:
    """Elements written as text (by `_event_xml`, `_agent_xml`) as lxml elements, for inserting into a document."""
    wrapper = f'<premis xmlns="{PREMIS_NS}" xmlns:xsi="{XSI_NS}">{"".join(fragments)}</premis>'
    return list(etree.fromstring(wrapper.encode("utf-8"), parser=hardened_parser()))


def _datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"eventDateTime {moment.isoformat()} has no UTC offset")
    return moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")
