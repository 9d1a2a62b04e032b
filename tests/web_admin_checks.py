"""The admin's checks, run by tests/test_web_admin.py in a process of its own with the web's settings
(DJANGO_SETTINGS_MODULE=edepot.web.settings) on a data directory holding real AIPs, `[web] admin = true`.

Not collected by the test run itself (Django's settings are the process's, and there they are the command line's).
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterator

import django
import pytest

assert os.environ.get("DJANGO_SETTINGS_MODULE") == "edepot.web.settings", "run by tests/test_web_admin.py"
django.setup()

from django.apps import apps  # noqa: E402  (after django.setup)
from django.core.management import call_command  # noqa: E402
from django.db import models  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.html import escape  # noqa: E402

from tests.web_server import enrolled_key, totp  # noqa: E402

PASSWORD = "een-lang-wachtwoord-2026"
ADMIN = "T. Beheerder"  # tests/conftest.py's TEST_OPERATOR, registered as administrator by tests/test_web_admin.py
CATALOGUE_MODELS = list(apps.get_app_config("catalogue").get_models())


@pytest.fixture(scope="module", autouse=True)
def web_tables() -> Iterator[None]:
    """The directory's people: T. Beheerder (administrator, from the test), a records manager, and an
    administrator who was disabled; each with a shadow user, as after a sign-in."""
    from django.conf import settings

    from edepot.service import Depot
    from edepot.service.person import Person
    from edepot.web.auth import shadow_user

    setup_test_environment()  # the test client's host, and the templates' context on each response
    call_command("migrate", verbosity=0, interactive=False)
    with Depot(settings.EDEPOT_CONFIG, person=Person(ADMIN), vouched=True) as depot:
        depot.set_password(ADMIN, PASSWORD)
        for name, role in (("medewerker", "records-manager"), ("vertrokken", "administrator")):
            depot.add_person(name, roles=[(role, None)], password=PASSWORD)
        depot.disable_person("vertrokken")
        for person in depot.people():
            shadow_user(person)
    yield


def signed_in(username: str) -> Client:
    """A client signed in as `username`, as after both steps of the sign-in (password and second factor)."""
    from edepot.web.sign_in import SECOND_FACTOR

    client = Client()
    client.force_login(apps.get_model("accounts", "User").objects.get(username=username))
    session = client.session
    session[SECOND_FACTOR] = True
    session.save()
    return client


def url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def catalogue_rows() -> dict[str, list[dict[str, Any]]]:
    return {model._meta.db_table: list(model.objects.order_by("pk").values()) for model in CATALOGUE_MODELS}


def shown_value(row: models.Model) -> str:
    """A short text the detail page of `row` must show: its first non-empty one-line text field."""
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        if isinstance(field, (models.CharField, models.TextField)) and value and "\n" not in value and len(value) < 200:
            return str(value)
    raise AssertionError(f"{row._meta.db_table} has no short text to look for")


def test_someone_not_signed_in_is_sent_to_the_sign_in() -> None:
    client = Client()
    for path in ("/admin/", url(CATALOGUE_MODELS[0], "changelist")):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path


def test_people_who_are_no_administrator_now_are_refused() -> None:
    for username in ("medewerker", "vertrokken"):
        client = signed_in(username)
        for path in ("/admin/", url(CATALOGUE_MODELS[0], "changelist")):
            response = client.get(path, follow=True)
            assert response.status_code in (403, 200), (username, path)
            assert b"Catalogue" not in response.content, (username, path)
    client = Client()
    client.post("/sign-in/", {"username": "medewerker", "password": PASSWORD})
    assert client.get("/admin/", follow=True).status_code == 403
    refused = Client().post("/sign-in/", {"username": "vertrokken", "password": PASSWORD, "next": "/admin/"})
    assert refused.status_code == 200  # the sign-in form again: a disabled person does not sign in
    admitted = Client()
    answer = admitted.post("/sign-in/", {"username": ADMIN, "password": PASSWORD, "next": "/admin/"})
    assert answer.status_code == 302 and answer["Location"] == "/sign-in/enrol/"  # an administrator's second factor
    key = enrolled_key(admitted.get("/sign-in/enrol/").content.decode())
    answer = admitted.post("/sign-in/enrol/", {"code": totp(key, int(time.time()) // 30)})
    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert admitted.get("/admin/").status_code == 200


def test_an_administrator_sees_every_catalogue_table_and_each_row_with_its_data() -> None:
    client = signed_in(ADMIN)
    index = client.get("/admin/")
    assert index.status_code == 200
    for model in CATALOGUE_MODELS:
        listed = client.get(url(model, "changelist"))
        assert listed.status_code == 200, model
        assert listed.context["cl"].result_count == model.objects.count() > 0, model
        assert b"delete_selected" not in listed.content, model  # no actions, so no bulk delete
        assert escape(str(model._meta.verbose_name_plural)).encode() in index.content.lower(), model
        searched = client.get(url(model, "changelist"), {"q": "WA-2024"})
        assert searched.status_code == 200, model
        row = model.objects.order_by("pk").first()
        shown = client.get(url(model, "change", row.pk))
        assert shown.status_code == 200, model
        assert not shown.context["has_change_permission"] and escape(shown_value(row)).encode() in shown.content, model


def test_the_lists_search_and_filter_real_rows() -> None:
    from preservation.catalogue_db import models as m

    client = signed_in(ADMIN)
    found = client.get(url(m.Aip, "changelist"), {"q": "WA-2024-0104"})
    assert found.context["cl"].result_count == m.Aip.objects.filter(record_id="WA-2024-0104").count() >= 2
    stored = client.get(url(m.Aip, "changelist"), {"state__exact": "stored"})
    assert stored.context["cl"].result_count == m.Aip.objects.filter(state="stored").count() > 0
    lifted = client.get(url(m.Hold, "changelist"), {"lifted_at__isempty": "0"})
    assert lifted.context["cl"].result_count == m.Hold.objects.filter(lifted_at__isnull=False).count()


def test_nothing_can_be_added_changed_or_deleted_and_the_catalogue_is_unchanged() -> None:
    client = signed_in(ADMIN)
    before = catalogue_rows()
    for model in CATALOGUE_MODELS:
        row = model.objects.order_by("pk").first()
        assert client.get(url(model, "add")).status_code == 403, model
        assert client.post(url(model, "change", row.pk), {}).status_code == 403, model
        assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, model
        client.post(url(model, "changelist"), {"action": "delete_selected", "_selected_action": [str(row.pk)],
                                               "post": "yes"})
    assert catalogue_rows() == before


def test_the_accounts_models_have_their_migrations() -> None:
    try:
        call_command("makemigrations", "accounts", check=True, dry_run=True, verbosity=0)
    except SystemExit as exit_:
        pytest.fail(f"a change to the accounts models has no migration (makemigrations --check exited {exit_.code})")
