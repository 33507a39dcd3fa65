"""Anchors: profiles, prior reports (R15), the identity blacklist (R14) and the go-live gate (R12–R15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, facesearch, ledger, ratings, rooms
from .access import check_token, revoke_tokens
from .age import is_adult, local_today
from .clock import as_utc
from .context import Services
from .errors import (
    ConflictingState, Forbidden, InvalidInput, NotVerified, RequestNotFound, SubjectNotFound, TokenInvalid,
)
from .keys import token_service
from .models import (
    AnchorProfile, BlacklistEntry, Case, GoLiveDecision, Identity, PriorReport, Room, Subject, TipHold,
)

PRIOR_REPORT_KINDS = ("celebrity", "overseas")
SUPERVISOR_ROLES = ("supervisor", "admin")
BLACKLIST_KINDS = ratings.VIOLATION_KINDS
ALLOWED, DENIED = "allowed", "denied"


# --- profiles ----------------------------------------------------------------------------

def set_profile(svc: Services, session: Session, anchor_id: str, *, celebrity: Any = None, overseas: Any = None,
                agent: Any = None, actor: str = "platform") -> AnchorProfile:
    """Record whether an anchor is a social celebrity or overseas personnel, and their agent."""
    _require_subject(session, anchor_id)
    for name, value in (("celebrity", celebrity), ("overseas", overseas)):
        if value is not None and not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false", name)
    if agent is not None and (not isinstance(agent, str) or len(agent) > 128):
        raise InvalidInput("agent: text of at most 128 characters", "agent")
    now = svc.clock.now()
    profile = session.scalar(select(AnchorProfile).where(AnchorProfile.anchor_id == anchor_id))
    if profile is None:
        profile = AnchorProfile(anchor_id=anchor_id, celebrity=False, overseas=False, created_at=now)
        session.add(profile)
    if celebrity is not None:
        profile.celebrity = celebrity
    if overseas is not None:
        profile.overseas = overseas
    if agent is not None:
        profile.agent = agent.strip() or None
    profile.updated_at = now
    session.flush()
    audit.append(session, at=now, actor=actor, action="anchor.profile", object_type="anchor", object_id=anchor_id,
                 data={"celebrity": profile.celebrity, "overseas": profile.overseas, "agent": profile.agent})
    return profile


def needs_prior_report(session: Session, subject: Subject) -> list[str]:
    """Which prior reports this anchor needs: celebrity, overseas (a passport holder counts as overseas)."""
    profile = session.scalar(select(AnchorProfile).where(AnchorProfile.anchor_id == subject.external_id))
    kinds = []
    if profile is not None and profile.celebrity:
        kinds.append("celebrity")
    overseas = bool(profile and profile.overseas) or bool(
        subject.identity is not None and subject.identity.document_type == "passport")
    if overseas:
        kinds.append("overseas")
    return kinds


# --- prior reports (R15) ---------------------------------------------------------------

def file_prior_report(svc: Services, session: Session, anchor_id: str, kind: str, note: str | None = None,
                      actor: str = "platform") -> PriorReport:
    """File a celebrity's or overseas anchor's report before they open a room."""
    _require_subject(session, anchor_id)
    if kind not in PRIOR_REPORT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(PRIOR_REPORT_KINDS)}", "kind")
    if note is not None and (not isinstance(note, str) or len(note) > 4000):
        raise InvalidInput("note: text of at most 4000 characters", "note")
    if session.scalar(select(PriorReport.id).where(PriorReport.anchor_id == anchor_id, PriorReport.kind == kind,
                                                   PriorReport.state == "pending")) is not None:
        raise ConflictingState(f"a {kind} report for this anchor is waiting for a supervisor already")
    now = svc.clock.now()
    report = PriorReport(anchor_id=anchor_id, kind=kind, note=note or None, state="pending", submitted_by=actor,
                         submitted_at=now)
    session.add(report)
    session.flush()
    audit.append(session, at=now, actor=actor, action="anchor.prior_report_filed", object_type="anchor",
                 object_id=anchor_id, data={"kind": kind, "report": report.id})
    return report


def decide_prior_report(svc: Services, session: Session, report_id: int, *, reviewer: str, role: str,
                        approve: bool, note: str = "") -> PriorReport:
    """A supervisor approves or rejects a prior report."""
    if role not in SUPERVISOR_ROLES:
        raise Forbidden("prior reports are approved by a supervisor")
    if len(note or "") > 2000:
        raise InvalidInput("note is longer than 2000 characters", "note")
    report = session.get(PriorReport, report_id) if isinstance(report_id, int) else None
    if report is None:
        raise RequestNotFound(f"no prior report {report_id}")
    if report.state != "pending":
        raise ConflictingState(f"the report is {report.state} already")
    now = svc.clock.now()
    report.state = "approved" if approve else "rejected"
    report.decided_by, report.decided_at, report.decision_note = reviewer, now, note or None
    audit.append(session, at=now, actor=reviewer, action=f"anchor.prior_report_{report.state}",
                 object_type="anchor", object_id=report.anchor_id, data={"kind": report.kind, "report": report.id})
    return report


def pending_prior_reports(session: Session, limit: int = 100) -> list[PriorReport]:
    return list(session.scalars(select(PriorReport).where(PriorReport.state == "pending")
                                .order_by(PriorReport.submitted_at, PriorReport.id).limit(limit)))


def prior_report_view(report: PriorReport) -> dict[str, Any]:
    return {"id": report.id, "anchor_id": report.anchor_id, "kind": report.kind, "note": report.note,
            "state": report.state, "submitted_at": _iso(report.submitted_at), "decided_by": report.decided_by,
            "decided_at": _iso(report.decided_at)}


# --- the identity blacklist (R14) ----------------------------------------------------------

@dataclass
class BlacklistResult:
    """What blacklisting did: the identity's accounts blocked, tokens revoked, rooms closed."""

    anchor_id: str
    kind: str
    accounts: list[str]
    rooms_closed: list[str]
    already: bool = False
    refunded_holds: int = 0
    refunded_fen: int = 0
    frozen_holds: int = 0
    frozen_fen: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"anchor_id": self.anchor_id, "kind": self.kind, "blacklisted": True,
                "already_blacklisted": self.already, "accounts_blocked": self.accounts,
                "rooms_closed": self.rooms_closed, "frozen_holds": self.frozen_holds, "frozen_fen": self.frozen_fen,
                "refunded_holds": self.refunded_holds, "refunded_fen": self.refunded_fen}


def blacklist_anchor(svc: Services, session: Session, anchor_id: str, *, kind: str, note: str | None = None,
                     actor: str = "platform") -> BlacklistResult:
    """Blacklist the person behind an anchor account: by identity (document-number hash), so every
    account of theirs is blocked, their tokens revoked and their rooms closed; their face joins the
    1:N blacklist search so a new account with another document goes to review."""
    if kind not in BLACKLIST_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(BLACKLIST_KINDS)}", "kind")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note: text of at most 2000 characters", "note")
    subject = _require_subject(session, anchor_id)
    identity = subject.identity
    if identity is None:
        raise NotVerified("the account has no verified identity to blacklist")
    now = svc.clock.now()
    already = bool(identity.blacklisted)
    if not already:
        identity.blacklisted = True
        identity.blacklisted_at = now
        identity.blacklist_reason = kind
        facesearch.bump_version(session)
    accounts = list(session.scalars(select(Subject.external_id).where(Subject.identity_id == identity.id)
                                    .order_by(Subject.external_id)))
    for account in accounts:
        revoke_tokens(svc, session, account, actor, f"blacklisted: {kind}")
    closed = []
    for room in session.scalars(select(Room).where(Room.anchor_id.in_(accounts), Room.state == "open")
                                .order_by(Room.room_number)):
        rooms.close_room(svc, session, room, f"anchor blacklisted: {kind}", actor)
        closed.append(room.room_number)
    result = BlacklistResult(anchor_id, kind, accounts, closed, already)
    # Money (R10): unlawful conduct refunds every unsettled hold of every account of the person to
    # its sender (issue 6's ledger); otherwise the holds stay frozen: settlement skips the holds of
    # a blacklisted identity's accounts (ledger.settle_due), so nothing is paid out to them.
    if kind in ledger.UNLAWFUL_KINDS:
        for account in accounts:
            refund = ledger.record_violation(svc, session, account, kind, note, actor)
            result.refunded_holds += refund.refunded_holds
            result.refunded_fen += refund.refunded_fen
    frozen = session.execute(select(func.count(TipHold.id), func.coalesce(func.sum(TipHold.amount_fen), 0))
                             .where(TipHold.anchor_id.in_(accounts), TipHold.state == "held")).one()
    result.frozen_holds, result.frozen_fen = int(frozen[0]), int(frozen[1])
    session.add(BlacklistEntry(identity_id=identity.id, anchor_id=anchor_id, kind=kind, note=note or None,
                               accounts=accounts, actor=actor, at=now))
    audit.append(session, at=now, actor=actor, action="identity.blacklisted", object_type="identity",
                 object_id=str(identity.id), data={"anchor": anchor_id, "kind": kind, "accounts": accounts,
                                                   "rooms_closed": closed, "refunded_fen": result.refunded_fen,
                                                   "frozen_fen": result.frozen_fen})
    return result


# --- the go-live gate ----------------------------------------------------------------------

@dataclass
class GoLive:
    """The gate's answer: ``allowed`` or ``denied`` with a stable reason, and what the room may do."""

    decision: str
    reason: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"decision": self.decision, "reason": self.reason, **self.extra}


def authorize_broadcast(svc: Services, session: Session, *, token: Any, room_id: Any, category: Any,
                        actor: str = "platform") -> GoLive:
    """May this token's holder go live in this room under this category now? Every answer is recorded."""
    if not isinstance(token, str) or not token:
        raise InvalidInput("token is required", "token")
    number = rooms.require_room_number(room_id)
    if not isinstance(category, str) or not category.strip():
        raise InvalidInput("category is required", "category")
    answer, anchor_id, code = _gate(svc, session, token, number, category)
    session.add(GoLiveDecision(room_number=number, anchor_id=anchor_id, category=code or category[:24],
                               decision=answer.decision, reason=answer.reason, at=svc.clock.now()))
    if answer.decision == ALLOWED:
        audit.append(session, at=svc.clock.now(), actor=actor, action="broadcast.allowed", object_type="room",
                     object_id=number, data={"anchor": anchor_id, "category": code})
    return answer


def _gate(svc: Services, session: Session, token: str, number: str, category: str
          ) -> tuple[GoLive, str | None, str | None]:
    now = svc.clock.now()
    try:
        claims = token_service(svc, session).verify(token, audience="broadcasting", now=now)
    except TokenInvalid as exc:
        return GoLive(DENIED, exc.reason), None, None
    anchor_id = str(claims["sub"])
    subject = session.scalar(select(Subject).where(Subject.external_id == anchor_id))
    # Blacklisting also revokes the tokens; name the stronger reason first.
    if subject is not None and subject.identity is not None and subject.identity.blacklisted:
        return GoLive(DENIED, "identity_blacklisted"), anchor_id, None
    try:
        checked = check_token(svc, session, token, "broadcasting")
    except TokenInvalid as exc:
        return GoLive(DENIED, exc.reason), anchor_id, None
    subject = checked.subject
    verified_case = session.get(Case, subject.verified_case_id) if subject.verified_case_id else None
    if verified_case is None or verified_case.role != "anchor":
        return GoLive(DENIED, "not_an_anchor"), anchor_id, None
    today = local_today(now, svc.settings.timezone)
    if not claims.get("adult") or subject.birth_date is None or not is_adult(subject.birth_date, today):
        return GoLive(DENIED, "minor"), anchor_id, None
    code = rooms.normalize_category(category)
    if code is None:
        return GoLive(DENIED, "category_invalid", {"categories": list(rooms.CATEGORIES)}), anchor_id, None
    room = session.scalar(select(Room).where(Room.room_number == number))
    if room is None:
        return GoLive(DENIED, "room_not_found"), anchor_id, code
    if room.anchor_id != anchor_id:
        return GoLive(DENIED, "room_not_owned"), anchor_id, code
    if room.state != "open":
        return GoLive(DENIED, "room_closed"), anchor_id, code
    if code != room.category:
        pending = rooms.pending_change(session, room)
        return GoLive(DENIED, "category_mismatch", {
            "room_category": room.category,
            "pending_category": pending.to_category if pending else None}), anchor_id, code
    for kind in needs_prior_report(session, subject):
        approved = session.scalar(select(PriorReport.id).where(
            PriorReport.anchor_id == anchor_id, PriorReport.kind == kind, PriorReport.state == "approved"))
        if approved is None:
            return GoLive(DENIED, "prior_report_required", {"report_kind": kind}), anchor_id, code
    files = [ratings.room_file(svc, session, number), ratings.anchor_file(svc, session, anchor_id)]
    measures = sorted({m for f in files for m in f["measures"]}, key=ratings.MEASURES.index)
    if "close_and_blacklist" in measures:
        return GoLive(DENIED, "rating_close_measure", {"measures": measures}), anchor_id, code
    extra: dict[str, Any] = {"room_id": number, "category": code, "measures": measures,
                             "max_broadcast_minutes": next((f["max_broadcast_minutes"] for f in files
                                                            if f["max_broadcast_minutes"]), None)}
    return GoLive(ALLOWED, None, extra), anchor_id, code


# --- helpers ---------------------------------------------------------------------------------

def _require_subject(session: Session, anchor_id: Any) -> Subject:
    if not isinstance(anchor_id, str) or not anchor_id.strip():
        raise InvalidInput("anchor_id is required", "anchor_id")
    subject = session.scalar(select(Subject).where(Subject.external_id == anchor_id))
    if subject is None:
        raise SubjectNotFound(f"no anchor {anchor_id}")
    return subject


def identity_of(session: Session, anchor_id: str) -> Identity | None:
    subject = session.scalar(select(Subject).where(Subject.external_id == anchor_id))
    return subject.identity if subject is not None else None


def _iso(value) -> str | None:
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None
