"""Single sign-on through the organisation's OpenID Connect provider (Entra ID, Keycloak, ...), with
mozilla-django-oidc: `[web.oidc]` in edepot.toml says where the provider is (its discovery document, fetched once
per process, or its endpoints), this depot's client there, and which of its groups hold which roles here.

A person the provider signs in is registered or updated in the directory by the Depot service, with exactly the
roles their groups map to (`Depot.sign_in_through_provider`); without a mapped group they do not get in.
"""
from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from edepot.web.auth import depot_for, shadow_user
from kernel.errors import EdepotError

ENDPOINT_SETTINGS = {"OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
                     "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint", "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
                     "OIDC_OP_JWKS_ENDPOINT": "jwks_uri"}


@functools.lru_cache(maxsize=4)
def discovered(url: str) -> dict[str, Any]:
    """The provider's discovery document (fetched once per process; a failure is fetched again next time)."""
    import requests

    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def provider_setting(attr: str, *args: Any) -> Any:
    """A mozilla-django-oidc setting; the provider's endpoints from its discovery document unless configured."""
    oidc = settings.EDEPOT_CONFIG.web.oidc
    key = ENDPOINT_SETTINGS.get(attr)
    if key is not None and oidc is not None and key not in oidc.endpoints and oidc.discovery_url:
        return discovered(oidc.discovery_url)[key]
    return import_from_settings(attr, *args)


def grants_of_groups(groups: Any, mapping: dict[str, tuple[str, ...]]) -> list[tuple[str, str | None]]:
    """The roles (role, organisation or None) the provider's `groups` claim maps to; Keycloak's group paths
    ("/archief") match their names too."""
    found: list[tuple[str, str | None]] = []
    for group in groups if isinstance(groups, list) else []:
        for spec in mapping.get(str(group), mapping.get(str(group).lstrip("/"), ())):
            role, _, organisation = spec.partition("@")
            found.append((role, organisation or None))
    return found


class ProviderBackend(OIDCAuthenticationBackend):
    """Signs in the person the provider vouches for, as the directory knows them after the service has
    registered or updated them."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing of the provider is looked up until it is used: a password sign-in never waits for it."""
        self.UserModel = get_user_model()

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if request is None or "password" in kwargs or settings.EDEPOT_CONFIG.web.oidc is None:
            return None
        super().__init__()
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token: str) -> Any:
        """The provider's key that signed `token`: by its key id, or its only key when the token names none
        (the key id is optional, RFC 7515)."""
        import jwt
        import requests
        from django.core.exceptions import SuspiciousOperation

        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        answer = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=self.get_settings("OIDC_TIMEOUT", None))
        answer.raise_for_status()
        keys = answer.json()["keys"]
        if len(keys) != 1:
            raise SuspiciousOperation("the ID token names no key, and the provider has several")
        return jwt.PyJWK(keys[0])

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        oidc = settings.EDEPOT_CONFIG.web.oidc
        assert oidc is not None
        claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}  # Entra's groups: ID token only
        name = claims.get(oidc.name_claim)
        if not isinstance(name, str) or not name.strip():
            return None
        with depot_for(self.request, name=name) as depot:
            try:
                person = depot.sign_in_through_provider(grants_of_groups(claims.get(oidc.groups_claim), oidc.groups))
            except EdepotError:
                return None
        return shadow_user(person)


class ProviderRequestView(OIDCAuthenticationRequestView):
    """On to the provider's sign-in."""

    get_settings = staticmethod(provider_setting)


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    """Back from the provider: signed in, or the sign-in form saying it did not work."""

    get_settings = staticmethod(provider_setting)
