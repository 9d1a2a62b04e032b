"""/api/v1/people/ and /api/v1/organisations/: the directory's administration for scripts, the same operations as
the screens, each a thin call of the Depot service acting as the token's person (who may see and change whom is
the service's rule, `edepot.service.people`)."""
from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edepot.web import converters  # noqa: F401  (registers <name:...>)
from edepot.web.api.views import ErrorSerializer, PersonSerializer
from edepot.web.auth import depot_for
from preservation.directory import ROLES

# every refusal an operation may answer, in the one error shape (edepot.web.api.errors)
ERRORS: dict[int, Any] = {code: ErrorSerializer for code in (400, 401, 403, 503)}
ABOUT_SOMEBODY: dict[int, Any] = {**ERRORS, 404: ErrorSerializer}
NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="the person's registered name, a slash in it written %2F and a percent "
                       "sign %25 before the path is URL-encoded (A. de Vries: A.%20de%20Vries)")


class RoleRequestSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
    organisation = serializers.CharField(required=False, allow_null=True, default=None,
                                         help_text="an organisation's identifier; null or left out: every organisation")


class RegistrationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    roles = RoleRequestSerializer(many=True, allow_empty=False)
    password = serializers.CharField(required=False, write_only=True, max_length=1000,
                                     help_text="a first web password (at least 12 characters, not only digits)")


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, max_length=1000)


class TokenSerializer(serializers.Serializer):
    name = serializers.CharField()
    token = serializers.CharField(help_text="the personal token, shown this once (only its sha256 is kept)")


class RegisteredSerializer(serializers.Serializer):
    person = PersonSerializer()
    token = serializers.CharField(help_text="the first personal token, shown this once")


class OrganisationSerializer(serializers.Serializer):
    organisation_id = serializers.CharField(max_length=100, help_text="the identifier, e.g. the TOOI code gm0363")
    name = serializers.CharField(max_length=200)


def given(serializer: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's body, checked against `serializer` (a 400 in the one error shape when it does not fit)."""
    checked = serializer(data=request.data)
    checked.is_valid(raise_exception=True)
    return dict(checked.validated_data)


class PeopleView(APIView):
    @extend_schema(operation_id="people_list", summary="The people the administrator sees, with their roles",
                   responses={200: PersonSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        with depot_for(request._request) as depot:
            found = depot.people()
        return Response([person.to_dict() for person in found])

    @extend_schema(operation_id="people_register", summary="Register a person with roles; their first token",
                   request=RegistrationSerializer, responses={201: RegisteredSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        body = given(RegistrationSerializer, request)
        with depot_for(request._request) as depot:
            person, token = depot.add_person(body["name"], roles=[(r["role"], r["organisation"]) for r in body["roles"]],
                                             password=body.get("password"))
        return Response({"person": person.to_dict(), "token": token}, status=status.HTTP_201_CREATED)


class GrantView(APIView):
    @extend_schema(operation_id="person_grant", summary="Grant a person one more role", parameters=[NAME],
                   request=RoleRequestSerializer, responses={200: PersonSerializer, **ABOUT_SOMEBODY})
    def post(self, request: Request, name: str) -> Response:
        body = given(RoleRequestSerializer, request)
        with depot_for(request._request) as depot:
            person = depot.grant_role(name, role=body["role"], organisation=body["organisation"])
        return Response(person.to_dict())


class DisableView(APIView):
    @extend_schema(operation_id="person_disable", summary="Disable a person: they act no more, their tokens stop",
                   parameters=[NAME], request=None, responses={200: PersonSerializer, **ABOUT_SOMEBODY})
    def post(self, request: Request, name: str) -> Response:
        with depot_for(request._request) as depot:
            person = depot.disable_person(name)
        return Response(person.to_dict())


class TokensView(APIView):
    @extend_schema(operation_id="person_token_issue", summary="Issue a person a new personal token, shown once",
                   parameters=[NAME], request=None, responses={201: TokenSerializer, **ABOUT_SOMEBODY})
    def post(self, request: Request, name: str) -> Response:
        with depot_for(request._request) as depot:
            token = depot.issue_token(name)
        return Response({"name": name, "token": token}, status=status.HTTP_201_CREATED)


class PasswordView(APIView):
    @extend_schema(operation_id="person_password_set", summary="Give a person a new web password",
                   parameters=[NAME], request=PasswordSerializer, responses={204: None, **ABOUT_SOMEBODY})
    def post(self, request: Request, name: str) -> Response:
        body = given(PasswordSerializer, request)
        with depot_for(request._request) as depot:
            depot.set_password(name, body["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganisationsView(APIView):
    @extend_schema(operation_id="organisations_list", summary="The organisations the administrator administers",
                   responses={200: OrganisationSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        with depot_for(request._request) as depot:
            found = depot.organisations_administered()
        return Response([organisation.to_dict() for organisation in found])

    @extend_schema(operation_id="organisations_register", summary="Register an organisation the e-Depot serves",
                   request=OrganisationSerializer, responses={201: OrganisationSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        body = given(OrganisationSerializer, request)
        with depot_for(request._request) as depot:
            added = depot.add_organisation(body["organisation_id"], name=body["name"])
        return Response(added.to_dict(), status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern] = [
    path("people/", PeopleView.as_view(), name="api-people"),
    path("people/<name:name>/roles/", GrantView.as_view(), name="api-person-grant"),
    path("people/<name:name>/disable/", DisableView.as_view(), name="api-person-disable"),
    path("people/<name:name>/tokens/", TokensView.as_view(), name="api-person-token"),
    path("people/<name:name>/password/", PasswordView.as_view(), name="api-person-password"),
    path("organisations/", OrganisationsView.as_view(), name="api-organisations"),
]
