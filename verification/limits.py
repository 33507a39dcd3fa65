"""Tip limits (R6–R8): per-tip, day and month caps in calendar periods of the platform's time
zone, an SMS step-up at half a cap, suspension at the cap, and self-limits.

``authorize_tip`` is the use case. The decision, the running totals and the hold commit in one
transaction while the tipper's ``tip_accounts`` row is locked, so concurrent requests for one
tipper take turns and can never go over a cap. The idempotency key is unique per API client:
a retry is answered with the first answer and never counts twice. Sending a step-up code
happens after that transaction (never hold a row lock across a network call).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from . import audit, ledger
from .age import is_adult
from .clock import as_utc
from .context import Services
from .errors import (
    DomainError, IdempotencyConflict, InvalidInput, StepUpEnded, StepUpNotFound,
    SubjectNotFound, TokenInvalid,
)
from .keys import token_service
from .locks import insert_ignore, lock_row
from .models import StepUp, StepUpConfirmation, Subject, TipAccount, TipAuthorization
from .sms import SmsChannel

STEP_UP_TTL = timedelta(minutes=5)
STEP_UP_MAX_ATTEMPTS = 5
# A step-up stuck in "sending" this long (the process died mid-send) may be sent again.
STEP_UP_SEND_STALE = timedelta(seconds=60)
_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
_CODE = re.compile(r"[0-9]{6}")


# --- periods and limits ----------------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    """The tipper's current calendar day and month in the platform's time zone."""

    day_key: str
    month_key: str
    next_day: datetime  # UTC instant of the next local midnight
    next_month: datetime  # UTC instant of local midnight on the 1st of next month


def periods(now: datetime, tz: str) -> Periods:
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    first_next = date(today.year + (today.month == 12), today.month % 12 + 1, 1)

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))

    return Periods(today.isoformat(), today.strftime("%Y-%m"), midnight(tomorrow), midnight(first_next))


@dataclass(frozen=True)
class Limits:
    per_tip: int
    day: int
    month: int

    def view(self) -> dict[str, int]:
        return {"per_tip": self.per_tip, "day": self.day, "month": self.month}


_SELF_FIELDS = (("per_tip", "self_per_tip_fen", "limit_per_tip_fen"),
                ("day", "self_day_fen", "limit_day_fen"),
                ("month", "self_month_fen", "limit_month_fen"))


def effective_limits(svc: Services, account: TipAccount, now: datetime) -> Limits:
    """The platform's caps, lowered by the tipper's own where those are stricter."""
    _apply_pending(account, now)
    values = {}
    for name, column, setting in _SELF_FIELDS:
        platform = getattr(svc.settings, setting)
        own = getattr(account, column)
        values[name] = min(platform, own) if own is not None else platform
    return Limits(**values)


def _apply_pending(account: TipAccount, now: datetime) -> None:
    if account.pending_self_limits is not None and account.pending_effective_at is not None \
            and as_utc(account.pending_effective_at) <= now:
        for name, column, _ in _SELF_FIELDS:
            if name in account.pending_self_limits:
                setattr(account, column, account.pending_self_limits[name])
        account.pending_self_limits = None
        account.pending_effective_at = None


def _roll(account: TipAccount, p: Periods) -> None:
    """Start the new day or month from zero when the calendar has turned."""
    if account.day_key != p.day_key:
        account.day_key, account.day_spent_fen = p.day_key, 0
    if account.month_key != p.month_key:
        account.month_key, account.month_spent_fen = p.month_key, 0


def _account_defaults(subject_id: int) -> dict[str, Any]:
    return {"subject_id": subject_id, "day_key": "", "day_spent_fen": 0, "month_key": "",
            "month_spent_fen": 0}


def lock_account(session: Session, subject_id: int) -> TipAccount:
    """The tipper's account row, created if missing, locked until the transaction ends."""
    return lock_row(session, TipAccount, TipAccount.subject_id, subject_id, _account_defaults(subject_id))


# --- the tip request -----------------------------------------------------------------------

@dataclass(frozen=True)
class TipRequest:
    token: str
    anchor_id: str
    room_id: str
    amount_fen: int
    idempotency_key: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> TipRequest:
        """Validate a request body; InvalidInput names the first bad field."""
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidInput("token is required", "token")
        for name in ("anchor_id", "room_id"):
            value = body.get(name)
            if not isinstance(value, str) or not 0 < len(value) <= 128:
                raise InvalidInput(f"{name}: 1 to 128 characters", name)
        amount = body.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidInput("amount_fen must be a whole number of fen above 0", "amount_fen")
        if amount > 10**12:
            raise InvalidInput("amount_fen is implausibly large", "amount_fen")
        key = body.get("idempotency_key")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidInput("idempotency_key: 1 to 128 letters, digits or _.:-", "idempotency_key")
        return cls(token, body["anchor_id"], body["room_id"], amount, key)


@dataclass(frozen=True)
class _CodeToSend:
    step_up_id: str
    phone: str
    body: str


def authorize_tip(svc: Services, sms: SmsChannel, client: int | Callable[[Session], int],
                  request: TipRequest | dict[str, Any]) -> dict[str, Any]:
    """Decide one tip: approved (held), step_up_required (a code was sent) or denied.

    ``client`` is the API client's id, or a function that authenticates it inside the same
    transaction (one round of the database fewer per tip)."""
    def client_id(session: Session) -> int:
        return client(session) if callable(client) else client

    def parsed(session: Session) -> TipRequest:
        # After the client is authenticated: an unknown caller learns nothing about the body.
        return request if isinstance(request, TipRequest) else TipRequest.parse(request)

    try:
        with svc.db.uow() as session:
            cid = client_id(session)
            answer, code = _decide(svc, session, cid, parsed(session))
            session.commit()
    except IntegrityError:
        # Another request took this idempotency key between our look-up and insert (possible only
        # for a different tipper, since one tipper's requests take turns): answer as a replay.
        with svc.db.uow() as session:
            cid = client_id(session)
            answer, code = _decide(svc, session, cid, parsed(session))
            session.commit()
    if code is not None:
        _send_code(svc, sms, code)
    return answer


def _decide(svc: Services, session: Session, client_id: int, req: TipRequest
            ) -> tuple[dict[str, Any], _CodeToSend | None]:
    now = svc.clock.now()
    subject = _tipper(svc, session, req.token, now)
    account = lock_account(session, subject.id)
    auth = session.scalar(select(TipAuthorization).where(TipAuthorization.client_id == client_id,
                                                         TipAuthorization.idempotency_key == req.idempotency_key))
    if auth is not None:
        if (auth.subject_id, auth.anchor_id, auth.room_id, auth.amount_fen) != \
                (subject.id, req.anchor_id, req.room_id, req.amount_fen):
            raise IdempotencyConflict("this idempotency_key was already used for a different tip")
        if auth.status != "pending":
            return auth.answer, None
        step = session.get(StepUp, auth.step_up_id, with_for_update=True) if auth.step_up_id else None
        if step is not None:
            _expire(step, now)
            if step.state == "sending" and as_utc(step.created_at) + STEP_UP_SEND_STALE <= now:
                step.state, step.failure = "send_failed", "interrupted"  # the sender died mid-send
            if step.state in ("sending", "sent"):
                return auth.answer, None  # still waiting for the code
            if step.state in ("locked", "expired"):
                reason = "step_up_locked" if step.state == "locked" else "step_up_expired"
                return _finish(auth, "denied", reason, now, auth.answer.get("spent"),
                               auth.answer.get("limits")), None
            # confirmed: evaluate again with the threshold now confirmed; send_failed: try again
    else:
        auth = TipAuthorization(client_id=client_id, idempotency_key=req.idempotency_key, subject_id=subject.id,
                                anchor_id=req.anchor_id, room_id=req.room_id, amount_fen=req.amount_fen,
                                status="pending", answer={}, created_at=now, updated_at=now)
        session.add(auth)  # inserted with its answer, in the flush that needs its id
    with session.no_autoflush:
        return _evaluate(svc, session, subject, account, auth, now)


def _tipper(svc: Services, session: Session, token: str, now: datetime) -> Subject:
    """The subject a valid tipping token names (signature, expiry, audience, revocation)."""
    claims = token_service(svc, session).verify(token, audience="tipping", now=now)
    subject = session.scalar(select(Subject).options(joinedload(Subject.identity))
                             .where(Subject.external_id == claims["sub"]))
    if subject is None:
        raise TokenInvalid("the token names an unknown subject", "token_invalid")
    revoked = subject.tokens_revoked_before
    if revoked is not None and claims["iat"] <= int(as_utc(revoked).timestamp()):
        raise TokenInvalid("the token was revoked", "token_revoked")
    return subject


def _evaluate(svc: Services, session: Session, subject: Subject, account: TipAccount,
              auth: TipAuthorization, now: datetime) -> tuple[dict[str, Any], _CodeToSend | None]:
    p = periods(now, svc.settings.timezone)
    _roll(account, p)
    limits = effective_limits(svc, account, now)
    account.updated_at = now
    amount = auth.amount_fen

    def spent() -> dict[str, int]:
        return {"day": account.day_spent_fen, "month": account.month_spent_fen}

    def deny(reason: str, **extra: Any) -> tuple[dict[str, Any], None]:
        return _finish(auth, "denied", reason, now, spent(), limits.view(), **extra), None

    if not _verified(subject, now):
        return deny("not_verified")
    if subject.birth_date is None or not is_adult(subject.birth_date, now.astimezone(
            ZoneInfo(svc.settings.timezone)).date()):
        return deny("minor")
    anchor = session.scalar(select(Subject).options(joinedload(Subject.identity))
                            .where(Subject.external_id == auth.anchor_id))
    if anchor is None:
        return deny("anchor_unknown")
    if anchor.identity is not None and anchor.identity.blacklisted:
        return deny("anchor_blacklisted")
    if anchor.id == subject.id:
        return deny("self_tip")
    if account.suspended_until is not None and as_utc(account.suspended_until) > now:
        return deny(account.suspended_reason or "suspended", resets_at=_iso(account.suspended_until))
    if amount > limits.per_tip:
        return deny("per_tip_limit_exceeded")
    if account.month_spent_fen >= limits.month:
        _suspend(session, svc, account, subject, "monthly_limit_reached", p.next_month, now)
        return deny("monthly_limit_reached", resets_at=_iso(p.next_month))
    if account.day_spent_fen >= limits.day:
        _suspend(session, svc, account, subject, "daily_limit_reached", p.next_day, now)
        return deny("daily_limit_reached", resets_at=_iso(p.next_day))
    if account.month_spent_fen + amount > limits.month:
        return deny("exceeds_monthly_limit", remaining_fen=limits.month - account.month_spent_fen)
    if account.day_spent_fen + amount > limits.day:
        return deny("exceeds_daily_limit", remaining_fen=limits.day - account.day_spent_fen)

    # Half a cap: the tip that reaches it waits for an SMS code, once per threshold per period.
    needed = []
    if 2 * (account.day_spent_fen + amount) >= limits.day:
        needed.append(f"day:{p.day_key}")
    if 2 * (account.month_spent_fen + amount) >= limits.month:
        needed.append(f"month:{p.month_key}")
    if needed:
        confirmed = set(session.scalars(select(StepUpConfirmation.threshold).where(
            StepUpConfirmation.subject_id == subject.id, StepUpConfirmation.threshold.in_(needed))))
        needed = [t for t in needed if t not in confirmed]
    if needed:
        if subject.phone_enc is None:
            return deny("phone_required")
        return _start_step_up(svc, session, subject, auth, needed, limits, spent(), now)

    account.day_spent_fen += amount
    account.month_spent_fen += amount
    auth.hold_id = str(uuid.uuid4())
    answer = _finish(auth, "approved", None, now, spent(), limits.view(), hold_id=auth.hold_id)
    session.flush()  # the authorization with its final answer, and the new totals
    ledger.open_hold(svc, session, auth, now, auth.hold_id)
    if account.month_spent_fen >= limits.month:
        _suspend(session, svc, account, subject, "monthly_limit_reached", p.next_month, now)
    elif account.day_spent_fen >= limits.day:
        _suspend(session, svc, account, subject, "daily_limit_reached", p.next_day, now)
    return answer, None


def _verified(subject: Subject, now: datetime) -> bool:
    """A live approval, as ``cases.live_subject`` defines it, on the row already loaded."""
    if subject.verified_at is None:
        return False
    if subject.approval_expires_at is not None and as_utc(subject.approval_expires_at) <= now:
        return False
    return not (subject.identity is not None and subject.identity.blacklisted)


def _suspend(session: Session, svc: Services, account: TipAccount, subject: Subject, reason: str,
             until: datetime, now: datetime) -> None:
    """Stop the tipper's tipping until the period ends (once; recorded in the audit trail)."""
    if account.suspended_until is not None and as_utc(account.suspended_until) >= until:
        return
    account.suspended_until, account.suspended_reason = until, reason
    audit.append(session, at=now, actor="system", action="tips.suspended", object_type="subject",
                 object_id=subject.external_id, data={"reason": reason, "until": _iso(until)})


def _start_step_up(svc: Services, session: Session, subject: Subject, auth: TipAuthorization,
                   thresholds: list[str], limits: Limits, spent: dict[str, int], now: datetime
                   ) -> tuple[dict[str, Any], _CodeToSend]:
    secret = pyotp.random_base32()
    session.flush()  # the authorization's id, for the step-up to point at
    step = StepUp(id=str(uuid.uuid4()), subject_id=subject.id, authorization_id=auth.id, thresholds=thresholds,
                  secret_enc=svc.cipher.encrypt_text(secret, "step_up_secret"), state="sending", attempts=0,
                  created_at=now, expires_at=now + STEP_UP_TTL)
    session.add(step)
    auth.step_up_id = step.id
    reminder = reminder_text(thresholds, limits, spent, auth.amount_fen)
    reason = "half_monthly_limit" if thresholds[-1].startswith("month") else "half_daily_limit"
    answer = _finish(auth, "pending", reason, now, spent, limits.view(), decision="step_up_required",
                     step_up_id=step.id, reminder=reminder, step_up_expires_at=_iso(step.expires_at))
    code = pyotp.HOTP(secret).at(0)
    body = (f"LiveGate: {code} is your code to keep tipping. {reminder} "
            f"It expires in {int(STEP_UP_TTL.total_seconds() // 60)} minutes; never share it.")
    phone = svc.cipher.decrypt_text(subject.phone_enc, "phone") if subject.phone_enc else ""
    return answer, _CodeToSend(step.id, phone, body)


def reminder_text(thresholds: list[str], limits: Limits, spent: dict[str, int], amount: int) -> str:
    """The reminder shown to the tipper (and sent in the SMS) at half a cap."""
    parts = []
    if any(t.startswith("day:") for t in thresholds):
        parts.append(f"today's tips would reach {_yuan(spent['day'] + amount)} of your "
                     f"{_yuan(limits.day)} daily cap")
    if any(t.startswith("month:") for t in thresholds):
        parts.append(f"this month's tips would reach {_yuan(spent['month'] + amount)} of your "
                     f"{_yuan(limits.month)} monthly cap")
    return "Reminder: " + " and ".join(parts) + ". Please tip rationally."


def _send_code(svc: Services, sms: SmsChannel, code: _CodeToSend) -> None:
    """Send the step-up code; on failure the step-up is marked so, the tip stays pending and the
    caller gets the error (there is no way around the code)."""
    try:
        sms.send(code.phone, code.body, "tip_step_up")
    except DomainError as exc:
        with svc.db.uow() as session:
            step = session.get(StepUp, code.step_up_id, with_for_update=True)
            if step is not None and step.state == "sending":
                step.state, step.failure = "send_failed", type(exc).__name__
            session.commit()
        raise
    with svc.db.uow() as session:
        step = session.get(StepUp, code.step_up_id, with_for_update=True)
        if step is not None and step.state == "sending":
            step.state = "sent"
        session.commit()


def _expire(step: StepUp, now: datetime) -> None:
    if step.state in ("sending", "sent") and as_utc(step.expires_at) <= now:
        step.state = "expired"


def _finish(auth: TipAuthorization, status: str, reason: str | None, now: datetime,
            spent: dict[str, int] | None, limits: dict[str, int] | None, decision: str | None = None,
            **extra: Any) -> dict[str, Any]:
    """Store the answer on the authorization (the one every retry with its key will get)."""
    answer: dict[str, Any] = {"decision": decision or status, "reason": reason, "hold_id": None,
                              "step_up_id": None,
                              "spent": spent, "limits": limits}
    answer.update(extra)
    auth.status, auth.reason, auth.answer, auth.updated_at = status, reason, answer, now
    return answer


# --- step-up confirmation ------------------------------------------------------------------

def confirm_step_up(svc: Services, client_id: int, step_up_id: str, code: Any) -> dict[str, Any]:
    """Check a step-up code: right → confirmed (the pending tip may be authorized again with its
    key); wrong → attempts left; the fifth wrong code or expiry ends the step-up."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput("code: the 6 digits from the SMS", "code")
    ended: str | None = None
    with svc.db.uow() as session:
        step = session.get(StepUp, step_up_id, with_for_update=True) if _is_uuid(step_up_id) else None
        auth = session.get(TipAuthorization, step.authorization_id) if step is not None else None
        if step is None or auth is None or auth.client_id != client_id:
            raise StepUpNotFound(f"no step-up {step_up_id}")
        now = svc.clock.now()
        _expire(step, now)
        result: dict[str, Any]
        if step.state == "confirmed":
            result = {"confirmed": True}
        elif step.state in ("locked", "expired", "send_failed"):
            ended = step.state
        elif pyotp.HOTP(svc.cipher.decrypt_text(step.secret_enc, "step_up_secret")).verify(code, 0):
            step.state, step.confirmed_at = "confirmed", now
            for threshold in step.thresholds:
                insert_ignore(session, StepUpConfirmation, {"subject_id": step.subject_id, "threshold": threshold,
                                                            "step_up_id": step.id, "confirmed_at": now})
            result = {"confirmed": True}
        else:
            step.attempts += 1
            if step.attempts >= STEP_UP_MAX_ATTEMPTS:
                step.state = "locked"
                ended = "locked"
            else:
                result = {"confirmed": False, "attempts_left": STEP_UP_MAX_ATTEMPTS - step.attempts}
        session.commit()
    if ended == "locked":
        raise StepUpEnded("too many wrong codes: this step-up is over; start a new tip", "step_up_locked")
    if ended == "expired":
        raise StepUpEnded("the code has expired; start a new tip", "step_up_expired")
    if ended is not None:
        raise StepUpEnded("the code could not be sent; authorize the tip again to get a new one",
                          "step_up_not_sent")
    return result


# --- self-limits -----------------------------------------------------------------------------

def set_self_limits(svc: Services, session: Session, subject_id: str, values: dict[str, Any],
                    actor: str) -> dict[str, Any]:
    """Set the tipper's own caps (each at most the platform's). A stricter cap applies at once;
    a looser one (or removing one) only from the next local day, so it cannot be raised on impulse."""
    subject = session.scalar(select(Subject).where(Subject.external_id == str(subject_id)))
    if subject is None:
        raise SubjectNotFound(f"no subject {subject_id}")
    wanted: dict[str, int | None] = {}
    for name, column, setting in _SELF_FIELDS:
        key = f"{name}_fen"
        if key not in values:
            continue
        value = values[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise InvalidInput(f"{key} must be a whole number of fen above 0, or null", key)
        platform = getattr(svc.settings, setting)
        if value is not None and value > platform:
            raise InvalidInput(f"{key} may only be stricter than the platform's cap ({platform})", key)
        wanted[name] = value
    if not wanted:
        raise InvalidInput("send at least one of per_tip_fen, day_fen, month_fen", "per_tip_fen")
    now = svc.clock.now()
    account = lock_account(session, subject.id)
    _apply_pending(account, now)
    later: dict[str, int | None] = dict(account.pending_self_limits or {})
    for name, column, _ in _SELF_FIELDS:
        if name not in wanted:
            continue
        current, value = getattr(account, column), wanted[name]
        if value is not None and (current is None or value <= current):
            setattr(account, column, value)
            later.pop(name, None)
        else:
            later[name] = value
    account.pending_self_limits = later or None
    account.pending_effective_at = periods(now, svc.settings.timezone).next_day if later else None
    account.updated_at = now
    audit.append(session, at=now, actor=actor, action="tips.self_limits", object_type="subject",
                 object_id=subject.external_id, data={"set": wanted})
    return self_limits_view(svc, account, now)


def self_limits_view(svc: Services, account: TipAccount, now: datetime) -> dict[str, Any]:
    limits = effective_limits(svc, account, now)
    return {
        "limits": limits.view(),
        "self_limits": {name: getattr(account, column) for name, column, _ in _SELF_FIELDS},
        "pending": ({"changes": account.pending_self_limits, "effective_at": _iso(account.pending_effective_at)}
                    if account.pending_self_limits else None),
    }


# --- helpers ---------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value is not None else None


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return True
    except (ValueError, TypeError):
        return False
