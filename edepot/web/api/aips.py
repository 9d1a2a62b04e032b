"""/api/v1/aips/: the AIPs a person may see, filtered and paged, and one AIP with its record's description,
versions, files, replicas, events and own DIPs; the same service calls as the screens (`AipPagesService`)."""
from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edepot.service.aip_pages import MOST, PAGE, STATES, AipOverview
from edepot.web.aips.query import aip_query, place
from edepot.web.api.views import ErrorSerializer
from edepot.web.auth import depot_for
from preservation.catalogue import AipRecord

ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403)}
ABOUT_ONE: dict[int, Any] = {**ERRORS, 404: ErrorSerializer}


class AipSerializer(serializers.Serializer):
    aip_id = serializers.CharField()
    record_id = serializers.CharField(help_text="the record's kenmerk")
    title = serializers.CharField(allow_blank=True)
    organisation = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField(help_text="when it was ingested")
    state = serializers.CharField(help_text="stored, damaged, incomplete, destroying or destroyed")
    payload_files = serializers.IntegerField()
    payload_bytes = serializers.IntegerField()


class AipPageSerializer(serializers.Serializer):
    aips = AipSerializer(many=True, help_text="newest first")
    count = serializers.IntegerField(help_text="how many AIPs the filters match in all")
    more = serializers.CharField(allow_null=True, help_text="the `before` that asks for the next, older AIPs; null "
                                                            "when there are none")


def _aip(aip: AipRecord) -> dict[str, Any]:
    return {"aip_id": aip.aip_id, "record_id": aip.record_id, "title": aip.title, "organisation": aip.organisation,
            "created": aip.created, "state": aip.state.value, "payload_files": aip.payload_files,
            "payload_bytes": aip.payload_bytes}


class AipListView(APIView):
    """The AIPs of the person's organisations, newest first, a page at a time."""

    @extend_schema(operation_id="aips_list", responses={200: AipPageSerializer, **ERRORS}, parameters=[
        OpenApiParameter("organisation", str, description="one organisation's AIPs"),
        OpenApiParameter("since", str, description="the record's period ends on or after this date (YYYY-MM-DD)"),
        OpenApiParameter("until", str, description="the record's period begins on or before this date"),
        OpenApiParameter("state", str, enum=list(STATES), description="kept: not destroyed; held: under a hold; "
                                                                      "due: due for destruction or transfer"),
        OpenApiParameter("file_format", str, description="holding a file of this PUID, or whose format's name holds this"),
        OpenApiParameter("before", str, description="AIPs older than this AIP (`more` of the page before)"),
        OpenApiParameter("limit", int, description=f"AIPs on the page (default {PAGE}, at most {MOST})"),
    ])
    def get(self, request: Request) -> Response:
        query = aip_query(request.query_params)
        with depot_for(request._request) as depot:
            page = depot.aip_page(query.filters, before=query.before, limit=query.limit)
        return Response({"aips": [_aip(a) for a in page.aips], "count": page.count,
                         "more": page.aips[-1].aip_id if page.more else None})


class DescriptionSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    archiefvormer = serializers.CharField(allow_blank=True)
    archiefvormer_id = serializers.CharField(allow_blank=True)
    period = serializers.ListField(child=serializers.DateField(allow_null=True), help_text="begin and end")
    classificatie = serializers.ListField(child=serializers.CharField())
    openness = serializers.CharField(help_text="openbaar, beperkt openbaar, nader te bepalen or niet openbaar")
    until = serializers.DateField(allow_null=True, help_text="the last day of a restriction")
    grounds = serializers.ListField(child=serializers.CharField())


class ScheduleSerializer(serializers.Serializer):
    waardering = serializers.CharField()
    looptijd = serializers.CharField(allow_null=True)
    destruction_date = serializers.DateField(allow_null=True)
    transfer_date = serializers.DateField(allow_null=True)
    why = serializers.CharField()


class VersionSerializer(serializers.Serializer):
    aip_id = serializers.CharField()
    version = serializers.IntegerField()
    created = serializers.DateTimeField()
    state = serializers.CharField()


class FileSerializer(serializers.Serializer):
    path = serializers.CharField()
    role = serializers.CharField(help_text="original, preservation, metadata or tag")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    puid = serializers.CharField(allow_null=True)
    format_name = serializers.CharField(allow_null=True)


class ReplicaSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="the storage location's identity")
    location_name = serializers.CharField()
    status = serializers.CharField(help_text="intact, repaired, damaged or missing")
    last_verified = serializers.DateTimeField(allow_null=True)


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    type = serializers.CharField()
    date_time = serializers.DateTimeField()
    outcome = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    agents = serializers.ListField(child=serializers.CharField(), help_text="person:NAME for the person who did it")


class DipSerializer(serializers.Serializer):
    dip_id = serializers.CharField()
    created = serializers.DateTimeField()
    files = serializers.IntegerField()
    download = serializers.CharField(help_text="the zip's URL (a signed-in browser session)")


class AipDetailSerializer(serializers.Serializer):
    aip = AipSerializer()
    description = DescriptionSerializer(allow_null=True, help_text="null when the MDTO could not be read")
    schedule = ScheduleSerializer(allow_null=True)
    held = serializers.BooleanField()
    versions = VersionSerializer(many=True)
    files = FileSerializer(many=True)
    files_count = serializers.IntegerField()
    files_next = serializers.IntegerField(allow_null=True, help_text="the `files_from` of the next files")
    replicas = ReplicaSerializer(many=True)
    events = EventSerializer(many=True, help_text="newest first")
    events_more = serializers.IntegerField(allow_null=True, help_text="the `events_before` of the older events")
    dips = DipSerializer(many=True, help_text="the archive's own DIPs of this AIP (for those who may make them)")


def _detail(o: AipOverview) -> dict[str, Any]:
    d, s, files = o.description, o.schedule, o.files
    shown = files.offset + len(files.files)
    return {
        "aip": _aip(o.aip),
        "description": None if d is None else {
            "title": d.title, "archiefvormer": d.archiefvormer, "archiefvormer_id": d.archiefvormer_id,
            "period": list(d.period), "classificatie": list(d.classificatie), "openness": d.openness.value,
            "until": d.until, "grounds": list(d.grounds)},
        "schedule": None if s is None else {"waardering": s.waardering, "looptijd": s.looptijd,
                                            "destruction_date": s.destruction_date, "transfer_date": s.transfer_date,
                                            "why": s.why},
        "held": o.held,
        "versions": [{"aip_id": v.aip_id, "version": v.version, "created": v.created, "state": v.state}
                     for v in o.versions],
        "files": [{"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256, "puid": f.puid,
                   "format_name": f.format_name} for f in files.files],
        "files_count": files.count, "files_next": shown if shown < files.count else None,
        "replicas": [{"location": r.replica.location, "location_name": r.location_name,
                      "status": r.replica.status.value, "last_verified": r.replica.last_verified} for r in o.replicas],
        "events": [{"event_id": e.identifier, "type": e.type, "date_time": e.date_time, "outcome": e.outcome,
                    "detail": e.detail, "agents": list(e.agents)} for _, e in o.events.events],
        "events_more": o.events.events[-1][0] if o.events.more else None,
        "dips": [{"dip_id": dip.dip_id, "created": dip.created, "files": dip.files,
                  "download": reverse("aip-dip-download", args=[o.aip.aip_id, dip.dip_id])} for dip in o.dips],
    }


class AipView(APIView):
    """One AIP of the person's organisations (destroyed ones too); another organisation's is not found."""

    @extend_schema(operation_id="aip", responses={200: AipDetailSerializer, **ABOUT_ONE}, parameters=[
        OpenApiParameter("aip_id", str, OpenApiParameter.PATH),
        OpenApiParameter("files_from", int, description="the files from this place on (`files_next`)"),
        OpenApiParameter("events_before", int, description="the events older than this one (`events_more`)"),
    ])
    def get(self, request: Request, aip_id: str) -> Response:
        params = request.query_params
        with depot_for(request._request) as depot:
            overview = depot.aip_overview(aip_id, events_before=place(params.get("events_before", "")),
                                          files_from=place(params.get("files_from", "")) or 0)
        return Response(AipDetailSerializer(_detail(overview)).data)


urlpatterns: list[URLPattern] = [
    path("aips/", AipListView.as_view(), name="api-aips"),
    path("aips/<str:aip_id>/", AipView.as_view(), name="api-aip"),
]
