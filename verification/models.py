"""Stored state (SQLAlchemy 2 declarative models).

Personal fields are stored only encrypted (``*_enc``) with a keyed hash beside
them (``*_hash``) for look-ups; the cipher lives in ``crypto`` and is applied by
the use cases, so nothing here ever sees plaintext of a document number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary,
    String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


UTCDateTime = DateTime(timezone=True)


class ApiClient(Base):
    """A platform service that calls the API with a bearer key."""

    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Identity(Base):
    """A real person, known by the keyed hash of their document number."""

    __tablename__ = "identities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_hash: Mapped[str] = mapped_column(String(64), index=True)
    document_type: Mapped[str] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    face_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    blacklisted: Mapped[bool] = mapped_column(Boolean, default=False)
    blacklisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blacklist_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subject(Base):
    """A platform account (its own user id) and where its verification stands."""

    __tablename__ = "subjects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    verified_case_id: Mapped[str | None] = mapped_column(String(36))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level: Mapped[str | None] = mapped_column(String(64))
    birth_date: Mapped[date | None] = mapped_column(Date)
    tokens_revoked_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    identity: Mapped[Identity | None] = relationship()


class Case(Base):
    """One verification attempt: a stored state machine."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    document_type: Mapped[str] = mapped_column(String(32))
    declared_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    declared_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    number_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    challenge: Mapped[list[Any]] = mapped_column(JSON)
    liveness_mode: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    level: Mapped[str | None] = mapped_column(String(64))
    birth_date: Mapped[date | None] = mapped_column(Date)
    adult: Mapped[bool | None] = mapped_column(Boolean)
    document_fields_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    images_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subject: Mapped[Subject] = relationship()
    checks: Mapped[list[CheckRecord]] = relationship(
        order_by="CheckRecord.id", cascade="all, delete-orphan", back_populates="case"
    )
    images: Mapped[list[CaseImage]] = relationship(
        order_by="CaseImage.id", cascade="all, delete-orphan", back_populates="case"
    )

    __table_args__ = (Index("ix_cases_state_created", "state", "created_at"),)


class CaseImage(Base):
    """An uploaded image, encrypted; purged after the retention period."""

    __tablename__ = "case_images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # document_front, document_back, selfie
    seq: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="images")


class CheckRecord(Base):
    """One automatic check's result."""

    __tablename__ = "checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(48))
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="checks")


class Decision(Base):
    """Every decision on a case, the machine's and each reviewer's."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # machine | reviewer
    actor: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SigningKey(Base):
    """A token signing key pair; the private half encrypted with the instance secret."""

    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_pem: Mapped[str] = mapped_column(Text)
    private_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only, hash-chained record of every decision and sensitive action."""

    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Counter(Base):
    """A small named counter row (used as a lock target for serialising writers)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --- tips: limits, step-ups, holds and the ledger (issue 6) ------------------------------

class TipAccount(Base):
    """One row per tipper: the lock target that serialises their tips, running period totals,
    self-limits and any suspension."""

    __tablename__ = "tip_accounts"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    day_key: Mapped[str] = mapped_column(String(10), default="")
    day_spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    month_key: Mapped[str] = mapped_column(String(7), default="")
    month_spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    self_per_tip_fen: Mapped[int | None] = mapped_column(BigInteger)
    self_day_fen: Mapped[int | None] = mapped_column(BigInteger)
    self_month_fen: Mapped[int | None] = mapped_column(BigInteger)
    pending_self_limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pending_effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TipAuthorization(Base):
    """One idempotency key's tip request and the first answer given to it."""

    __tablename__ = "tip_authorizations"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    anchor_id: Mapped[str] = mapped_column(String(128))
    room_id: Mapped[str] = mapped_column(String(128))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # approved | denied | pending
    reason: Mapped[str | None] = mapped_column(String(48))
    step_up_id: Mapped[str | None] = mapped_column(String(36))
    hold_id: Mapped[str | None] = mapped_column(String(36))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("client_id", "idempotency_key", name="uq_tip_idempotency"),)


class StepUp(Base):
    """An SMS confirmation asked of a tipper crossing half a cap; the code itself is never stored."""

    __tablename__ = "step_ups"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    authorization_id: Mapped[int] = mapped_column(ForeignKey("tip_authorizations.id"), index=True)
    thresholds: Mapped[list[Any]] = mapped_column(JSON)  # e.g. ["day:2026-06-15", "month:2026-06"]
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)  # HOTP secret, encrypted
    state: Mapped[str] = mapped_column(String(16))  # sending | sent | send_failed | confirmed | locked | expired
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StepUpConfirmation(Base):
    """A threshold (half the day's or month's cap) the tipper has confirmed for one period."""

    __tablename__ = "step_up_confirmations"
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    threshold: Mapped[str] = mapped_column(String(24), primary_key=True)
    step_up_id: Mapped[str] = mapped_column(String(36))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SmsMessage(Base):
    """Every SMS the gateway tried to send (for the per-phone rate limit); the outbox backend
    keeps the body here too, encrypted, for operators to read."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    backend: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # queued | stored | sent | failed
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_sms_messages_phone_created", "phone_hash", "created_at"),)


class TipHold(Base):
    """An approved tip's money, held until settlement or refunded on a violation."""

    __tablename__ = "tip_holds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    authorization_id: Mapped[int] = mapped_column(ForeignKey("tip_authorizations.id"), unique=True)
    tipper_subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    anchor_id: Mapped[str] = mapped_column(String(128))
    room_id: Mapped[str] = mapped_column(String(128))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # held | settled | refunded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settle_after: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    violation_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_tip_holds_state_settle", "state", "settle_after"),
        Index("ix_tip_holds_anchor_state", "anchor_id", "state"),
    )


class LedgerTransaction(Base):
    """One balanced movement of money; its postings sum to zero."""

    __tablename__ = "ledger_transactions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # hold | settle | refund
    hold_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerPosting(Base):
    """One side of a ledger transaction: a signed amount in fen on a named account."""

    __tablename__ = "ledger_postings"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(160), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class AnchorViolation(Base):
    """A recorded violation by an anchor; unlawful conduct refunds the anchor's unsettled holds."""

    __tablename__ = "anchor_violations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anchor_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    refunded_holds: Mapped[int] = mapped_column(Integer, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- reviewers (issue 5: the reviewer queue in the browser) --------------------------------

class Reviewer(Base):
    """A person who decides cases in review: login, password hash, TOTP second factor."""

    __tablename__ = "reviewers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # reviewer | supervisor | admin
    password_hash: Mapped[str] = mapped_column(String(256))
    password_is_temporary: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # refuses a replayed code
    subject_external_id: Mapped[str | None] = mapped_column(String(128))  # their own platform account
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewerSession(Base):
    """A signed-in browser: the cookie holds a random token, only its hash is stored."""

    __tablename__ = "reviewer_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute limit
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reviewer: Mapped[Reviewer] = relationship()


class ReviewLease(Base):
    """Who holds a case in review, until when: one row per case, taken by a conditional write."""

    __tablename__ = "review_leases"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ReviewerDay(Base):
    """A reviewer who worked on a given day (platform time zone): the auditor counts of R16/R17."""

    __tablename__ = "reviewer_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decisions: Mapped[int] = mapped_column(Integer, default=0)


# --- anchors and rooms: go-live gate, categories, rating files, concern list (issue 7) ----------

class AnchorProfile(Base):
    """What the platform tells us about an anchor beyond their verification (R15)."""

    __tablename__ = "anchor_profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anchor_id: Mapped[str] = mapped_column(String(128), unique=True)  # the subject's external id
    celebrity: Mapped[bool] = mapped_column(Boolean, default=False)
    overseas: Mapped[bool] = mapped_column(Boolean, default=False)
    agent: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PriorReport(Base):
    """A celebrity's or overseas anchor's report filed before opening a room, and its approval (R15)."""

    __tablename__ = "prior_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anchor_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # celebrity | overseas
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Room(Base):
    """A live room: the platform's room number, its anchor and its program category (R12)."""

    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_number: Mapped[str] = mapped_column(String(64), unique=True)
    anchor_id: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CategoryChange(Base):
    """A request to change a room's category; the old category stands until a reviewer approves."""

    __tablename__ = "category_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    from_category: Mapped[str] = mapped_column(String(24))
    to_category: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    room: Mapped[Room] = relationship()


class GoLiveDecision(Base):
    """Every go-live authorization and its answer (the quarterly report counts the allowed ones)."""

    __tablename__ = "go_live_decisions"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    room_number: Mapped[str] = mapped_column(String(64), index=True)
    anchor_id: Mapped[str | None] = mapped_column(String(128), index=True)
    category: Mapped[str | None] = mapped_column(String(24))
    decision: Mapped[str] = mapped_column(String(16))  # allowed | denied
    reason: Mapped[str | None] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RatingViolation(Base):
    """A scored problem in an anchor's (and optionally a room's) rating file (R13, R14)."""

    __tablename__ = "rating_violations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anchor_id: Mapped[str] = mapped_column(String(128), index=True)
    room_number: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))  # minor | moderate | serious | unlawful
    points: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QualityScore(Base):
    """A program-quality score (0–100) for a room and its anchor over a period (R13)."""

    __tablename__ = "quality_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_number: Mapped[str] = mapped_column(String(64), index=True)
    anchor_id: Mapped[str] = mapped_column(String(128), index=True)
    score: Mapped[int] = mapped_column(Integer)
    scored_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConcernFlag(Base):
    """An anchor, agent or room put on the concern list or under key monitoring (R11, R18)."""

    __tablename__ = "concern_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16))  # anchor | agent | room
    target_id: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(48))
    list_name: Mapped[str] = mapped_column(String(16))  # concern | monitoring
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | cleared
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(100))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_concern_flags_target_rule", "target_type", "target_id", "rule"),)


class BlacklistEntry(Base):
    """Why and by whom an identity was blacklisted (the identity row holds the flag itself)."""

    __tablename__ = "blacklist_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    anchor_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    accounts: Mapped[list[Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
