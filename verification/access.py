"""Tokens for verified subjects, and the gateway's own token check (with revocation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .cases import live_subject
from .clock import as_utc
from .context import Services
from .errors import InvalidInput, TokenInvalid
from .keys import token_service
from .models import Subject
from .tokens import AUDIENCES


@dataclass(frozen=True)
class TokenCheck:
    """A token that passed every check, with the subject it names."""

    claims: dict[str, Any]
    subject: Subject


def issue_token(svc: Services, session: Session, subject_id: str, audience: str) -> tuple[str, datetime]:
    """A token for a subject with a live approval (NotVerified otherwise)."""
    if audience not in AUDIENCES:
        raise InvalidInput(f"audience must be one of {', '.join(AUDIENCES)}", "audience")
    if not isinstance(subject_id, str) or not subject_id:
        raise InvalidInput("subject_id is required", "subject_id")
    subject = live_subject(svc, session, subject_id)
    now = svc.clock.now()
    from .age import is_adult, local_today

    adult = bool(subject.birth_date and is_adult(subject.birth_date, local_today(now, svc.settings.timezone)))
    tokens = token_service(svc, session)
    return tokens.issue(subject=subject.external_id, audience=audience, adult=adult,
                        level=subject.level or "document+face", now=now)


def check_token(svc: Services, session: Session, token: str, audience: str) -> TokenCheck:
    """Signature, expiry and audience, then what only the gateway knows: revocation and re-checks."""
    if not isinstance(audience, str) or audience not in AUDIENCES:
        raise InvalidInput(f"audience must be one of {', '.join(AUDIENCES)}", "audience")
    if not isinstance(token, str):
        raise InvalidInput("token must be a string", "token")
    now = svc.clock.now()
    claims = token_service(svc, session).verify(token, audience=audience, now=now)
    subject = session.scalar(select(Subject).where(Subject.external_id == claims["sub"]))
    if subject is None:
        raise TokenInvalid("the token names an unknown subject", "token_invalid")
    revoked = subject.tokens_revoked_before
    if revoked is not None and claims["iat"] <= int(as_utc(revoked).timestamp()):
        raise TokenInvalid("the token was revoked", "token_revoked")
    try:
        live_subject(svc, session, subject.external_id)
    except Exception:
        raise TokenInvalid("the subject's verification is no longer valid", "token_revoked") from None
    return TokenCheck(claims, subject)


def revoke_tokens(svc: Services, session: Session, subject_id: str, actor: str, reason: str) -> None:
    """Every token issued to the subject until now stops working at the gateway."""
    subject = session.scalar(select(Subject).where(Subject.external_id == subject_id))
    if subject is None:
        return
    now = svc.clock.now()
    subject.tokens_revoked_before = now
    audit.append(session, at=now, actor=actor, action="tokens.revoked", object_type="subject",
                 object_id=subject_id, data={"reason": reason})
