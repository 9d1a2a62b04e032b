"""Fixity reports kept on disk: the run as JSON, and an HTML page with the archive's verification history.

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
from preservation.catalogue import SqliteCatalogue
from preservation.fixity import FixityReport

STYLE = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#eee}
.bad{color:#a00;font-weight:bold}.ok{color:#070}"""


def write_fixity_report(report: FixityReport, catalogue: SqliteCatalogue, reports_dir: Path) -> tuple[Path, Path]:
    """Write this run's JSON and HTML report (and latest.html); returns the JSON and HTML paths."""
    stem = f"{report.started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    json_path = reports_dir / f"{stem}.json"
    html_path = reports_dir / f"{stem}.html"
    write_bytes_atomic(json_path, json.dumps(report.to_dict(), indent=2, ensure_ascii=False).encode())
    page = render_html(report, catalogue).encode()
    write_bytes_atomic(html_path, page)
    write_bytes_atomic(reports_dir / "latest.html", page)
    return json_path, html_path


def render_html(report: FixityReport, catalogue: SqliteCatalogue) -> str:
    """The HTML page: this run's verdict and findings, the state of every AIP, and recent history."""
    e = html.escape
    if not report.intact:
        verdict = '<p class="bad">Damage remains: see the findings marked NOT REPAIRED.</p>'
    elif report.known_losses:
        verdict = (f'<p class="ok">No new damage at the end of the run; {len(report.known_losses)} files were '
                   'declared lost before (see the known losses).</p>')
    else:
        verdict = '<p class="ok">All intact at the end of the run.</p>'
    findings = "".join(
        f"<tr><td>{e(f.kind.value)}</td><td>{e(f.location)}</td><td>{e(f.aip_id)}</td><td>{e(f.path)}</td>"
        f"<td>{e(f.outcome)}</td></tr>"
        for f in report.findings
    ) or '<tr><td colspan="5">no damage found</td></tr>'
    losses = "".join(
        f"<tr><td>{e(x.aip_id)}</td><td>{e(x.path)}</td><td>{e(x.declared.isoformat())}</td><td>{e(x.declared_by)}</td>"
        f"<td>{e(x.reason)}</td></tr>" for x in report.known_losses
    ) or '<tr><td colspan="5">none</td></tr>'
    aips = []
    for aip in catalogue.aips():
        replicas = "<br>".join(
            f"{e(r.location)}: {e(r.status.value)}, {e(r.last_verified.isoformat() if r.last_verified else 'never')}"
            for r in catalogue.replicas(aip.aip_id)
        )
        state = f'<span class="{"bad" if aip.state.value == "damaged" else "ok"}">{e(aip.state.value)}</span>'
        aips.append(f"<tr><td>{e(aip.aip_id)}</td><td>{e(aip.record_id)}</td><td>{e(aip.title)}</td>"
                    f"<td>{state}</td><td>{replicas}</td></tr>")
    history = "".join(
        f"<tr><td>{e(ev.date_time.isoformat())}</td><td>{e(aip_id or '')}</td><td>{e(ev.type)}</td>"
        f"<td>{e(ev.outcome)}</td><td>{e(ev.outcome_detail)}</td></tr>"
        for aip_id, ev in catalogue.recent_events(("fixity check", "repair", "recovery", "loss declaration"), limit=500)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>edepot fixity report {e(report.started.isoformat())}</title>
<style>{STYLE}</style></head><body>
<h1>Fixity report</h1>
<p>Run started {e(report.started.isoformat())}: {len(report.aips_checked)} AIPs, {report.files_checked} files,
{report.bytes_checked} bytes verified in {report.seconds:.1f} s; {len(report.aips_skipped)} AIPs left for the next run.</p>
{verdict}
<h2>Findings of this run</h2>
<table><tr><th>kind</th><th>location</th><th>AIP</th><th>file</th><th>outcome</th></tr>{findings}</table>
<h2>Known losses (declared lost: no copy left; not new damage)</h2>
<table><tr><th>AIP</th><th>file</th><th>declared</th><th>by</th><th>reason</th></tr>{losses}</table>
<h2>Every AIP, and when each replica was last verified</h2>
<table><tr><th>AIP</th><th>record</th><th>title</th><th>state</th><th>replicas</th></tr>{''.join(aips)}</table>
<h2>History (newest first)</h2>
<table><tr><th>when</th><th>AIP</th><th>event</th><th>outcome</th><th>detail</th></tr>{history}</table>
</body></html>
"""

