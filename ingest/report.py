"""The ingest report: what was checked and done to one SIP, for the archivist (HTML) and for scripts (JSON).

One report per SIP, accepted or rejected, written atomically under `<data>/reports/` as
`<UTC time>-<AIP id | rejected-<SIP digest>>.json` and `.html` (the HTML is one self-contained page with no
scripts). It holds: the outcome (and for a rejection the stage and every problem), the virus scan with
engine and signature release, each SIP check, and per file its role, size, sha256, PUID (with siegfried's
second opinion when enabled), format validation and the policy actions with their outcome; a rejection also
lists each PREMIS event recorded before it (`premis_events`). The HTML speaks Dutch with the terms of
preservation/wording.py; the JSON keeps the codes.
Names holding control characters or bytes that are not UTF-8 (a hostile SIP's) are written escaped (kernel/names.py).
Every file on which the identifications differ (FIDO and siegfried, or FIDO and the format edepot wrote the
file in) is listed with each verdict, the one recorded, and why.
"""
from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from ingest.job import IngestJob
from kernel.atomic import write_bytes_atomic
from kernel.errors import EdepotError, StorageFailure
from kernel.names import escaped
from preservation.aip import SealedFile
from preservation.identify import Identification
from preservation.wording import dutch


def write_report(source: Path, job: IngestJob, result: dict[str, Any], payload: Sequence[SealedFile]) -> tuple[Path, Path]:
    """Write the report of an accepted SIP; returns the JSON and the HTML path."""
    document = _common(source, job, "accepted") | {"aip": result, "files": _files(job, payload),
                                                    "identification_disagreements": _disagreements(job, payload)}
    return _write(job, document, job.aip_id)


def write_rejection_report(source: Path, job: IngestJob, error: EdepotError) -> tuple[Path, Path]:
    """Write the report of a refused SIP and name it in the error's hint; returns the JSON and the HTML path."""
    document = _common(source, job, "rejected") | {"error": {
        "ref": error.ref, "message": error.message, "stage": job.stage,
        "problems": list(getattr(error, "problems", []))}}
    if isinstance(error, StorageFailure):
        document["error"]["location"] = error.location
    if job.quarantined is not None:
        document["quarantined"] = str(job.quarantined)
    document["premis_events"] = [{"type": ev.type, "date": ev.date_time.isoformat(), "outcome": ev.outcome,
                                  "detail": ev.detail, "outcome_detail": ev.outcome_detail} for ev in job.events]
    paths = _write(job, document, f"rejected-{(job.sip_digest or 'unreadable')[:12]}")
    error.hint = f"{error.hint}; report: {paths[0]}" if error.hint else f"report: {paths[0]}"
    return paths


def _common(source: Path, job: IngestJob, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "source": str(source),
        "date": job.config.clock().isoformat(),
        "person": job.person,  # who did the ingest
        "sip_digest": job.sip_digest,
        "aip_id": job.aip_id if status == "accepted" else None,
        "scan": job.scan.to_dict() if job.scan else None,
        "sip_checks": job.sip_checks,
        "warnings": list(job.warnings),
        "events": dict(sorted(Counter(e.type for e in job.events).items())),
        "stage_seconds": {stage: round(seconds, 3) for stage, seconds in job.stage_seconds.items()},
    }


def _files(job: IngestJob, payload: Sequence[SealedFile]) -> list[dict[str, Any]]:
    actions: dict[str, list[dict[str, Any]]] = {}
    for n in job.normalisations:
        actions.setdefault(n.source, []).append({
            "action": n.outcome.action, "status": n.outcome.status.value, "note": n.outcome.note,
            "tool": n.outcome.tool, "derived": list(n.derived), "rule": n.rule})
    rows = []
    for f in sorted(payload, key=lambda f: f.path):
        found = job.identifications.get(f.path)
        check = job.format_checks.get(f.path)
        row: dict[str, Any] = {
            "path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256,
            "puid": found.puid if found else None, "format": found.format_name if found else None,
            "validation": {"validator": check.validator, "verdict": check.verdict.value, "detail": check.detail}
            if check else None,
            "actions": actions.get(f.path, []),
        }
        if f.path in job.second_opinions:
            row["siegfried"] = job.second_opinions[f.path].puid
        if f.path in job.overruled:
            row["fido"] = job.overruled[f.path].puid
        rows.append(row)
    return rows


def _disagreements(job: IngestJob, payload: Sequence[SealedFile]) -> list[dict[str, Any]]:
    """Each file whose tools' verdicts differ: FIDO's, siegfried's, the one recorded, and why that one."""
    rows = []
    for path in sorted({f.path for f in payload} & (set(job.overruled) | set(job.second_opinions))):
        recorded = job.identifications[path]
        fido = job.overruled.get(path, recorded)
        siegfried = job.second_opinions.get(path)
        if len({recorded.puid, fido.puid} | ({siegfried.puid} if siegfried else set())) == 1:
            continue
        why = (recorded.basis.removeprefix("declared: ") if path in job.overruled else
               "FIDO's identification is the one of record; siegfried gives a second opinion")
        rows.append({"path": path, "recorded": _verdict(recorded), "fido": _verdict(fido),
                     "siegfried": _verdict(siegfried) if siegfried else None, "why": why})
    return rows


def _verdict(found: Identification) -> dict[str, Any]:
    return {"puid": found.puid, "format": found.format_name, "basis": found.basis, "tool": found.tool}


def _write(job: IngestJob, document: dict[str, Any], name: str) -> tuple[Path, Path]:
    folder = job.config.data_dir / "reports"
    stem = f"{job.config.clock():%Y%m%dT%H%M%SZ}-{name}"
    json_path, html_path = folder / f"{stem}.json", folder / f"{stem}.html"
    document = _printable(document)
    write_bytes_atomic(json_path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    write_bytes_atomic(html_path, render_html(document).encode("utf-8"))
    return json_path, html_path


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def render_html(document: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (every value escaped)."""
    e = html.escape
    accepted = document["status"] == "accepted"
    parts = [
        "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Ingestrapport</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top;font-size:.9em}"
        ".ok{color:#1d6b2a}.bad{color:#9c1f1f;font-weight:bold}.warn{color:#8a5300}"
        "code{font-size:.85em;overflow-wrap:anywhere;word-break:break-all}",
        "</style></head><body>",
        f"<h1>Ingestrapport: <span class='{'ok' if accepted else 'bad'}'>"
        f"{'geaccepteerd' if accepted else 'geweigerd'}</span></h1>",
        f"<p>Bron: <code>{e(document['source'])}</code><br>Datum: {e(document['date'])}<br>"
        f"Door: {e(document.get('person') or '-')}<br>"
        f"Controlegetal SIP (sha256): <code>{e(document.get('sip_digest') or '-')}</code></p>",
    ]
    if accepted:
        aip = document["aip"]
        parts.append(f"<p>AIP <code>{e(aip['aip_id'])}</code> (versie {aip['version']}), {aip['files']} bestanden, "
                     f"{aip['bytes']} bytes, opgeslagen in:</p><ul>"
                     + "".join(f"<li><code>{e(p)}</code></li>" for p in aip["locations"]) + "</ul>")
    else:
        err = document["error"]
        parts.append(f"<p class='bad'>{e(err['ref'])}: {e(err['message'])} (stap: {e(dutch('stage', err['stage']))})</p><ul>"
                     + "".join(f"<li>{e(p)}</li>" for p in err["problems"]) + "</ul>")
        if document.get("quarantined"):
            parts.append(f"<p class='bad'>In quarantaine: <code>{e(document['quarantined'])}</code></p>")
    scan = document.get("scan")
    if scan:
        verdict = "schoon" if scan["clean"] else ("niet gescand" if not scan["scanned"] else "VIRUS GEVONDEN")
        parts.append(f"<h2>Viruscontrole</h2><p class='{'ok' if scan['clean'] else 'bad'}'>{verdict}: {scan['files']} "
                     f"bestanden, {e(scan['engine'])} ({e(scan['method'])}), "
                     f"virusdefinities {e(scan['signatures'] or 'onbekend')}</p>"
                     + "".join(f"<p class='bad'>{e(i['path'])}: {e(i['signature'])}</p>" for i in scan["infections"]))
    if document["sip_checks"]:
        parts.append("<h2>Controles van de SIP</h2><table><tr><th>controle</th><th>uitkomst</th><th>details</th></tr>")
        for check in document["sip_checks"]:
            mark = "overgeslagen" if check["skipped"] else ("in orde" if check["ok"] else "FOUT")
            parts.append(f"<tr><td>{e(dutch('check', check['check']))}</td>"
                         f"<td class='{'ok' if check['ok'] else 'bad'}'>{mark}</td>"
                         f"<td>{'<br>'.join(e(d) for d in check['details'])}</td></tr>")
        parts.append("</table>")
    if document["warnings"]:
        parts.append("<h2>Waarschuwingen</h2><ul>" + "".join(f"<li class='warn'>{e(w)}</li>" for w in document["warnings"])
                     + "</ul>")
    if document.get("identification_disagreements"):
        def said(verdict: dict[str, Any] | None) -> str:
            return "-" if verdict is None else f"{e(verdict['puid'] or 'onbekend')} {e(verdict['format'] or '')}"
        parts.append("<h2>Identificatie: oordelen die verschillen</h2><table><tr><th>pad</th><th>vastgelegd</th>"
                     "<th>FIDO</th><th>siegfried</th><th>waarom dit is vastgelegd</th></tr>" + "".join(
                         f"<tr><td><code>{e(d['path'])}</code></td><td>{said(d['recorded'])}</td>"
                         f"<td>{said(d['fido'])}</td><td>{said(d['siegfried'])}</td><td>{e(d['why'])}</td></tr>"
                         for d in document["identification_disagreements"]) + "</table>")
    if accepted:
        parts.append("<h2>Bestanden</h2><table><tr><th>pad</th><th>rol</th><th>bytes</th><th>formaat</th>"
                     "<th>validatie</th><th>beleid</th><th>sha256</th></tr>")
        for f in document["files"]:
            validation = f["validation"]
            v = (f"<span class='{'ok' if validation['verdict'] == 'valid' else 'bad'}'>"
                 f"{e(dutch('outcome', validation['verdict']))}</span> "
                 f"{e(validation['detail'])}") if validation else "-"
            fmt = f"{e(f['puid'] or 'onbekend')} {e(f['format'] or '')}"
            if "siegfried" in f and f["siegfried"] != f["puid"]:
                fmt += f" <span class='warn'>(siegfried: {e(f['siegfried'] or 'onbekend')})</span>"
            acts = "<br>".join(f"{e(a['action'])}: {e(dutch('outcome', a['status']))} {e(a['note'])}"
                               for a in f["actions"]) or "-"
            parts.append(f"<tr><td><code>{e(f['path'])}</code></td><td>{e(dutch('role', f['role']))}</td><td>{f['size']}</td>"
                         f"<td>{fmt}</td><td>{v}</td><td>{acts}</td><td><code>{e(f['sha256'])}</code></td></tr>")
        parts.append("</table>")
    parts.append("<h2>PREMIS-gebeurtenissen</h2><ul>" + "".join(
        f"<li>{e(dutch('event', k))}: {v}</li>" for k, v in document["events"].items()) + "</ul>")
    if "premis_events" in document:
        parts.append("<table><tr><th>wanneer</th><th>gebeurtenis</th><th>uitkomst</th><th>toelichting</th></tr>" + "".join(
            f"<tr><td>{e(ev['date'])}</td><td>{e(dutch('event', ev['type']))}</td>"
            f"<td>{e(dutch('outcome', ev['outcome']))}</td><td>{e(ev['detail'])}<br>{e(ev['outcome_detail'])}</td></tr>"
            for ev in document["premis_events"]) + "</table>"
            if document["premis_events"] else "<p>Geen PREMIS-gebeurtenissen vastgelegd voor de weigering.</p>")
    if document["stage_seconds"]:
        parts.append("<h2>Duur per stap</h2><table><tr><th>stap</th><th>seconden</th></tr>" + "".join(
            f"<tr><td>{e(dutch('stage', stage))}</td><td>{seconds:.1f}</td></tr>"
            for stage, seconds in document["stage_seconds"].items()) + "</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
