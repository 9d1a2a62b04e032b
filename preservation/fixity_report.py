"""Fixity reports kept on disk: the run as JSON, and an HTML page (in Dutch, preservation/wording.py) with the
archive's verification history.

Each run writes `<data-dir>/reports/fixity/<started>.json` and `.html`, and refreshes `latest.html`.
The HTML shows what this run found, then every AIP with when each replica was last verified and its
status, then the recent fixity and repair events, so an auditor sees the history without a database.
"""
from __future__ import annotations

import html
import json
import uuid
from pathlib import Path

from kernel.atomic import write_bytes_atomic
from preservation.catalogue import Catalogue
from preservation.fixity import Finding, FixityReport
from preservation.wording import dutch

STYLE = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}
.bad{color:#a00;font-weight:bold}.ok{color:#070}code{overflow-wrap:anywhere;word-break:break-all}"""


def write_fixity_report(report: FixityReport, catalogue: Catalogue, reports_dir: Path) -> tuple[Path, Path]:
    """Write this run's JSON and HTML report (and latest.html); returns the JSON and HTML paths."""
    stem = f"{report.started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    json_path = reports_dir / f"{stem}.json"
    html_path = reports_dir / f"{stem}.html"
    write_bytes_atomic(json_path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False).encode())
    page = render_html(report, catalogue).encode()
    write_bytes_atomic(html_path, page)
    write_bytes_atomic(reports_dir / "latest.html", page)
    return json_path, html_path


def render_html(report: FixityReport, catalogue: Catalogue) -> str:
    """The HTML page, in Dutch: this run's verdict and findings, the state of every AIP, and recent history."""
    e = html.escape
    if not report.intact:
        verdict = '<p class="bad">Er blijft schade over: zie de bevindingen gemarkeerd NIET HERSTELD.</p>'
    elif report.known_losses:
        verdict = (f'<p class="ok">Geen nieuwe schade aan het eind van de controle; {len(report.known_losses)} '
                   'bestanden zijn eerder verloren verklaard (zie de bekende verliezen).</p>')
    else:
        verdict = '<p class="ok">Alles intact aan het eind van de controle.</p>'
    findings = "".join(
        f"<tr><td>{e(dutch('damage', f.kind.value))}</td><td>{e(f.location)}</td><td><code>{e(f.aip_id)}</code></td>"
        f"<td><code>{e(f.path)}</code></td><td>{e(_outcome(f))}</td></tr>"
        for f in report.findings
    ) or '<tr><td colspan="5">geen schade gevonden</td></tr>'
    losses = "".join(
        f"<tr><td><code>{e(x.aip_id)}</code></td><td><code>{e(x.path)}</code></td><td>{e(x.declared.isoformat())}</td>"
        f"<td>{e(x.declared_by)}</td><td>{e(x.reason)}</td></tr>" for x in report.known_losses
    ) or '<tr><td colspan="5">geen</td></tr>'
    aips = []
    for aip in catalogue.aips():
        replicas = "<br>".join(
            f"{e(r.location)}: {e(dutch('state', r.status.value))}, "
            f"{e(r.last_verified.isoformat() if r.last_verified else 'nooit gecontroleerd')}"
            for r in catalogue.replicas(aip.aip_id)
        )
        state = (f'<span class="{"bad" if aip.state.value == "damaged" else "ok"}">'
                 f'{e(dutch("state", aip.state.value))}</span>')
        aips.append(f"<tr><td><code>{e(aip.aip_id)}</code></td><td>{e(aip.record_id)}</td><td>{e(aip.title)}</td>"
                    f"<td>{state}</td><td>{replicas}</td></tr>")
    history = "".join(
        f"<tr><td>{e(ev.date_time.isoformat())}</td><td><code>{e(aip_id or '')}</code></td>"
        f"<td>{e(dutch('event', ev.type))}</td><td>{e(dutch('outcome', ev.outcome))}</td><td>{e(ev.outcome_detail)}</td></tr>"
        for aip_id, ev in catalogue.recent_events(("fixity check", "repair", "recovery", "loss declaration"), limit=500)
    )
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Integriteitscontrole {e(report.started.isoformat())}</title>
<style>{STYLE}</style></head><body>
<h1>Integriteitscontrole</h1>
<p>Gestart {e(report.started.isoformat())}: {len(report.aips_checked)} AIP's, {report.files_checked} bestanden,
{report.bytes_checked} bytes gecontroleerd in {report.seconds:.1f} s; {len(report.aips_skipped)} AIP's blijven voor
de volgende controle.</p>
{verdict}
<h2>Bevindingen van deze controle</h2>
<table><tr><th>soort</th><th>opslaglocatie</th><th>AIP</th><th>bestand</th><th>afhandeling</th></tr>{findings}</table>
<h2>Bekende verliezen (verloren verklaard: geen kopie meer; geen nieuwe schade)</h2>
<table><tr><th>AIP</th><th>bestand</th><th>verklaard</th><th>door</th><th>reden</th></tr>{losses}</table>
<h2>Elke AIP, en wanneer elke replica het laatst is gecontroleerd</h2>
<table><tr><th>AIP</th><th>kenmerk</th><th>naam</th><th>toestand</th><th>replica's</th></tr>{''.join(aips)}</table>
<h2>Geschiedenis (nieuwste eerst)</h2>
<table><tr><th>wanneer</th><th>AIP</th><th>gebeurtenis</th><th>uitkomst</th><th>toelichting</th></tr>{history}</table>
</body></html>
"""


def _outcome(finding: Finding) -> str:
    """What was done about a finding, in Dutch (Finding.outcome says it in English for the command line)."""
    if finding.found_as:
        return f"teruggezet onder de juiste naam (was {finding.found_as})"
    if finding.repaired_from:
        return f"hersteld vanuit {finding.repaired_from}"
    if finding.quarantined_to:
        return f"in quarantaine geplaatst: {finding.quarantined_to}"
    return f"NIET HERSTELD: {finding.error}" if finding.error else "NIET HERSTELD"
