"""The format policy (OAIS Preservation Planning): which action preserves, and which serves access to, a format.

Reads `schemas/format-policy.yaml` (or another file with the same shape): per PRONOM PUID a preservation
action and an access action, each the name of a normaliser module in preservation/normalise/. Loading checks
that every action named exists and that no PUID is listed twice, so a typo in the policy is found when it is
read, not in the middle of an ingest.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kernel.errors import MetadataError
from preservation.normalise import ACTIONS
from schemas import schema_path

POLICY_FILE = schema_path("format-policy.yaml")
RECORD_ACTIONS = ("conversation-pdfa",)  # act on the whole record, not on one file (see conversation_pdf.py)


@dataclass(frozen=True)
class PolicyRule:
    """What the policy says for one format."""

    puid: str | None
    name: str  # the rule's name in the policy file, e.g. "Stickers and iPhone photos (WebP, HEIC)"
    preservation: str  # a normaliser action name
    access: str

    @property
    def actions(self) -> tuple[str, ...]:
        """The actions to run at ingest: the preservation action, and the access action when it adds something."""
        if self.access in ("keep", self.preservation):
            return (self.preservation,)
        return (self.preservation, self.access)


@dataclass(frozen=True)
class FormatPolicy:
    """The whole policy: rules by PUID, the default for other formats, and the record's own actions."""

    source: Path
    rules: dict[str, PolicyRule]
    default: PolicyRule
    record_preservation: str

    def rule_for(self, puid: str | None) -> PolicyRule:
        """The rule for a PUID; the default (with the PUID filled in) when it is not listed or unknown."""
        if puid and puid in self.rules:
            return self.rules[puid]
        return PolicyRule(puid, self.default.name, self.default.preservation, self.default.access)


def load_policy(path: Path = POLICY_FILE) -> FormatPolicy:
    """Read and check a policy file; MetadataError naming the problem when it is not a usable policy."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MetadataError(f"format policy {path}: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise MetadataError(f"format policy {path}: a mapping with a list of rules is needed")
    default = _rule(document.get("default") or {}, None, "default", path)
    rules: dict[str, PolicyRule] = {}
    for entry in document["rules"]:
        name = str(entry.get("name", "unnamed rule"))
        for puid in entry.get("puids") or []:
            if puid in rules:
                raise MetadataError(f"format policy {path}: {puid} is listed in '{rules[puid].name}' and '{name}'")
            rules[puid] = _rule(entry, str(puid), name, path)
    record = (document.get("record") or {}).get("preservation", RECORD_ACTIONS[0])
    if record not in RECORD_ACTIONS:
        raise MetadataError(f"format policy {path}: record action {record!r} is not one of {RECORD_ACTIONS}")
    return FormatPolicy(path, rules, default, record)


def _rule(entry: dict[str, Any], puid: str | None, name: str, path: Path) -> PolicyRule:
    actions = {}
    for purpose in ("preservation", "access"):
        action = entry.get(purpose, "keep")
        if action not in ACTIONS:
            raise MetadataError(f"format policy {path}: rule '{name}' names {purpose} action {action!r}, "
                                f"which is not one of {', '.join(sorted(ACTIONS))}")
        actions[purpose] = action
    return PolicyRule(puid, name, actions["preservation"], actions["access"])
