"""Reviewer accounts: creation, password + TOTP login, sessions, lockout, daily activity.

Logging in is two steps (password, then a one-time code), each its own use case
with its own transaction, because a failed attempt must be counted (and may lock
the account) even though the attempt itself is refused.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit
from .age import local_today
from .clock import as_utc
from .context import Services
from .errors import AccountLocked, ConflictingState, InvalidInput, LoginFailed
from .models import Reviewer, ReviewerDay, ReviewerSession

ROLES = ("reviewer", "supervisor", "admin")
RANK = {"reviewer": 1, "supervisor": 2, "admin": 3}
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=15)
SESSION_MAX = timedelta(hours=8)
PENDING_LOGIN_FOR = timedelta(minutes=5)
MIN_PASSWORD = 12
TOTP_ISSUER = "LiveGate review"
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")
_TOUCH_EVERY = timedelta(seconds=30)

# argon2id with the library's defaults (RFC 9106 low-memory profile).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so both paths cost the same time."""
    return _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class PasswordStep:
    """The password was right: what the second step must do."""

    reviewer_id: int
    login: str
    needs_enrollment: bool  # first login: set a new password and enrol the TOTP


def has_rank(role: str, needed: str) -> bool:
    """Whether ``role`` is ``needed`` or above it (reviewer < supervisor < admin)."""
    return RANK.get(role, 0) >= RANK[needed]


def create_reviewer(svc: Services, session: Session, login: str, role: str,
                    subject_external_id: str | None = None, actor: str = "cli") -> tuple[Reviewer, str]:
    """A new reviewer account and its one-time password (shown once; changed at first login)."""
    login = (login or "").strip().lower()
    if not _LOGIN.match(login):
        raise InvalidInput("login: 2 to 64 lower-case letters, digits or _.@- starting with a letter or digit",
                           "login")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
    if session.scalar(select(Reviewer.id).where(Reviewer.login == login)) is not None:
        raise ConflictingState(f"a reviewer named {login} already exists")
    password = secrets.token_urlsafe(15)
    now = svc.clock.now()
    reviewer = Reviewer(login=login, role=role, password_hash=_hasher.hash(password), password_is_temporary=True,
                        subject_external_id=subject_external_id or None, failed_logins=0, active=True,
                        created_at=now)
    session.add(reviewer)
    session.flush()
    audit.append(session, at=now, actor=actor, action="reviewer.created", object_type="reviewer",
                 object_id=login, data={"role": role})
    return reviewer, password


def check_password(svc: Services, login: str, password: str) -> PasswordStep:
    """First login step; a wrong password counts toward the lockout (committed even though it fails)."""
    now = svc.clock.now()
    with svc.db.uow() as session:
        reviewer = session.scalar(select(Reviewer).where(Reviewer.login == (login or "").strip().lower()))
        if reviewer is None or not reviewer.active:
            _verify(_dummy_hash(), password or "")
            raise LoginFailed("the login or password is not right")
        _refuse_if_locked(reviewer, now)
        if not _verify(reviewer.password_hash, password or ""):
            _count_failure(session, reviewer, now, "password")
            session.commit()
            raise LoginFailed("the login or password is not right")
        if _hasher.check_needs_rehash(reviewer.password_hash):
            reviewer.password_hash = _hasher.hash(password)
        step = PasswordStep(reviewer.id, reviewer.login,
                            reviewer.password_is_temporary or reviewer.totp_enrolled_at is None)
        session.commit()
        return step


def enrollment_secret(svc: Services, reviewer_id: int) -> tuple[str, str]:
    """The TOTP secret being enrolled (made on first call) and its otpauth:// URI for the QR code."""
    with svc.db.uow() as session:
        reviewer = _pending(session, reviewer_id)
        if reviewer.totp_enrolled_at is not None and not reviewer.password_is_temporary:
            raise ConflictingState("this account already has a second factor")
        if reviewer.totp_secret_enc is None or reviewer.totp_enrolled_at is not None:
            reviewer.totp_secret_enc = svc.cipher.encrypt_text(pyotp.random_base32(), "totp")
            reviewer.totp_enrolled_at = None
        secret = svc.cipher.decrypt_text(reviewer.totp_secret_enc, "totp")
        session.commit()
        uri = pyotp.TOTP(secret).provisioning_uri(name=reviewer.login, issuer_name=TOTP_ISSUER)
        return secret, uri


def complete_enrollment(svc: Services, reviewer_id: int, new_password: str, confirm: str, code: str) -> str:
    """First login: set a password of the reviewer's own and prove the authenticator works; returns a session token."""
    now = svc.clock.now()
    if len(new_password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the new password needs at least {MIN_PASSWORD} characters", "new_password")
    if new_password != confirm:
        raise InvalidInput("the two passwords differ", "confirm")
    with svc.db.uow() as session:
        reviewer = _pending(session, reviewer_id)
        _refuse_if_locked(reviewer, now)
        if reviewer.totp_secret_enc is None:
            raise ConflictingState("start the enrolment again: no secret was issued")
        if _verify(reviewer.password_hash, new_password):
            raise InvalidInput("choose a password other than the one-time password", "new_password")
        step = _match_totp(svc.cipher.decrypt_text(reviewer.totp_secret_enc, "totp"), code, now, None)
        if step is None:
            _count_failure(session, reviewer, now, "totp_enrolment")
            session.commit()
            raise LoginFailed("the code from the authenticator app is not right")
        reviewer.password_hash = _hasher.hash(new_password)
        reviewer.password_is_temporary = False
        reviewer.totp_enrolled_at = now
        reviewer.totp_last_step = step
        audit.append(session, at=now, actor=reviewer.login, action="reviewer.enrolled", object_type="reviewer",
                     object_id=reviewer.login, data={})
        token = _start_session(svc, session, reviewer, now)
        session.commit()
        return token


def check_code(svc: Services, reviewer_id: int, code: str) -> str:
    """Second login step: the TOTP code (each code once); returns a session token."""
    now = svc.clock.now()
    with svc.db.uow() as session:
        reviewer = _pending(session, reviewer_id)
        _refuse_if_locked(reviewer, now)
        if reviewer.totp_enrolled_at is None or reviewer.totp_secret_enc is None:
            raise ConflictingState("this account has no second factor yet")
        step = _match_totp(svc.cipher.decrypt_text(reviewer.totp_secret_enc, "totp"), code, now,
                           reviewer.totp_last_step)
        if step is None:
            _count_failure(session, reviewer, now, "totp")
            session.commit()
            raise LoginFailed("the code from the authenticator app is not right")
        reviewer.totp_last_step = step
        token = _start_session(svc, session, reviewer, now)
        session.commit()
        return token


def resume_session(svc: Services, session: Session, token: str | None) -> Reviewer | None:
    """The reviewer behind a session cookie, or None when it ended, idled out or passed its limit."""
    if not token:
        return None
    now = svc.clock.now()
    row = session.get(ReviewerSession, _token_hash(token))
    if row is None or row.ended_at is not None:
        return None
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + SESSION_IDLE <= now:
        return None
    reviewer = row.reviewer
    if not reviewer.active or (reviewer.locked_until and as_utc(reviewer.locked_until) > now):
        return None
    if as_utc(row.last_seen_at) + _TOUCH_EVERY <= now:
        row.last_seen_at = now
    return reviewer


def end_session(svc: Services, session: Session, token: str | None) -> None:
    """Log out: the token stops working at once."""
    if token:
        session.execute(update(ReviewerSession).where(ReviewerSession.token_hash == _token_hash(token),
                                                      ReviewerSession.ended_at.is_(None))
                        .values(ended_at=svc.clock.now()))


def unlock(svc: Services, session: Session, login: str, actor: str) -> Reviewer:
    """An admin lifts a lockout."""
    reviewer = session.scalar(select(Reviewer).where(Reviewer.login == login))
    if reviewer is None:
        raise InvalidInput(f"no reviewer {login}", "login")
    reviewer.failed_logins = 0
    reviewer.locked_until = None
    audit.append(session, at=svc.clock.now(), actor=actor, action="reviewer.unlocked", object_type="reviewer",
                 object_id=login, data={})
    return reviewer


def list_reviewers(session: Session) -> list[Reviewer]:
    """Every reviewer account, by login."""
    return list(session.scalars(select(Reviewer).order_by(Reviewer.login)))


# --- activity: the auditor counts -----------------------------------------------------------

def record_activity(svc: Services, session: Session, reviewer: Reviewer, decisions: int = 0) -> None:
    """Mark the reviewer active today (platform time zone); count a decision when there is one."""
    now = svc.clock.now()
    day = local_today(now, svc.settings.timezone)
    key = {"day": day, "reviewer_id": reviewer.id}
    row = session.get(ReviewerDay, (day, reviewer.id))
    if row is None:
        try:
            with session.begin_nested():
                session.add(ReviewerDay(**key, first_seen_at=now, decisions=decisions))
            return
        except IntegrityError:  # another request of the same reviewer got there first
            row = session.get(ReviewerDay, (day, reviewer.id))
            assert row is not None
    if decisions:
        session.execute(update(ReviewerDay).where(ReviewerDay.day == day, ReviewerDay.reviewer_id == reviewer.id)
                        .values(decisions=ReviewerDay.decisions + decisions))


def active_reviewers_per_day(session: Session, start: date, end: date) -> dict[date, int]:
    """How many reviewers worked on each day from ``start`` to ``end`` inclusive (days with none left out)."""
    rows = session.execute(select(ReviewerDay.day, func.count()).where(ReviewerDay.day >= start,
                                                                       ReviewerDay.day <= end)
                           .group_by(ReviewerDay.day).order_by(ReviewerDay.day)).all()
    return {day: count for day, count in rows}


# --- QR code ------------------------------------------------------------------------------------

def qr_svg_data_uri(text: str) -> str:
    """The text as a QR code, an SVG data URI to put in an <img> (no request leaves the page)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


# --- helpers ----------------------------------------------------------------------------------------

def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _refuse_if_locked(reviewer: Reviewer, now: datetime) -> None:
    if reviewer.locked_until is not None and as_utc(reviewer.locked_until) > now:
        raise AccountLocked(as_utc(reviewer.locked_until))


def _count_failure(session: Session, reviewer: Reviewer, now: datetime, step: str) -> None:
    reviewer.failed_logins = (reviewer.failed_logins or 0) + 1
    if reviewer.failed_logins >= MAX_FAILURES:
        reviewer.locked_until = now + LOCK_FOR
        reviewer.failed_logins = 0
        audit.append(session, at=now, actor=reviewer.login, action="reviewer.locked", object_type="reviewer",
                     object_id=reviewer.login, data={"step": step, "until": reviewer.locked_until.isoformat()})


def _pending(session: Session, reviewer_id: int) -> Reviewer:
    reviewer = session.get(Reviewer, reviewer_id)
    if reviewer is None or not reviewer.active:
        raise LoginFailed("log in again")
    return reviewer


def _match_totp(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to (this one or one either side), if not used before."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step_now = int(now.timestamp()) // totp.interval
    for step in (step_now, step_now - 1, step_now + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _start_session(svc: Services, session: Session, reviewer: Reviewer, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    # Tidy as we go: this reviewer's ended or expired sessions are of no further use.
    session.execute(delete(ReviewerSession).where(
        ReviewerSession.reviewer_id == reviewer.id,
        or_(ReviewerSession.ended_at.is_not(None), ReviewerSession.expires_at <= now,
            ReviewerSession.last_seen_at <= now - SESSION_IDLE)))
    session.add(ReviewerSession(token_hash=_token_hash(token), reviewer_id=reviewer.id, created_at=now,
                                last_seen_at=now, expires_at=now + SESSION_MAX))
    reviewer.failed_logins = 0
    reviewer.last_login_at = now
    record_activity(svc, session, reviewer)
    audit.append(session, at=now, actor=reviewer.login, action="reviewer.login", object_type="reviewer",
                 object_id=reviewer.login, data={})
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
