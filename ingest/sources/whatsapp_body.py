"""What a WhatsApp message is, from the text after its header (issue 4, "System lines told apart from
messages on both platforms ... attachments ..., 'media omitted' markers, deleted and edited markers,
locations, contact cards, view-once, captions on the following line").

`BodyReader.read(rest)` splits "Name: body" and classifies the body. Plain typed text, the bulk of any
chat, is recognised with a few string tests; only bodies that look app-written reach the regexes.
Invisible direction marks are ignored for matching; typed text is kept exactly as written, and
app-written text (markers, system lines, deleted notices) is stored without them.

Decisions a records manager should know:
- Omitted media (`<Media weggelaten>`, `image omitted`, ...) become kind media with one attachment
  whose `present` is False, `omitted` True and whose `name` is the marker as written, so what is missing
  stays readable; a caption or document title is kept as the text.
- Android writes the body `null` for a view-once photo or video: kind media, text "", one attachment
  with name "" and present False (listed in `source.inferred["view_once"]`).
- On iPhone the app marks what it writes with a direction mark (U+200E, Arabic phones U+200F) at the
  start of the body; such a body that is not media, deleted, a location or a call is a system line,
  even though the iPhone writes the chat's name as its sender.
"""
from __future__ import annotations

import mimetypes
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from ingest.sources.whatsapp_headers import MARKS, STRIP_MARKS
from ingest.sources.whatsapp_phrases import PHRASES
from kernel.model import Attachment, MessageKind

_MEDIA_TYPES = mimetypes.MimeTypes()  # built-in table only: same answer on every machine
_MEDIA_TYPE_OVERRIDES = {
    ".opus": "audio/ogg", ".webp": "image/webp", ".vcf": "text/vcard", ".m4a": "audio/mp4",
    ".aac": "audio/aac", ".heic": "image/heic", ".3gp": "video/3gpp", ".jpg": "image/jpeg", ".mp4": "video/mp4",
}


def media_type_of(name: str) -> str | None:
    """The IANA media type guessed from a file name's extension (deterministic table), else None."""
    suffix = Path(name).suffix.lower()
    if suffix in _MEDIA_TYPE_OVERRIDES:
        return _MEDIA_TYPE_OVERRIDES[suffix]
    guessed, _ = _MEDIA_TYPES.guess_type(name, strict=False)
    return guessed


def _alternation(texts: set[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))


def _collect() -> tuple[dict[str, tuple[MessageKind, str, tuple[str, ...]]], dict[str, tuple[str, ...]]]:
    """Whole bodies the app writes (lower-cased, no final dot) → (kind, what, languages); and every
    other phrase → languages, for the locale evidence."""
    exact: dict[str, tuple[MessageKind, str, tuple[str, ...]]] = {}
    langs: dict[str, tuple[str, ...]] = {}

    def put(text: str, kind: MessageKind, what: str, lang: str) -> None:
        key = text.lower().rstrip(".")
        old = exact.get(key)
        exact[key] = (kind, what, (old[2] if old else ()) + (lang,))

    for lang, p in PHRASES.items():
        for text in p.deleted:
            put(text, MessageKind.DELETED, "deleted", lang)
        for text in p.calls:
            put(text, MessageKind.CALL, "call", lang)
        for text in p.media_omitted:
            put(text, MessageKind.MEDIA, "omitted", lang)
        for media, texts in p.omitted.items():
            for text in texts:
                put(text, MessageKind.CONTACT if media == "contact" else MessageKind.MEDIA, "omitted", lang)
        for text in p.view_once:
            put(text, MessageKind.MEDIA, "view_once", lang)
        for text in p.live_location:
            put(text, MessageKind.LOCATION, "live_location", lang)
        for group in (p.file_attached, p.attached, p.location, p.edited, p.poll, p.system):
            for text in group:
                langs[text.lower()] = langs.get(text.lower(), ()) + (lang,)
    return exact, langs


_EXACT, _PHRASE_LANGS = _collect()
_ALL = {lang: p for lang, p in PHRASES.items()}
_OMITTED_TAILS = tuple(
    sorted({t.lower() for p in _ALL.values() for texts in p.omitted.values() for t in texts}, key=len, reverse=True)
)
_OMITTED_SUFFIX = re.compile(rf"(?:^|(?<=[\s{MARKS}]))(?P<marker>{_alternation(set(_OMITTED_TAILS))})\.?$", re.I)
_ANDROID_OMITTED = {t.lower() for p in _ALL.values() for t in p.media_omitted}
_FILE_ATTACHED_WORDS = {t.lower() for p in _ALL.values() for t in p.file_attached}
_ANDROID_ATTACHED = re.compile(rf"^[{MARKS}]*(?P<name>[^\n]+?) \((?P<label>[^()\n]{{2,40}})\)$")
_IOS_ATTACHED = re.compile(rf"[{MARKS}]?<(?P<label>[^<>:\n]{{1,30}}) ?: ?(?P<name>[^<>\n]+)>")
_IOS_ATTACHED_WORDS = {t.lower() for p in _ALL.values() for t in p.attached}
_IOS_FILE_NAME = re.compile(r"^\d{8}-")
_EDITED = {t.lower() for p in _ALL.values() for t in p.edited}
_EDITED_SUFFIX = re.compile(rf"[ {MARKS}]*(?P<marker><[^<>\n]{{6,60}}>)$")
_LOCATION_WORDS = {t.lower() for p in _ALL.values() for t in p.location}
_LOCATION = re.compile(
    r"^(?P<label>[^\W\d_][^:\n]{0,30}?) ?: ?https?://(?:maps\.google\.com|maps\.apple\.com|www\.google\.com/maps|"
    r"goo\.gl/maps|foursquare\.com)/\S*$"
    r"|^[^\n]+ \([^\n]+\): https?://(?:foursquare\.com|maps\.google\.com|maps\.apple\.com)/\S+$"
    r"|^[^\n]+\n[^\n]+\nhttps?://(?:foursquare\.com|maps\.google\.com)/\S+$",
)
_POLL = {t.lower() for p in _ALL.values() for t in p.poll}
_SYSTEM = re.compile(_alternation({t for p in _ALL.values() for t in p.system}), re.I)
_ENCRYPTION_PREFIXES = tuple(t for p in _ALL.values() for t in p.encryption)
# Group events in the languages most exports here come in; on iPhone they count only where the app
# marked the line or the sender is the chat's own name.
_GROUP_EVENT = re.compile(
    r"^(?:"
    r".+ (?:added|removed) .+|.+ added you|You were added|You were removed|.+ left|You left"
    r"|.+ joined|.+ changed (?:the subject|this group's (?:icon|description|settings)|the group description).*"
    r"|.+ deleted this group's icon|.+ (?:is|are) now an admin|You're now an admin|You're no longer an admin"
    r"|.+ (?:heeft|hebt) .+ (?:toegevoegd|verwijderd)|(?:U|Je) bent toegevoegd|(?:U|Je) bent verwijderd"
    r"|.+ heeft (?:u|je) toegevoegd|.+ (?:heeft de groep verlaten|is vertrokken)|(?:U|Je) bent vertrokken"
    r"|.+ (?:heeft|hebt) (?:de groepsnaam|het onderwerp|de onderwerpnaam|het groepsicoon|de groepsafbeelding"
    r"|de groepsbeschrijving|de groepsinstellingen) .*(?:gewijzigd|verwijderd).*"
    r"|.+ (?:is|bent) nu (?:een )?beheerder|(?:U|Je) bent geen beheerder meer"
    r"|.+ hat .+ hinzugefügt|.+ hat die Gruppe verlassen|.+ a ajouté .+|.+ est parti(?:e)?"
    r"|.+ añadió a .+|.+ salió del grupo|.+ ha aggiunto .+|.+ è uscito|.+ adicionou .+|.+ saiu"
    r"|.+ gruba ekledi|.+ ayrıldı"
    r")$",
    re.S,
)
_MARK_CHARS = frozenset(MARKS)


class Body(NamedTuple):
    """A classified message body: who wrote it (None for the app), what it is, its text and files."""

    sender: str | None
    kind: MessageKind
    text: str
    attachments: tuple[Attachment, ...] = ()
    edited: bool = False


# Quick rejection of plain typed text: app-written bodies start or end with one of these, contain a
# link, or are one of the exact phrases; the last word of an iPhone "... omitted" marker is in the set.
_EXACT_AS_WRITTEN = frozenset(
    variant for lang in PHRASES.values()
    for text in (*lang.deleted, *lang.calls, *lang.media_omitted, *lang.view_once, *lang.live_location,
                 *(t for texts in lang.omitted.values() for t in texts))
    for variant in (text, text + ".")
) | {"null"}
_OMITTED_LAST_WORDS = frozenset(
    t.split()[-1].lower() for lang in PHRASES.values() for texts in lang.omitted.values() for t in texts
)
_POLL_PREFIXES = tuple(t for lang in PHRASES.values() for t in lang.poll)
_TEXT = MessageKind.TEXT
_MARK_RE = re.compile(f"[{MARKS}]")
# Android quotes a group's name in system lines ("changed the subject from “A” to “B: c”"), with straight,
# curly, low-9 or angle quotes by language; a colon inside the name must not make its start a sender.
# A non-ASCII quote can only be in a non-ASCII sender, so the fast path tests `isascii()` (O(1)) first.
_QUOTE_RE = re.compile('["\u201c\u201d\u201e\u00ab\u00bb]')


class BodyReader:
    """Classifies message bodies of one export; counts the languages of the app-written phrases it saw."""

    def __init__(self, platform: str, present: frozenset[str], title: str | None) -> None:
        self.ios = platform == "ios"
        self.present = present
        self.title = title
        self.languages: Counter[str] = Counter()

    def read(self, rest: str) -> Body:
        """The message whose text after the header is `rest` (continuation lines joined with LF)."""
        colon = rest.find(": ")
        if colon > 0 and (rest.isascii() or _MARK_RE.search(rest) is None):  # no direction marks: typed text?
            body = rest[colon + 2:]
            newline = body.find("\n")
            if (body and body[0] != "<" and body[-1] not in ")>" and "://" not in body
                    and (newline < 1 or body[newline - 1] not in ")>")
                    and body not in _EXACT_AS_WRITTEN and rest.find("\n", 0, colon) < 0
                    and not (self.ios and body[body.rfind(" ") + 1:].rstrip(".").lower() in _OMITTED_LAST_WORDS)
                    and not (newline > 0 and body.startswith(_POLL_PREFIXES))
                    and not (self.ios and body.startswith(_ENCRYPTION_PREFIXES))):
                sender = rest[:colon]
                if ('"' not in sender and (sender.isascii() or _QUOTE_RE.search(sender) is None)
                        and sender[0] != " " and sender[-1] != " " and not (self.ios and sender == self.title)):
                    return (sender, _TEXT, body, (), False)  # type: ignore[return-value]  # a plain tuple is cheaper
        return self._read(rest)

    def _read(self, rest: str) -> Body:
        newline = rest.find("\n")
        first = rest if newline < 0 else rest[:newline]
        colon = first.find(": ")
        if colon < 0:
            return Body(None, MessageKind.SYSTEM, rest.translate(STRIP_MARKS))
        sender_part = first[:colon]
        body = rest[colon + 2:]
        if not self.ios and _QUOTE_RE.search(sender_part) is not None and _SYSTEM.search(first):
            return Body(None, MessageKind.SYSTEM, rest.translate(STRIP_MARKS))
        sender = sender_part.translate(STRIP_MARKS).strip() if _has_mark(sender_part) else sender_part.strip()
        if not sender:
            return Body(None, MessageKind.SYSTEM, rest.translate(STRIP_MARKS))
        marked = bool(body) and body[0] in _MARK_CHARS
        return self._classify(sender, body, marked)

    def _classify(self, sender: str, body: str, marked: bool) -> Body:
        edited = False
        if body.endswith(">"):
            edit = _EDITED_SUFFIX.search(body)
            if edit is not None and edit.group("marker").lower() in _EDITED:
                self._saw(edit.group("marker"))
                body, edited = body[: edit.start()], True
                marked = bool(body) and body[0] in _MARK_CHARS
        bare = body.translate(STRIP_MARKS).strip() if _has_mark(body) else body.strip()
        single = "\n" not in bare
        if len(bare) < 80:
            hit = _EXACT.get(bare.lower().rstrip(".")) if single else None
            if hit is None and not single:
                hit = self._android_omitted_with_caption(bare)
                if hit is not None:
                    return Body(sender, MessageKind.MEDIA, _caption(bare.split("\n", 1)[1]),
                                (Attachment(bare.split("\n", 1)[0], False, None, omitted=True),), edited)
            if hit is not None:
                kind, what, langs = hit
                self._count(langs)
                if what == "omitted":
                    return Body(sender, kind, "", (Attachment(bare, False, None, omitted=True),), edited)
                if what == "view_once":
                    return Body(sender, kind, "", (Attachment("", False, None, omitted=True),), edited)
                return Body(sender, kind, bare, (), edited)
        if not self.ios and bare == "null":
            return Body(sender, MessageKind.MEDIA, "", (Attachment("", False, None, omitted=True),), edited)
        attached = self._attachment(body)
        if attached is not None:
            kind, caption, attachment = attached
            return Body(sender, kind, caption, (attachment,), edited)
        if self.ios and (not single or bare.lower().endswith(_OMITTED_TAILS)):
            omitted = self._omitted_with_caption(body)
            if omitted is not None:
                kind, caption, attachment = omitted
                return Body(sender, kind, caption, (attachment,), edited)
        if "://" in bare:
            location = _LOCATION.match(bare)
            if location is not None and (location.group("label") is None or self._location_label(location.group("label"))):
                return Body(sender, MessageKind.LOCATION, bare, (), edited)
        if not single and bare.split("\n", 1)[0].lower() in _POLL:
            self._saw(bare.split("\n", 1)[0])
            return Body(sender, MessageKind.POLL, body, (), edited)
        if self.ios and single and self._ios_system(sender, bare, marked):
            return Body(None, MessageKind.SYSTEM, bare)
        return Body(sender, MessageKind.TEXT, body, (), edited)

    def _ios_system(self, sender: str, bare: str, marked: bool) -> bool:
        if marked:
            return True
        if bare.startswith(_ENCRYPTION_PREFIXES):
            return True
        return sender == self.title and (_GROUP_EVENT.match(bare) is not None or _SYSTEM.search(bare) is not None)

    def _attachment(self, body: str) -> tuple[MessageKind, str, Attachment] | None:
        if self.ios:
            if "<" not in body:
                return None
            match = _IOS_ATTACHED.search(body)
            if match is None:
                return None
            label = match.group("label").translate(STRIP_MARKS).strip()
            name = match.group("name").translate(STRIP_MARKS).strip()
            if label.lower() not in _IOS_ATTACHED_WORDS and not _IOS_FILE_NAME.match(name):
                return None
            self._saw(label)
            caption = _caption(body[: match.start()] + body[match.end():])
        else:
            newline = body.find("\n")
            first = body if newline < 0 else body[:newline]
            if not first.endswith(")"):
                return None
            match = _ANDROID_ATTACHED.match(first)
            if match is None or match.group("label").lower() not in _FILE_ATTACHED_WORDS:
                return None
            self._saw(match.group("label"))
            name = match.group("name").translate(STRIP_MARKS).strip()
            caption = _caption(body[newline + 1:]) if newline >= 0 else ""
        attachment = Attachment(name=name, present=name in self.present, media_type=media_type_of(name))
        kind = MessageKind.CONTACT if name.lower().endswith(".vcf") else MessageKind.MEDIA
        return kind, caption, attachment

    def _omitted_with_caption(self, body: str) -> tuple[MessageKind, str, Attachment] | None:
        """iPhone: "Title.pdf • 2 pages \u200edocument omitted" (caption or title before the marker)."""
        newline = body.find("\n")
        first = body if newline < 0 else body[:newline]
        bare_first = first.translate(STRIP_MARKS).rstrip()
        match = _OMITTED_SUFFIX.search(bare_first)
        if match is None:
            return None
        marker = match.group("marker")
        hit = _EXACT.get(marker.lower().rstrip("."))
        if hit is None:
            return None
        kind, _, langs = hit
        self._count(langs)
        rest = bare_first[: match.start()] + (body[newline:] if newline >= 0 else "")
        return kind, _caption(rest), Attachment(marker, False, None, omitted=True)

    def _android_omitted_with_caption(self, bare: str) -> tuple[MessageKind, str, tuple[str, ...]] | None:
        first = bare.split("\n", 1)[0].strip()
        if self.ios or first.lower() not in _ANDROID_OMITTED:
            return None
        hit = _EXACT[first.lower()]
        self._count(hit[2])
        return hit

    def _location_label(self, label: str) -> bool:
        key = label.translate(STRIP_MARKS).strip().lower()
        if key in _LOCATION_WORDS:
            self._saw(key)
        return True  # any "Word: <maps link>" is a shared location; known words also tell the language

    def _saw(self, phrase: str) -> None:
        self._count(_PHRASE_LANGS.get(phrase.translate(STRIP_MARKS).strip().lower(), ()))

    def _count(self, langs: tuple[str, ...]) -> None:
        if len(langs) == 1:
            self.languages[langs[0]] += 1
        elif langs:
            for lang in langs:
                self.languages[lang] += 0  # seen, but shared by several languages: no vote

    def locale(self) -> tuple[str | None, str]:
        """The phone's language as shown by the phrases the app wrote, with its evidence."""
        return locale_of(self.languages)


def locale_of(languages: Counter[str]) -> tuple[str | None, str]:
    """The language most app-written phrases were in (ties: alphabetical), with its evidence."""
    votes = {lang: n for lang, n in languages.items() if n}
    if not votes:
        return None, "no app-written phrase recognised"
    ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
    lang, n = ranked[0]
    return lang, f"{n} app-written phrase(s) in {lang}; all counts {dict(ranked)}"


def _has_mark(text: str) -> bool:
    return _MARK_RE.search(text) is not None


def _caption(rest: str) -> str:
    """What the user wrote beside an attachment marker, direction marks and edge blanks removed."""
    return rest.translate(STRIP_MARKS).strip()
