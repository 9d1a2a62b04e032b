"""The read-only admin: every catalogue table for the e-Depot's administrators to look at, and nothing to change.

No one may add, change or delete a row, there are no actions (so no bulk delete), and the save and delete hooks
refuse as well, so the admin never writes the catalogue. Only people the directory holds as administrator for
every organisation are let in, signed in through the web's own sign-in (`edepot.web.auth`): the catalogue holds
restricted records of every organisation, and who may see what is the Depot service's to decide, not the admin's.
"""
from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from preservation.catalogue_db import models as m
from preservation.directory import ADMINISTRATOR, RoleGrant


def is_administrator(request: HttpRequest) -> bool:
    """Whether the person signed in on `request` is, in the directory now, an administrator for every
    organisation (the only people the admin admits)."""
    person = getattr(request, "person", None)
    return person is not None and RoleGrant(ADMINISTRATOR) in person.roles


class EdepotAdminSite(admin.AdminSite):
    site_header = "edepot catalogue (read-only)"
    site_title = "edepot admin"
    index_title = "Catalogue"
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The web's own sign-in; a person signed in who is no administrator is refused (not sent round again)."""
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")), reverse("sign-in"))


class ReadOnlyAdmin(admin.ModelAdmin):
    """A catalogue table to look at: its rows listed and each shown, none added, changed or deleted."""

    actions = None
    list_per_page = 50
    show_full_result_count = False  # no second COUNT(*) over a table of millions of messages

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        raise PermissionDenied

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        raise PermissionDenied


# What each table's list shows, filters on and searches; a table not named here is still shown, with defaults.
VIEWS: dict[type, dict[str, tuple[Any, ...]]] = {
    m.Aip: {"list_display": ("aip_id", "record_id", "title", "state", "created", "payload_files", "payload_bytes"),
            "list_filter": ("state", "created"), "search_fields": ("=aip_id", "record_id", "title", "=sip_digest")},
    m.Replica: {"list_display": ("aip_id", "location", "status", "last_verified", "path"),
                "list_filter": ("location", "status"), "search_fields": ("=aip__aip_id", "path")},
    m.File: {"list_display": ("aip_id", "path", "role", "size", "puid", "format_name", "mime_type"),
             "list_filter": ("role", "mime_type"), "search_fields": ("=aip__aip_id", "path", "=sha256", "=puid")},
    m.Event: {"list_display": ("date_time", "type", "outcome", "aip_id", "event_id", "detail"),
              "list_filter": ("type", "outcome"), "search_fields": ("=event_id", "=aip__aip_id", "detail"),
              "ordering": ("-date_time", "-id")},
    m.Identification: {"list_display": ("aip_id", "path", "tool", "puid", "format_name", "mime_type"),
                       "list_filter": ("tool",), "search_fields": ("=aip__aip_id", "path", "=puid")},
    m.AipVersion: {"list_display": ("aip_id", "version", "previous_aip_id", "first_aip"),
                   "search_fields": ("=aip__aip_id", "=first_aip")},
    m.Dip: {"list_display": ("dip_id", "aip_id", "created", "path"), "search_fields": ("dip_id", "=aip__aip_id")},
    m.FileLoss: {"list_display": ("aip_id", "path", "declared", "declared_by", "reason"),
                 "search_fields": ("=aip__aip_id", "path")},
    m.Retention: {"list_display": ("record_id", "aip_id", "title", "updated"),
                  "search_fields": ("record_id", "=aip_id", "title")},
    m.AppraisalChange: {"list_display": ("record_id", "at", "action", "by", "reason"), "list_filter": ("action",),
                        "search_fields": ("record_id", "by")},
    m.Hold: {"list_display": ("hold_id", "record_id", "placed_by", "placed_at", "lifted_by", "lifted_at"),
             "list_filter": (("lifted_at", admin.EmptyFieldListFilter),),
             "search_fields": ("=hold_id", "record_id", "reason", "placed_by")},
    m.DestructionList: {"list_display": ("list_id", "created", "digest"), "search_fields": ("list_id",)},
    m.DestructionApproval: {"list_display": ("destruction_list_id", "by", "role", "at"), "list_filter": ("role",),
                            "search_fields": ("=destruction_list__list_id", "by")},
    m.DestructionStep: {"list_display": ("list_id", "record_id", "step", "target", "state", "at"),
                        "list_filter": ("step", "state"), "search_fields": ("list_id", "record_id")},
    m.Tombstone: {"list_display": ("record_id", "list_id", "destroyed"), "search_fields": ("record_id", "list_id")},
    m.AccessPermit: {"list_display": ("permit_id", "record_id", "grantee", "until", "granted_by", "granted"),
                     "search_fields": ("=permit_id", "record_id", "grantee")},
    m.AccessDip: {"list_display": ("dip_id", "requester", "role", "state", "created", "expires", "files"),
                  "list_filter": ("state", "role"), "search_fields": ("dip_id", "requester", "purpose")},
    m.AccessDipAip: {"list_display": ("dip_id", "aip_id", "record_id", "decision", "messages", "redactions"),
                     "list_filter": ("decision",), "search_fields": ("dip__dip_id", "=aip_id", "record_id")},
    m.AccessLogEntry: {"list_display": ("entry_id", "at", "action", "actor", "requester", "dip_id"),
                       "list_filter": ("action",), "search_fields": ("actor", "requester", "purpose", "dip_id"),
                       "ordering": ("-entry_id",)},
    m.RestrictionDecision: {"list_display": ("record_id", "at", "by", "label", "until"), "list_filter": ("label",),
                            "search_fields": ("record_id", "by")},
    m.SearchMeta: {"list_display": ("key", "value")},
    m.SearchRecord: {"list_display": ("aip_id", "record_id", "title", "access", "current", "messages"),
                     "list_filter": ("access", "current"), "search_fields": ("=aip_id", "record_id", "title")},
    m.SearchSender: {"list_display": ("sender_key", "name"), "search_fields": ("name",)},
    m.SearchMessage: {"list_display": ("message_id", "record_key", "seq", "ts", "sender_key", "kind", "body"),
                      "list_filter": ("kind",)},
}

site = EdepotAdminSite(name="admin")
for model in apps.get_app_config("catalogue").get_models():
    site.register(model, ReadOnlyAdmin, **VIEWS.get(model, {}))
