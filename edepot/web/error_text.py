"""The screens' words for the Depot service's errors, by their reference: a sentence in the reader's language,
then the service's own message (in English, as on the command line) and the reference to quote."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from kernel.errors import EdepotError

TEXT = {
    "E100": gettext_lazy("Dat kan zo niet."),
    "E105": gettext_lazy("Dat is niet gevonden."),
    "E112": gettext_lazy("U bent niet aangemeld."),
    "E113": gettext_lazy("U staat niet (meer) als actieve gebruiker geregistreerd."),
    "E114": gettext_lazy("Dat mag u niet doen."),
    "E115": gettext_lazy("Hiervoor moet u zich opnieuw aanmelden."),
    "E130": gettext_lazy("Dit deel van de upload past niet op wat de server al heeft."),
    "E131": gettext_lazy("Dat bestand is te groot."),
    "E300": gettext_lazy("Het pakket is afgewezen."),
    "E500": gettext_lazy("De opslag gaf een fout. Probeer het later opnieuw of waarschuw de beheerder."),
}


@dataclass(frozen=True)
class ShownError:
    """An error as a screen shows it."""

    reference: str
    text: str
    message: str
    hint: str


def shown_error(error: EdepotError) -> ShownError:
    """`error` in words for the screen: the sentence of its reference (or of its kind), its message and hint."""
    sentence = TEXT.get(error.ref) or TEXT["E500" if error.ref.startswith("E5") else "E100"]
    return ShownError(error.ref, str(sentence), str(error), error.hint or "")
