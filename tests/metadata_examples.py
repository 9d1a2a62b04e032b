"""A metadata file that uses every key edepot knows, as a records manager would write it from a zaak system.

Shared by the record, MDTO, ToPX and SIP tests, so each key is shown once and checked in every standard."""
from __future__ import annotations

EVERY_KEY_YAML = """\
# Metadata uit het zaaksysteem voor één WhatsApp-export
naam: WhatsApp-gesprek wethouder Jansen - beleidsmedewerker De Vries over herinrichting Marktplein
identificatie:
  kenmerk: WA-2024-000123
  bron: Zaaksysteem Gemeente Voorbeeldstad
archiefvormer:
  naam: Gemeente Voorbeeldstad
  identificatie: {kenmerk: gm9999, bron: TOOI}
aggregatieniveau: Archiefstuk
classificatie:
  - {label: Ruimtelijke ordening, code: RO-03, begrippenlijst: Zaaktypecatalogus Voorbeeldstad}
informatiecategorie:
  code: "21.1"
  label: Adviseren - Verstrekt
  begrippenlijst: Selectielijst gemeenten en intergemeentelijke organen 2020
trefwoord: [Marktplein, herinrichting]
omschrijving: Zakelijk chatgesprek over de herinrichting van het Marktplein.
dekkingInRuimte:
  - Voorbeeldstad
  - naam: Marktplein
    identificatie: {kenmerk: "0999300000000001", bron: BAG}
taal: nl
zaak:
  - identificatie: {kenmerk: ZAAK-2024-0017, bron: Zaaksysteem Gemeente Voorbeeldstad}
    naam: Herinrichting Marktplein
  - identificatie: {kenmerk: ZAAK-2023-0412, bron: Zaaksysteem Gemeente Voorbeeldstad}
    naam: Marktverordening
    relatie: Refereert aan
betrokkene:
  - {naam: Wethouder Jansen, rol: Belanghebbende, soort: persoon}
  - naam: Marktvereniging Voorbeeldstad
    rol: Indiener
    soort: organisatie
    identificatie: {kenmerk: "40123456", bron: KvK}
waardering: vernietigen
bewaartermijn:
  looptijd: P5Y
  trigger: Afsluiting zaak
  startdatum: 2024-03-14
beperkingGebruik:
  type: Overig
  nadereBeschrijving: Bevat persoonsgegevens van marktkooplieden.
  documentatie: Woo art. 5.1 lid 2 sub e
  termijn: {einddatum: 2034-03-14}
"""
