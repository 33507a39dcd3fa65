"""Tipping test helpers: verified subjects without face checks (rows made the way
``cases._approve`` makes them), real tokens, and a step-up driver that reads the SMS outbox."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from verification import access
from verification.models import Identity, Subject
from verification.sms import outbox_messages

_numbers = itertools.count(1)


def make_subject(svc, external_id: str, *, birth_date: date | None = date(1990, 5, 17),
                 phone: str | None = "+8613800138000", approval_days: float | None = None,
                 verified: bool = True) -> str:
    """A subject with an identity and (by default) a live approval, as an approved case leaves it."""
    now = svc.clock.now()
    with svc.db.uow() as session:
        number = f"T{next(_numbers):09d}{external_id}"[:32]
        identity = Identity(
            number_hash=svc.cipher.keyed_hash(number, "document_number"),
            number_enc=svc.cipher.encrypt_text(number, "document_number"),
            name_enc=svc.cipher.encrypt_text("Test Person", "name"),
            name_hash=svc.cipher.keyed_hash("Test Person", "name"), document_type="cn_resident_id",
            birth_date=birth_date, created_at=now)
        session.add(identity)
        session.flush()
        subject = Subject(external_id=external_id, created_at=now,
                          phone_enc=svc.cipher.encrypt_text(phone, "phone") if phone else None)
        if verified:
            subject.identity_id = identity.id
            subject.verified_at = now
            subject.approval_expires_at = now + timedelta(
                days=svc.settings.approval_valid_days if approval_days is None else approval_days)
            subject.level = "document+face"
            subject.birth_date = birth_date
        session.add(subject)
        session.commit()
    return external_id


def token_for(svc, external_id: str, audience: str = "tipping") -> str:
    with svc.db.uow() as session:
        token, _ = access.issue_token(svc, session, external_id, audience)
        return token


def blacklist(svc, external_id: str) -> None:
    with svc.db.uow() as session:
        subject = session.scalar(select(Subject).where(Subject.external_id == external_id))
        subject.identity.blacklisted = True
        session.commit()


def last_code(svc, phone: str | None = None) -> str:
    """The code in the newest outbox message (to ``phone`` if given): what the tipper reads."""
    with svc.db.uow() as session:
        messages = outbox_messages(svc, session, to=phone, last=1)
    assert messages, f"no SMS to {phone or 'anyone'} in the outbox"
    body = messages[0]["body"]
    return body.split("LiveGate: ", 1)[1][:6]
