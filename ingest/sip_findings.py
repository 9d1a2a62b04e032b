"""What an export lacks, said everywhere a records manager or an archivist looks: media it names but does not
hold, media it says it left out, files cut short, and file names shortened to fit a file system.

The facts are read from the canonical conversation alone (attachments' `present` and `omitted`,
`source.damaged`, `source.renamed`), so `sip create` and ingest say the same: `sip create` as warnings
(stderr, `--json`), in the selection statement and in the MDTO record (a toelichting per finding, and an
event "Beschadigde export" when the export is damaged); ingest as warnings in its report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ingest.bag_names import NAME_LIMIT
from kernel.errors import MediaMissing
from kernel.model import Conversation, Damage
from preservation.metadata.record import EDEPOT_BEGRIPPENLIJST, Begrip, Event

DAMAGE_EVENT = Begrip("Beschadigde export", begrippenlijst=EDEPOT_BEGRIPPENLIJST)
_EXAMPLES = 3


@dataclass(frozen=True)
class MediaCount:
    """The conversation's attachments that name a file: how many, which are not in the export although it
    names them (`missing`), and how many the export says it left out on purpose (`omitted`)."""

    referenced: int
    missing: tuple[str, ...]
    omitted: int

    @classmethod
    def of(cls, conversation: Conversation) -> "MediaCount":
        referenced, omitted, missing = 0, 0, []
        for message in conversation.messages:
            for attachment in message.attachments:
                referenced += 1
                if attachment.omitted:
                    omitted += 1
                elif not attachment.present:
                    missing.append(attachment.name or f"(message {message.seq})")
        return cls(referenced, tuple(missing), omitted)

    @property
    def absent(self) -> int:
        return len(self.missing) + self.omitted

    def sentence(self) -> str:
        """One English line: both counts, and the first names missing."""
        examples = ", ".join(self.missing[:_EXAMPLES]) + (", …" if len(self.missing) > _EXAMPLES else "")
        text = (f"{len(self.missing)} of {self.referenced} attachments the conversation names are not in the "
                f"export" + (f" ({examples})" if self.missing else ""))
        return text + f"; {self.omitted} left out by the export itself (exported without media)"


@dataclass(frozen=True)
class Findings:
    """What is wrong with, or was changed in taking, the export of one conversation (see the module)."""

    media: MediaCount
    damage: Damage | None
    renamed: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, conversation: Conversation) -> "Findings":
        return cls(MediaCount.of(conversation), conversation.source.damaged, conversation.source.renamed)

    def warnings(self) -> list[str]:
        """One English line per finding (for stderr, `--json` and the ingest report)."""
        found = []
        if self.media.absent:
            found.append(self.media.sentence())
        if self.damage is not None:
            found += [_damaged_file(f.to_dict()) for f in self.damage.files]
            if self.damage.reason:
                found.append(f"the producer declared the export damaged: {self.damage.reason}")
        if self.renamed:
            found.append(f"{len(self.renamed)} file name(s) longer than {NAME_LIMIT} bytes shortened, the bytes "
                         f"unchanged (original names in the metadata), e.g. {self.renamed[0][0]}")
        return found

    def require_media(self) -> None:
        """MediaMissing (exit 2) when any attachment the conversation names is absent, left out or lost."""
        if self.media.absent:
            raise MediaMissing(f"the SIP would lack media: {self.media.sentence()}",
                               hint="export the chat with media, or make the SIP without requiring every medium",
                               remedy="allow-missing-media")

    def to_dict(self) -> dict[str, Any]:
        """The findings for the selection statement (JSON-ready)."""
        found: dict[str, Any] = {"attachments": {"referenced": self.media.referenced,
                                                 "missing": list(self.media.missing),
                                                 "omitted_by_export": self.media.omitted}}
        if self.damage is not None:
            found["damaged"] = self.damage.to_dict()
        if self.renamed:
            found["renamed"] = [{"name": name, "original": original} for name, original in self.renamed]
        return found

    def toelichtingen(self) -> tuple[str, ...]:
        """Dutch sentences for the MDTO record, one per finding."""
        found = []
        if self.media.absent:
            found.append(f"Van de {self.media.referenced} bijlagen die het gesprek noemt, ontbreken er "
                         f"{len(self.media.missing)} in de export en zijn er {self.media.omitted} door de export "
                         "zelf weggelaten (geëxporteerd zonder media).")
        if self.damage is not None:
            found.append(self._damage_nl())
        if self.renamed:
            found.append(f"Bestandsnamen langer dan {NAME_LIMIT} bytes zijn ingekort (de inhoud is ongewijzigd): "
                         + "; ".join(f"{name} heette {original}" for name, original in self.renamed))
        return tuple(found)

    def events(self, today: date, actor: str) -> tuple[Event, ...]:
        """The MDTO event "Beschadigde export" when the export is damaged."""
        if self.damage is None:
            return ()
        return (Event(DAMAGE_EVENT, today, actor, self._damage_nl()),)

    def _damage_nl(self) -> str:
        assert self.damage is not None
        parts = []
        for f in self.damage.files:
            where = f" (het bestand eindigt bij byte {f.end_byte}" + (f", regel {f.end_line})" if f.end_line else ")")
            lost = f"; niet leesbaar: {', '.join(f.unreadable)}" if f.unreadable else ""
            parts.append(f"{f.name} is afgebroken{where if f.end_byte is not None else ''}: {f.complete} complete "
                         f"onderdelen zijn gelezen en behouden{lost}.")
        if self.damage.reason:
            parts.append(f"De aanbieder verklaarde de export beschadigd: {self.damage.reason}.")
        return "De export is beschadigd. " + " ".join(parts)


def _damaged_file(found: dict[str, Any]) -> str:
    end = found.get("end")
    where = f" (it ends at byte {end['byte']}" + (f", line {end['line']})" if end.get("line") else ")") if end else ""
    lost = f"; could not be read: {', '.join(found['unreadable'])}" if found.get("unreadable") else ""
    return f"{found['name']} is cut short{where}: {found['complete']} whole elements or members read and kept{lost}"
