"""Signing keys: created on first run, rotated on demand, old public keys kept until their tokens expire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .context import Services
from .models import SigningKey
from .tokens import KeyPair, TokenService, load_key_pair, new_key_pair

_CONTEXT = "signing_key"


def rotate_keys(svc: Services, session: Session, actor: str = "system") -> str:
    """Add a new signing key; it signs from now on. Returns its kid."""
    now = svc.clock.now()
    pair, pem, der = new_key_pair(now)
    session.add(SigningKey(kid=pair.kid, algorithm="EdDSA", public_pem=pem,
                           private_enc=svc.cipher.encrypt(der, _CONTEXT.encode()), created_at=now))
    for old in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None),
                                                        SigningKey.kid != pair.kid)):
        old.retired_at = now
    audit.append(session, at=now, actor=actor, action="signing_key.created", object_type="signing_key",
                 object_id=pair.kid)
    return pair.kid


def ensure_signing_key(svc: Services) -> None:
    """Create the first key if there is none (first run)."""
    with svc.db.uow() as session:
        if session.scalar(select(SigningKey.kid).limit(1)) is None:
            rotate_keys(svc, session)
            session.commit()


def published_keys(svc: Services, session: Session) -> list[KeyPair]:
    """Keys whose tokens may still be alive: the live one and any retired within a token lifetime."""
    horizon = svc.clock.now() - timedelta(seconds=svc.settings.token_ttl_seconds + 60)
    out = []
    for row in session.scalars(select(SigningKey).order_by(SigningKey.created_at)):
        if row.retired_at is not None and _aware(row.retired_at) < horizon:
            continue
        der = svc.cipher.decrypt(row.private_enc, _CONTEXT.encode()) if row.retired_at is None else None
        out.append(load_key_pair(row.kid, row.public_pem, der, _aware(row.created_at),
                                 _aware(row.retired_at) if row.retired_at else None))
    return out


def token_service(svc: Services, session: Session) -> TokenService:
    return TokenService(published_keys(svc, session), svc.settings.issuer, svc.settings.token_ttl_seconds)


def _aware(value):
    from .clock import as_utc

    return as_utc(value)
