"""API clients: platform services that call the gateway with a bearer key."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .context import Services
from .errors import Forbidden, InvalidInput
from .models import ApiClient

SCOPES = ("cases", "tokens", "tips", "anchors", "broadcasts", "review")
_PREFIX = "lg_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(svc: Services, session: Session, name: str, scopes: list[str]) -> str:
    """Store a new client and return its key; only the key's hash is kept."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a client name of 1 to 100 characters is required", "name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(f"scopes must be among {', '.join(SCOPES)}", "scope")
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise InvalidInput(f"a client named {name!r} exists already", "name")
    key = _PREFIX + secrets.token_urlsafe(32)
    now = svc.clock.now()
    session.add(ApiClient(name=name, key_prefix=key[:10], key_hash=_digest(key), scopes=sorted(set(scopes)),
                          active=True, created_at=now))
    audit.append(session, at=now, actor="cli", action="client.created", object_type="api_client",
                 object_id=name, data={"scopes": sorted(set(scopes))})
    return key


def authenticate(session: Session, key: str) -> ApiClient | None:
    """The active client holding ``key``, or None."""
    if not key or not key.startswith(_PREFIX) or len(key) > 200:
        return None
    digest = _digest(key)
    for row in session.scalars(select(ApiClient).where(ApiClient.key_prefix == key[:10])):
        if row.active and hmac.compare_digest(row.key_hash, digest):
            return row
    return None


def require_scope(client: ApiClient, scope: str) -> None:
    if scope not in client.scopes:
        raise Forbidden(f"this client lacks the {scope!r} scope", scope=scope)
