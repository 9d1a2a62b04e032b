"""Access: the offline viewer of a DIP: one self-contained HTML file that shows each chat as a chat.

The phone's or account's owner (the custodian, else the export's "Ik"/"Me"/"You") on the right, everyone
else on the left, each bubble with the sender's name, colour, time and message number; a heading per day;
a line where messages were left out; redaction labels shown as labels. Voice notes play in an <audio>
element (the FLAC preservation copy when the DIP holds one). A filter box hides messages without the typed
words, with the day headings left empty, and says how many messages of each chat it shows.

Everything is inside the file (styles, the small script); a Content-Security-Policy forbids every network
request (media only from the DIP's own folder), so it opens the same on a laptop without internet in twenty
years. Text is HTML-escaped, never interpreted. Media are linked by their relative path in the DIP
(media/...); images up to 2 MB are also embedded (data: URIs), so they show even when the HTML file is
opened on its own.
"""
from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Mapping, Sequence

from kernel.model import Attachment, Conversation, Message, MessageKind
from preservation.normalise.conversation_pdf import berichten, dutch_date, gaps_before, is_file_name, time_format
from preservation.normalise.message_notes import message_notes

_FILLS = ("#e3efff", "#e4f6e4", "#fff1d9", "#f6e3f5", "#e0f5f5", "#f5ecdf", "#ececec", "#fde4e4")
_INKS = ("#1f4e9c", "#1d6b2a", "#8a5300", "#7a2a78", "#146b6b", "#6b4a1d", "#333333", "#9c1f1f")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:#efeae2;margin:0}
header{background:#075e54;color:#fff;padding:12px 18px;position:sticky;top:0;z-index:2}
header h1{font-size:18px;margin:0 0 6px}
header input{width:100%;max-width:420px;padding:6px 8px;border-radius:6px;border:0;font-size:14px}
main{max-width:820px;margin:0 auto;padding:10px 12px 60px}
section.chat{margin:18px 0 30px}
section.chat>h2{font-size:16px;background:#fff;padding:8px 12px;border-radius:8px;margin:0 0 8px}
.meta{font-size:12px;color:#555;padding:0 12px 8px}
.day{text-align:center;margin:14px 0 8px}
.day span{background:#e1f2fb;color:#333;font-size:12px;padding:4px 10px;border-radius:8px}
.msg{max-width:78%;margin:4px 0;padding:6px 9px 4px;border-radius:8px;box-shadow:0 1px .5px rgba(0,0,0,.13);
 white-space:pre-wrap;overflow-wrap:anywhere;font-size:14px}
.msg.own{margin-left:auto}
.gap{text-align:center;font-size:12px;color:#555;margin:8px auto}
.att audio{display:block;width:100%;max-width:320px}
.msg .who{font-size:12px;font-weight:600;margin-bottom:2px}
.msg .when{font-size:11px;color:#667;text-align:right;margin-top:2px}
.msg .note{font-size:12px;color:#555;margin-top:3px}
.system{text-align:center;font-size:12px;color:#555;margin:6px auto;max-width:80%}
.label{background:#222;color:#fff;border-radius:3px;padding:0 4px;font-size:12px}
.att{display:block;font-size:12px;margin-top:4px}
.att img{max-width:100%;max-height:320px;border-radius:6px;display:block}
.hidden{display:none}
"""

_SCRIPT = """
function fold(t){return t.toLowerCase().normalize('NFD').replace(/[\\u0300-\\u036f]/g,'');}
function words(n){return n===1?'1 bericht':n+' berichten';}
document.getElementById('filter').addEventListener('input',function(e){
 var q=fold(e.target.value);
 document.querySelectorAll('section.chat').forEach(function(chat){
  var shown=0;
  chat.querySelectorAll('.dayblock').forEach(function(day){
   var n=0;
   day.querySelectorAll('[data-text]').forEach(function(m){
    var hit=q===''||m.getAttribute('data-text').indexOf(q)>=0;
    m.classList.toggle('hidden',!hit);if(hit){n++;}});
   day.querySelectorAll('.gap').forEach(function(g){g.classList.toggle('hidden',q!=='');});
   day.classList.toggle('hidden',n===0);shown+=n;});
  var c=chat.querySelector('.count'),total=+c.getAttribute('data-total');
  c.textContent=q===''?words(total):shown+' van '+words(total);});
});
"""

_CSP = "default-src 'none'; img-src data:; media-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
                ".webp": "image/webp"}
_AUDIO_SUFFIXES = {".opus", ".ogg", ".oga", ".m4a", ".aac", ".amr", ".mp3", ".wav", ".flac"}
EMBED_UP_TO = 2 << 20


@dataclass(frozen=True)
class ViewerRecord:
    """One chat in the viewer: its kenmerk, (redacted) title, delivered messages, and its folder in the DIP."""

    record_id: str
    title: str
    conversation: Conversation
    folder: str  # "" when the DIP holds one record
    media: Mapping[str, Path] = field(default_factory=dict)  # attachment name → the file shown


def render_html(records: Sequence[ViewerRecord], heading: str) -> str:
    """The whole viewer page."""
    parts = ["<!DOCTYPE html>", '<html lang="nl"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(heading)}</title><style>{_STYLE}</style></head><body>",
             f"<header><h1>{_e(heading)}</h1>",
             '<input id="filter" type="search" placeholder="Zoek in de berichten…" aria-label="Zoek"></header><main>']
    if not records:
        parts.append('<p class="system">Deze levering bevat geen berichten.</p>')
    for record in records:
        parts.append(_chat(record))
    parts.append(f"</main><script>{_SCRIPT}</script></body></html>\n")
    return "\n".join(parts)


def _chat(record: ViewerRecord) -> str:
    conversation = record.conversation
    owner = conversation.owner()
    senders: dict[str, int] = {}
    for m in conversation.messages:
        if m.sender is not None:
            senders.setdefault(m.sender, len(senders))
    count = len(conversation.messages)
    meta = [f"Kenmerk {_e(record.record_id)}",
            f'<span class="count" data-total="{count}">{_e(berichten(count))}</span>']
    if conversation.custodian is not None:
        meta.append(f"houder toestel of account: {_e(conversation.custodian.label())} (rechts)")
    elif owner is not None:
        meta.append(f"{_e(owner)}: de houder van het toestel (rechts)")
    out = [f'<section class="chat"><h2>{_e(record.title or record.record_id)}</h2>',
           f'<div class="meta">{" · ".join(meta)}</div>']
    shown = time_format(conversation.messages)
    gaps = gaps_before(conversation.messages)
    notes = message_notes(conversation.source.inferred)
    for day, messages in groupby(conversation.messages, key=lambda m: m.timestamp.date()):
        out.append(f'<div class="dayblock"><div class="day"><span>{_e(dutch_date(day))}</span></div>')
        for message in messages:
            if message.seq in gaps:
                out.append(f'<div class="gap">— {_e(berichten(gaps[message.seq]))} niet opgenomen —</div>')
            out.append(_message(message, senders, owner, record, shown, notes.get(message.seq, ())))
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)


def _message(m: Message, senders: dict[str, int], owner: str | None, record: ViewerRecord, shown: str,
             notes: Sequence[str] = ()) -> str:
    searchable = _e(_fold(f"{m.sender or ''} {m.text}"))
    when = f"{m.timestamp.strftime(shown)} · bericht {m.seq}"
    if m.kind is MessageKind.SYSTEM or m.sender is None:
        return (f'<div class="system" data-text="{searchable}" id="m{m.seq}"><bdi>{_text(m.text)}</bdi> · {when}'
                '</div>')
    index = senders[m.sender] % len(_FILLS)
    side = " own" if m.sender == owner else ""
    attachments = "".join(_attachment(a, record) for a in m.attachments)
    edited = " · bewerkt" if m.edited else ""
    remarks = "".join(f'<div class="note">{_e(note)}</div>' for note in notes)
    return (f'<div class="msg{side}" style="background:{_FILLS[index]}" data-text="{searchable}" id="m{m.seq}">'
            f'<div class="who" style="color:{_INKS[index]}">{_e(m.sender)}</div><div dir="auto">{_text(m.text)}</div>'
            f'{attachments}{remarks}'
            f'<div class="when">{when}{edited}</div></div>')


def _attachment(attachment: Attachment, record: ViewerRecord) -> str:
    name = attachment.name
    shown = record.media.get(name)
    if not attachment.present and not is_file_name(name):
        return '<span class="att">Bijlage niet meegeëxporteerd</span>'
    if not attachment.present:
        return f'<span class="att">Bijlage {_e(name)}: niet meegeëxporteerd</span>'
    if shown is None:
        return f'<span class="att">Bijlage {_e(name)}: niet in deze levering</span>'
    audio = _is_audio(attachment, shown)
    if audio and shown.with_name(shown.name + ".flac").is_file():
        shown = shown.with_name(shown.name + ".flac")  # the preservation copy plays in every browser
    relative = f"media/{shown.name}"
    href = _e(f"{record.folder}/{relative}" if record.folder else relative)
    if audio:
        return (f'<span class="att"><audio controls preload="metadata" src="{href}" title="{_e(name)}"></audio>'
                f'<a href="{href}">Bijlage: {_e(name)}</a></span>')
    image_type = _IMAGE_TYPES.get(shown.suffix.lower())
    if image_type and shown.stat().st_size <= EMBED_UP_TO:
        data = base64.b64encode(shown.read_bytes()).decode("ascii")
        return f'<a class="att" href="{href}"><img src="data:{image_type};base64,{data}" alt="{_e(name)}"></a>'
    return f'<a class="att" href="{href}">Bijlage: {_e(name)}</a>'


def _is_audio(attachment: Attachment, shown: Path) -> bool:
    return (attachment.media_type or "").startswith("audio/") or shown.suffix.lower() in _AUDIO_SUFFIXES


def _text(text: str) -> str:
    """Escaped text with redaction labels ("[gelakt: …]", "[niet openbaar: …]") shown as labels."""
    escaped = _e(text)
    for opener in ("[gelakt:", "[niet openbaar:", "[bijlage achtergehouden:"):
        escaped = escaped.replace(opener, f'<span class="label">{opener}')
    if '<span class="label">' in escaped:
        pieces = escaped.split('<span class="label">')
        escaped = pieces[0] + "".join('<span class="label">' + p.replace("]", "]</span>", 1) for p in pieces[1:])
    return escaped


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def _e(text: str) -> str:
    return html.escape(text, quote=True)
