"""The API's operations: each a thin call of the Depot service acting as the authenticated person."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edepot.web.auth import depot_for
from edepot.web.filters import MOST, PAGE, audit_query


class RoleSerializer(serializers.Serializer):
    role = serializers.CharField()
    organisation = serializers.CharField(allow_null=True, help_text="null: every organisation served")


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    active = serializers.BooleanField()
    roles = RoleSerializer(many=True)


class ErrorDetailSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="the error reference, as on the command line (E114, ...)")
    message = serializers.CharField()
    hint = serializers.CharField(allow_blank=True)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERRORS: dict[int, Any] = {401: ErrorSerializer, 403: ErrorSerializer}


class MeView(APIView):
    """The authenticated person: their name and roles."""

    @extend_schema(operation_id="me", responses={200: PersonSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        with depot_for(request._request) as depot:
            person = depot.identified("showing who is signed in")
            found = depot.store.directory.person(person.name)
        assert found is not None
        return Response(PersonSerializer(found.to_dict()).data)


ERRORS_READ: dict[int, Any] = {400: ErrorSerializer, **ERRORS}


def _part(row: type[serializers.Serializer], help_text: str) -> serializers.Serializer:
    """A dashboard part: null when the person's roles do not act on it."""
    part = type(f"{row.__name__.removesuffix('Serializer')}PartSerializer", (serializers.Serializer,), {
        "count": serializers.IntegerField(help_text="how many there are"),
        "first": row(many=True, help_text="the first few"),
    })
    return part(allow_null=True, help_text=help_text)


class AttentionJobSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    kind = serializers.CharField()
    state = serializers.ChoiceField(choices=["failed", "error"])
    organisation = serializers.CharField(allow_blank=True)
    enqueued_by = serializers.CharField()
    created = serializers.DateTimeField()
    error = serializers.CharField(allow_blank=True)


class DamageSerializer(serializers.Serializer):
    aip_id = serializers.CharField()
    record_id = serializers.CharField(allow_blank=True)
    organisation = serializers.CharField(allow_blank=True)
    what = serializers.ChoiceField(choices=["damaged", "missing", "lost"])
    where = serializers.CharField(help_text="the replica's storage location, or the lost file's path")
    since = serializers.DateTimeField(allow_null=True)


class ListToApproveSerializer(serializers.Serializer):
    list_id = serializers.CharField()
    created = serializers.DateTimeField()
    organisation = serializers.CharField(allow_blank=True)
    drawn_up_by = serializers.CharField(allow_blank=True)
    approved_by = serializers.ListField(child=serializers.CharField())


class DueRecordSerializer(serializers.Serializer):
    record_id = serializers.CharField()
    aip_id = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    organisation = serializers.CharField(allow_blank=True)
    due = serializers.ChoiceField(choices=["destruction", "transfer"])
    date = serializers.DateField()


class HeldRecordSerializer(serializers.Serializer):
    record_id = serializers.CharField()
    organisation = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    placed_by = serializers.CharField()
    placed_at = serializers.DateTimeField()


class AttentionSerializer(serializers.Serializer):
    jobs = _part(AttentionJobSerializer, "failed and erred jobs: one's own, and one's organisations' for an "
                                         "archivist or administrator")
    damage = _part(DamageSerializer, "replicas damaged or missing and files declared lost (archivists)")
    approvals = _part(ListToApproveSerializer, "destruction lists awaiting the person's approval")
    due = _part(DueRecordSerializer, "records due for destruction (not held) or transfer")
    holds = _part(HeldRecordSerializer, "active holds")


class DashboardView(APIView):
    """What needs the person's attention now: each part a count and the first few, for their organisations."""

    @extend_schema(operation_id="dashboard", responses={200: AttentionSerializer, **ERRORS_READ},
                   parameters=[OpenApiParameter("organisation", str, description="only this organisation's")])
    def get(self, request: Request) -> Response:
        with depot_for(request._request) as depot:
            attention = depot.attention(organisation=request.query_params.get("organisation") or None)
        return Response(attention.to_dict())


class AuditEntrySerializer(serializers.Serializer):
    entry_id = serializers.IntegerField()
    at = serializers.DateTimeField()
    person = serializers.CharField(allow_blank=True)
    action = serializers.CharField()
    target = serializers.CharField(allow_blank=True)
    organisation = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(choices=["done", "refused", "failed"])
    detail = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_null=True, help_text="null once the keeping period has passed")


class AuditPageSerializer(serializers.Serializer):
    entries = AuditEntrySerializer(many=True, help_text="newest first")
    more = serializers.IntegerField(allow_null=True, help_text="the `before` that asks for the next, older entries; "
                                                              "null when there are none")


class AuditView(APIView):
    """The audit log, newest first, a page at a time; an archivist or administrator of some organisations sees
    their entries and their own."""

    @extend_schema(operation_id="audit", responses={200: AuditPageSerializer, **ERRORS_READ}, parameters=[
        OpenApiParameter("person", str, description="whose actions (case and spacing ignored)"),
        OpenApiParameter("action", str, description="actions beginning with this (e.g. `ingest`, `sign in`)"),
        OpenApiParameter("organisation", str, description="one organisation's entries"),
        OpenApiParameter("since", str, description="from this date or date-time (Europe/Amsterdam unless it "
                                                   "names a zone)"),
        OpenApiParameter("until", str, description="up to this date (to its end) or date-time"),
        OpenApiParameter("before", int, description="entries older than this entry id (`more` of the page before)"),
        OpenApiParameter("limit", int, description=f"entries on the page (default {PAGE}, at most {MOST})"),
    ])
    def get(self, request: Request) -> Response:
        query = audit_query(request.query_params)
        with depot_for(request._request) as depot:
            entries = depot.audit_log(**query.filters())
        more = entries[query.limit - 1].entry_id if len(entries) > query.limit else None
        return Response({"entries": [e.to_dict() for e in entries[:query.limit]], "more": more})
