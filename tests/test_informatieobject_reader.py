"""The one MDTO informatieobject reader (preservation/metadata/informatieobject.py): values by MDTO path,
repeated elements, and refusal of what is not an informatieobject, with the project's own error."""
from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import MetadataError
from preservation.metadata.informatieobject import Informatieobject, informatieobject_files
from preservation.record_access import record_access_from_mdto
from preservation.retention import appraisal_from_mdto

GOLDEN = Path(__file__).resolve().parent / "golden"


def test_values_by_path_and_repeated_elements_from_an_informatieobject_edepot_wrote() -> None:
    document = (GOLDEN / "informatieobject-every-key.mdto.xml").read_bytes()
    node = Informatieobject.parse(document)
    kenmerk = node.text("identificatie/identificatieKenmerk")
    assert kenmerk and kenmerk in document.decode("utf-8")
    assert node.text("bestaat/niet") is None and node.words("bestaat/niet") == ""
    restrictions = node.all("beperkingGebruik")
    assert restrictions and all(r.words("beperkingGebruikType/begripLabel") for r in restrictions)
    # the three readers agree on what they share
    assert record_access_from_mdto(document).record_id == appraisal_from_mdto(document)["record_id"] == kenmerk
    assert record_access_from_mdto(document).title == node.words("naam")


def test_whitespace_is_trimmed_by_text_and_collapsed_by_words() -> None:
    document = (b'<MDTO xmlns="https://www.nationaalarchief.nl/mdto"><informatieobject>'
                b"<naam>\n  Overleg   Marktplein \n</naam></informatieobject></MDTO>")
    node = Informatieobject.parse(document)
    assert node.text("naam") == "Overleg   Marktplein"
    assert node.words("naam") == "Overleg Marktplein"


@pytest.mark.parametrize("document, message", [
    (b"<MDTO", "not well-formed"),
    (b'<MDTO xmlns="https://www.nationaalarchief.nl/mdto"><bestand/></MDTO>', "no informatieobject"),
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><MDTO xmlns="https://www.nationaalarchief.nl/mdto">'
     b"<informatieobject><naam>&e;</naam></informatieobject></MDTO>", None),
])
def test_what_is_not_an_informatieobject_is_a_metadata_error(document: bytes, message: str | None) -> None:
    if message is None:  # an entity is never expanded: the name stays empty, nothing is read from disk
        assert "root:" not in Informatieobject.parse(document).words("naam")
        return
    with pytest.raises(MetadataError, match=message):
        Informatieobject.parse(document)


def test_the_files_that_may_hold_it(tmp_path: Path) -> None:
    for name in ("b.mdto.xml", "a.mdto.xml", "x.pdf.bestand.mdto.xml", "c.topx.xml"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in informatieobject_files(tmp_path)] == ["a.mdto.xml", "b.mdto.xml"]
    assert informatieobject_files(tmp_path / "absent") == []
