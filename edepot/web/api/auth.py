"""The API's credential: a person's personal token (`edepot user token`), as `Authorization: Token <token>`
(or `Bearer <token>`); the same token the command line takes in $EDEPOT_TOKEN."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from edepot.service.person import token_digest
from edepot.web.auth import depot_for, shadow_user


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request by the personal token of a registered, active person."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Any) -> tuple[Any, str] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("give one token: Authorization: Token <token>")
        django_request: HttpRequest = request._request
        with depot_for(django_request) as depot:
            directory = depot.store.directory
            holder = directory.token_holder(token_digest(header[1]))
            person = directory.person(holder) if holder else None
        if person is None or not person.active:
            raise exceptions.AuthenticationFailed("the token is not a registered, active person's")
        user = shadow_user(person)
        django_request.person = person
        return user, header[1]

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    """The personal token in the OpenAPI schema."""

    target_class = "edepot.web.api.auth.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <token>`: a personal token (`edepot user token NAME`)"}
