"""The README's access rules name exactly the beperkingGebruik types the metadata check accepts (the MDTO
BeperkingGebruikTypeLijst), and each of its examples, in a metadata file and with `edepot access set`,
is accepted and means what the README says."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from access.restrictions import restriction_of
from edepot.cli import build_parser
from preservation.metadata.record import BEPERKING_GEBRUIK_TYPES, check_beperking_gebruik
from preservation.record_access import Openness, Restriction

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
CLAIMS = {"always": {Openness.OPEN}, "never": {Openness.CLOSED, Openness.UNDETERMINED},
          "from": {Openness.RESTRICTED}}


def table_rows() -> list[list[str]]:
    section = README[README.index("**Access rules**"):README.index("**Redaction (lakken)**")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| `") and "beperkingGebruik:" in line]


def test_the_readme_names_exactly_the_types_the_metadata_check_accepts() -> None:
    rows = table_rows()
    assert {row[0].split("`")[1] for row in rows} == set(BEPERKING_GEBRUIK_TYPES)
    assert len(rows) == 4


def test_each_readme_example_is_accepted_and_means_what_the_readme_says() -> None:
    parser = build_parser()
    for label, metadata, command, claim in table_rows():
        given = yaml.safe_load(metadata.split("`")[1])["beperkingGebruik"]
        checked = check_beperking_gebruik(given)
        until = checked.termijn.einddatum if checked.termijn else None
        read = Restriction(checked.type.label, checked.documentatie, until)
        assert read.openness in CLAIMS[claim.split()[0].rstrip(";")], (label, read.openness)
        args = parser.parse_args(shlex.split(command.split("`")[1])[1:])
        decided = restriction_of(args.label, args.ground, args.until)
        assert decided.openness is read.openness and args.handler.__name__ == "cmd_set"
    for example in re.findall(r"^beperkingGebruik: (\{.*\})$", README, flags=re.MULTILINE):
        check_beperking_gebruik(yaml.safe_load(example))  # the metadata file example elsewhere in the README
