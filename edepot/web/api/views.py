"""The API's operations: each a thin call of the Depot service acting as the authenticated person."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edepot.web.auth import depot_for


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
