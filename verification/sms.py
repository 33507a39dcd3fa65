"""Sending SMS: a small port (``SmsSender``), the operator-visible outbox, retries and a
per-phone rate limit against SMS pumping.

Message bodies may carry one-time codes, so they are never logged; the outbox backend keeps
them encrypted at rest (FieldCipher) and ``livegate outbox`` decrypts them for operators.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .clock import as_utc
from .context import Services
from .errors import DomainError, SmsRateLimited, SmsUnavailable, SmsUndeliverable
from .locks import lock_key
from .models import SmsMessage

log = logging.getLogger("livegate.sms")


# --- what a sender adapter raises --------------------------------------------------------

class SendError(Exception):
    """A sender could not hand the message to the provider."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class PermanentSendError(SendError):
    """The provider refused the message for good (invalid or unreachable number): do not retry."""


class TransientSendError(SendError):
    """Rate limited, a server error or the network: worth trying again shortly."""


class SmsSender(Protocol):
    """Hands one message to a provider; returns the provider's message id."""

    name: str
    keeps_copy: bool  # True: the body is stored (encrypted) for operators instead of being sent

    def send(self, to: str, body: str) -> str: ...


class OutboxSender:
    """The default backend: nothing leaves the machine; the message is stored for operators."""

    name = "outbox"
    keeps_copy = True

    def send(self, to: str, body: str) -> str:
        return "outbox"


# --- the channel: rate limit, record, send with retries ----------------------------------

@dataclass(frozen=True)
class SmsPolicy:
    """Per-phone sending limits and the retry schedule for transient provider errors."""

    max_per_hour: int = 5
    min_interval_seconds: int = 30
    max_attempts: int = 3
    backoff_seconds: float = 0.25
    backoff_max_seconds: float = 2.0


@dataclass
class SmsChannel:
    """Sends through a ``SmsSender`` after checking the per-phone rate limit; records every
    message (without its body unless the backend keeps copies)."""

    svc: Services
    sender: SmsSender
    policy: SmsPolicy = field(default_factory=SmsPolicy)
    sleep: Callable[[float], None] = time.sleep

    def send(self, to: str, body: str, purpose: str) -> int:
        """Send one message now and return its record's id; raises SmsRateLimited,
        SmsUndeliverable or SmsUnavailable."""
        message_id = self._record(to, body, purpose)
        status, provider_id, error, attempts = "failed", None, None, 0
        failure: DomainError | None = None
        try:
            for attempt in range(1, self.policy.max_attempts + 1):
                attempts = attempt
                try:
                    provider_id = self.sender.send(to, body)
                    status = "stored" if self.sender.keeps_copy else "sent"
                    break
                except PermanentSendError as exc:
                    error = f"{exc.code}: {exc}"[:200]
                    failure = SmsUndeliverable(
                        f"the SMS provider refused the phone number ({exc.code}); "
                        "update the phone number and try again", str(exc.code))
                    break
                except TransientSendError as exc:
                    error = f"{exc.code}: {exc}"[:200]
                    log.warning("sms send attempt %d/%d failed: %s", attempt, self.policy.max_attempts,
                                exc.code)
                    if attempt < self.policy.max_attempts:
                        self.sleep(self._backoff(attempt))
            else:
                failure = SmsUnavailable("the SMS provider is not answering; try again shortly",
                                         retry_at=self.svc.clock.now() + timedelta(seconds=30))
        finally:
            self._finish(message_id, status, provider_id, error, attempts)
        if failure is not None:
            raise failure
        return message_id

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.backoff_max_seconds, self.policy.backoff_seconds * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # jitter: retries from many workers spread out

    def _record(self, to: str, body: str, purpose: str) -> int:
        svc = self.svc
        phone_hash = svc.cipher.keyed_hash(to, "phone")
        now = svc.clock.now()
        with svc.db.uow() as session:
            # One writer per phone number at a time, so two requests cannot both slip under the limit.
            lock_key(session, "sms:" + phone_hash[:40])
            check_rate(session, self.policy, phone_hash, now)
            row = SmsMessage(
                phone_hash=phone_hash, phone_enc=svc.cipher.encrypt_text(to, "phone"),
                body_enc=svc.cipher.encrypt_text(body, "sms_body") if self.sender.keeps_copy else None,
                backend=self.sender.name, purpose=purpose, status="queued", attempts=0, created_at=now,
            )
            session.add(row)
            session.commit()
            return row.id

    def _finish(self, message_id: int, status: str, provider_id: str | None, error: str | None,
                attempts: int) -> None:
        with self.svc.db.uow() as session:
            row = session.get_one(SmsMessage, message_id)
            row.status, row.provider_id, row.error, row.attempts = status, provider_id, error, attempts
            session.commit()


def check_rate(session: Session, policy: SmsPolicy, phone_hash: str, now: datetime) -> None:
    """SmsRateLimited when this phone got too many messages in the last hour or one just now."""
    hour_ago = now - timedelta(hours=1)
    rows = session.execute(
        select(func.count(SmsMessage.id), func.max(SmsMessage.created_at))
        .where(SmsMessage.phone_hash == phone_hash, SmsMessage.created_at > hour_ago)
    ).one()
    count, last = rows[0], rows[1]
    if last is not None:
        next_ok = as_utc(last) + timedelta(seconds=policy.min_interval_seconds)
        if next_ok > now:
            raise SmsRateLimited("a code was just sent to this phone; wait before asking again",
                                 retry_at=next_ok)
    if count >= policy.max_per_hour:
        oldest = session.scalar(
            select(SmsMessage.created_at).where(SmsMessage.phone_hash == phone_hash,
                                                SmsMessage.created_at > hour_ago)
            .order_by(SmsMessage.created_at).limit(1))
        retry = as_utc(oldest) + timedelta(hours=1) if oldest is not None else now + timedelta(hours=1)
        raise SmsRateLimited("too many messages to this phone in the last hour", retry_at=retry)


def outbox_messages(svc: Services, session: Session, to: str | None = None,
                    last: int = 20) -> list[dict[str, Any]]:
    """The messages the outbox backend stored, newest first, decrypted for the operator."""
    query = select(SmsMessage).where(SmsMessage.body_enc.is_not(None))
    if to:
        query = query.where(SmsMessage.phone_hash == svc.cipher.keyed_hash(to, "phone"))
    rows = session.scalars(query.order_by(SmsMessage.id.desc()).limit(last))
    return [
        {"id": m.id, "to": svc.cipher.decrypt_text(m.phone_enc, "phone"),
         "body": svc.cipher.decrypt_text(m.body_enc, "sms_body") if m.body_enc else None,
         "purpose": m.purpose, "status": m.status,
         "created_at": as_utc(m.created_at).isoformat().replace("+00:00", "Z")}
        for m in rows
    ]


def build_sender(svc: Services) -> SmsSender:
    """The sender named by LIVEGATE_SMS_BACKEND."""
    s = svc.settings
    if s.sms_backend == "twilio":
        from .adapters.sms_twilio import TwilioSender

        return TwilioSender(account_sid=s.twilio_account_sid or "", auth_token=s.twilio_auth_token or "",
                            from_=s.twilio_from or "", base_url=s.twilio_base_url)
    return OutboxSender()
