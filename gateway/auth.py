"""Bearer authentication: API clients by key, the mobile app by its case's client secret."""

from __future__ import annotations

from flask import g, request

from verification import cases as case_uc
from verification.clients import authenticate
from verification.errors import CaseNotFound
from verification.models import ApiClient, Case

from .errors import ApiError


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def require_client(session, scope: str) -> ApiClient:
    """The calling API client, which must hold ``scope``."""
    key = bearer()
    if not key:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <API key>")
    client = authenticate(session, key)
    if client is None:
        raise ApiError(401, "unauthorized", "the API key is not valid")
    if scope not in client.scopes:
        raise ApiError(403, "forbidden", f"this client lacks the {scope!r} scope")
    g.client_name = client.name
    return client


def require_case_access(session, case_id: str) -> tuple[Case, str]:
    """The case, if the caller is a platform client with scope ``cases`` or holds its client secret."""
    key = bearer() or request.headers.get("X-Client-Secret")
    if not key:
        raise ApiError(401, "unauthorized", "send the API key or the case's client secret")
    client = authenticate(session, key) if key.startswith("lg_") else None
    try:
        case = case_uc.get_case(session, case_id)
    except CaseNotFound:
        if client is None:  # say nothing about which case ids exist to an unknown caller
            raise ApiError(401, "unauthorized", "the credentials are not valid for this case") from None
        raise
    if client is not None:
        if "cases" not in client.scopes:
            raise ApiError(403, "forbidden", "this client lacks the 'cases' scope")
        return case, f"client:{client.name}"
    if case_uc.check_client_secret(case, key):
        return case, "app"
    raise ApiError(401, "unauthorized", "the credentials are not valid for this case")
