"""The screens speak Dutch first and English through Django's i18n: every Dutch text in the web's templates and
code has its English translation in edepot/web/locale/en (a text added without one fails here)."""
from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

WEB = REPO / "edepot" / "web"
ENGLISH = WEB / "locale" / "en" / "LC_MESSAGES" / "django.po"

_EXTRACT = """
import django
from django.conf import settings
settings.configure(USE_I18N=True, LOCALE_PATHS=[], INSTALLED_APPS=[], TEMPLATES=[
    {"BACKEND": "django.template.backends.django.DjangoTemplates"}])
django.setup()
from django.core.management import call_command
call_command("makemessages", locale=["en"], no_location=True, verbosity=0)
"""


def _catalog(po: Path, tmp_path: Path) -> dict[str, str]:
    """The translated texts of a .po file, compiled by msgfmt (which leaves untranslated ones out)."""
    mo = tmp_path / f"{po.parent.parent.parent.name}-{abs(hash(po))}.mo"
    subprocess.run(["msgfmt", "-o", str(mo), str(po)], check=True)
    with mo.open("rb") as compiled:
        catalog: dict[object, str] = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    return {str(key if isinstance(key, str) else key[0]): value for key, value in catalog.items() if key}


def test_every_dutch_text_of_the_screens_has_its_english_translation(tmp_path: Path) -> None:
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy, ignore=shutil.ignore_patterns("static", "locale", "__pycache__"))
    (copy / "locale").mkdir()
    subprocess.run([sys.executable, "-c", _EXTRACT], cwd=copy, check=True, capture_output=True, text=True)
    extracted = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    subprocess.run(["msgen", "-o", str(extracted), str(extracted)], check=True)  # each text its own msgstr
    wanted = _catalog(extracted, tmp_path)
    english = _catalog(ENGLISH, tmp_path)
    untranslated = sorted(text for text in wanted if not english.get(text))
    assert len(wanted) >= 10 and untranslated == [], (
        "add these to edepot/web/locale/en/LC_MESSAGES/django.po (makemessages -l en in edepot/web):\n"
        + "\n".join(untranslated))
