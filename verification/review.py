"""The manual review queue: leases on cases, the case as a reviewer sees it, decisions, history.

A lease is one row per case in ``review_leases``, taken with a conditional write
(an UPDATE that only matches an expired lease or the reviewer's own, else an
INSERT guarded by the primary key), so two reviewers never hold the same case,
on SQLite or PostgreSQL, whatever the interleaving.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, cases, idnumber
from .age import age_on, local_today
from .clock import as_utc
from .context import Services
from .crypto import mask_name
from .errors import CaseClaimed, CaseNotOpen, Forbidden, InvalidInput, LeaseNotHeld
from .images import encode_jpeg
from .models import AuditEntry, Case, CaseImage, Decision, Identity, ReviewLease, Reviewer, Subject
from .reviewers import has_rank, record_activity

LEASE_FOR = timedelta(minutes=15)
PAGE_SIZES = (25, 50, 100)
# Reasons the automatic checks send a case to review (the queue's reason filter offers these).
QUEUE_REASONS = ("face_uncertain", "liveness_not_proven", "identity_in_use", "age_unknown",
                 "name_mismatch", "number_mismatch", "document_unreadable", "document_expired")
_REASON = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass
class QueueRow:
    case_id: str
    subject: str
    role: str
    reasons: list[str]
    created_at: datetime
    age: timedelta
    mine: bool
    lease_until: datetime | None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    limit: int
    offset: int
    role: str | None = None
    reason: str | None = None

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


@dataclass
class FieldRow:
    label: str
    declared: str | None
    read: str | None
    status: str  # same | differs | not_read


@dataclass
class CaseDetail:
    """Everything the case page shows; personal values masked unless ``revealed``."""

    case: Case
    subject: str
    age: int | None
    waiting: timedelta
    name: str
    number: str
    revealed: bool
    fields: list[FieldRow]
    checks: list[dict[str, Any]]
    images: list[CaseImage]
    portrait_box: dict[str, int] | None
    same_identity_cases: list[dict[str, Any]]
    other_accounts: list[str]
    identity_blacklisted: bool
    decisions: list[Decision]
    lease_holder: str | None
    lease_until: datetime | None
    lease_mine: bool
    can_decide: bool
    needs_supervisor: bool
    notices: list[str] = field(default_factory=list)


# --- the queue ---------------------------------------------------------------------------------

def queue(svc: Services, session: Session, reviewer: Reviewer, *, role: str | None = None,
          reason: str | None = None, limit: int = 25, offset: int = 0) -> QueuePage:
    """Cases in review, oldest first, without those another reviewer holds; one page of them."""
    if role and role not in cases.ROLES:
        raise InvalidInput(f"role must be one of {', '.join(cases.ROLES)}", "role")
    if reason and not _REASON.match(reason):
        raise InvalidInput("reason: a reason code like face_uncertain", "reason")
    if limit not in PAGE_SIZES:
        limit = PAGE_SIZES[0]
    offset = max(0, offset)
    now = svc.clock.now()
    where = [Case.state == "in_review",
             or_(ReviewLease.case_id.is_(None), ReviewLease.expires_at <= now,
                 ReviewLease.reviewer_id == reviewer.id)]
    if role:
        where.append(Case.role == role)
    if reason:
        where.append(cast(Case.reasons, String).contains(f'"{reason}"', autoescape=True))
    total = session.scalar(select(func.count()).select_from(Case).outerjoin(ReviewLease).where(*where)) or 0
    rows = session.execute(
        select(Case.id, Subject.external_id, Case.role, Case.reasons, Case.created_at, ReviewLease.reviewer_id,
               ReviewLease.expires_at)
        .join(Subject, Subject.id == Case.subject_id).outerjoin(ReviewLease).where(*where)
        .order_by(Case.created_at, Case.id).limit(limit).offset(offset)
    ).all()
    out = []
    for case_id, subject, case_role, reasons, created, holder, until in rows:
        mine = holder == reviewer.id and until is not None and as_utc(until) > now
        out.append(QueueRow(case_id, subject, case_role, list(reasons or []), as_utc(created),
                            now - as_utc(created), mine, as_utc(until) if mine else None))
    return QueuePage(out, total, limit, offset, role or None, reason or None)


# --- leases ---------------------------------------------------------------------------------------

def claim(svc: Services, session: Session, case_id: str, reviewer: Reviewer) -> ReviewLease:
    """Take (or renew) the lease on a case; CaseClaimed when another reviewer holds it."""
    case = cases.get_case(session, case_id)
    _check_decidable(case, reviewer)
    now = svc.clock.now()
    until = now + LEASE_FOR
    taken = session.execute(
        update(ReviewLease)
        .where(ReviewLease.case_id == case.id,
               or_(ReviewLease.expires_at <= now, ReviewLease.reviewer_id == reviewer.id))
        .values(reviewer_id=reviewer.id, taken_at=now, expires_at=until)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not taken:
        try:
            with session.begin_nested():
                session.add(ReviewLease(case_id=case.id, reviewer_id=reviewer.id, taken_at=now, expires_at=until))
            taken = True
        except IntegrityError:  # someone else's lease row exists and is live
            taken = False
    if not taken:
        holder, held_until = session.execute(
            select(Reviewer.login, ReviewLease.expires_at).join(Reviewer, Reviewer.id == ReviewLease.reviewer_id)
            .where(ReviewLease.case_id == case.id)).one()
        raise CaseClaimed(holder, as_utc(held_until))
    audit.append(session, at=now, actor=reviewer.login, action="review.claimed", object_type="case",
                 object_id=case.id, data={"until": until.isoformat()})
    record_activity(svc, session, reviewer)
    lease = session.execute(select(ReviewLease).where(ReviewLease.case_id == case.id)
                            .execution_options(populate_existing=True)).scalar_one()
    return lease


def release(svc: Services, session: Session, case_id: str, reviewer: Reviewer) -> bool:
    """Give a case back to the queue before the lease runs out."""
    gone = session.execute(delete(ReviewLease).where(ReviewLease.case_id == case_id,
                                                     ReviewLease.reviewer_id == reviewer.id)).rowcount
    if gone:
        audit.append(session, at=svc.clock.now(), actor=reviewer.login, action="review.released",
                     object_type="case", object_id=case_id, data={})
    return bool(gone)


def ensure_not_claimed(svc: Services, session: Session, case_id: str, actor: str) -> None:
    """CaseClaimed when a reviewer other than ``actor`` holds the case (for decisions made outside the UI)."""
    lease = live_lease(svc, session, case_id)
    if lease is not None and lease[1] != actor:
        raise CaseClaimed(lease[1], as_utc(lease[0].expires_at))


def live_lease(svc: Services, session: Session, case_id: str, lock: bool = False
               ) -> tuple[ReviewLease, str] | None:
    """The unexpired lease on a case and its holder's login; ``lock`` holds the row until commit."""
    q = (select(ReviewLease, Reviewer.login).join(Reviewer, Reviewer.id == ReviewLease.reviewer_id)
         .where(ReviewLease.case_id == case_id))
    if lock:
        q = q.with_for_update(of=ReviewLease)
    row = session.execute(q).first()
    if row is None or as_utc(row[0].expires_at) <= svc.clock.now():
        return None
    return row[0], row[1]


# --- deciding ------------------------------------------------------------------------------------

def decide(svc: Services, session: Session, case_id: str, reviewer: Reviewer, *, decision: str, reason: str,
           note: str = "", blacklist: bool = False) -> Case:
    """The reviewer's decision on a case they hold: case, decision record, audit entry, in the caller's transaction."""
    # Lock the lease row first, as a claim does, so the two always take their locks in one order.
    lease = live_lease(svc, session, case_id, lock=True)
    if lease is None or lease[0].reviewer_id != reviewer.id:
        raise LeaseNotHeld("claim the case first (your claim may have expired)")
    if blacklist:
        if not has_rank(reviewer.role, "supervisor"):
            raise Forbidden("blacklisting an identity needs a supervisor")
        if decision != "rejected":
            raise InvalidInput("only a rejection can blacklist the identity", "blacklist")
    case = cases.decide_review(svc, session, case_id, reviewer=reviewer.login, role=reviewer.role,
                               decision=decision, reason=reason, note=note,
                               reviewer_subject=reviewer.subject_external_id)
    if blacklist:
        blacklist_identity(svc, session, case, reviewer, reason=reason)
    session.execute(delete(ReviewLease).where(ReviewLease.case_id == case.id))
    record_activity(svc, session, reviewer, decisions=1)
    return case


def blacklist_identity(svc: Services, session: Session, case: Case, reviewer: Reviewer, *, reason: str) -> Identity:
    """Blacklist the person behind a case (by the keyed hash of the number), not just the account (R14)."""
    if not has_rank(reviewer.role, "supervisor"):
        raise Forbidden("blacklisting an identity needs a supervisor")
    now = svc.clock.now()
    identity = session.scalar(select(Identity).where(Identity.number_hash == case.number_hash))
    if identity is None:
        name = svc.cipher.decrypt_text(case.declared_name_enc, "name")
        number = svc.cipher.decrypt_text(case.declared_number_enc, "document_number")
        identity = Identity(number_hash=case.number_hash,
                            number_enc=svc.cipher.encrypt_text(number, "document_number"),
                            name_enc=svc.cipher.encrypt_text(name, "name"),
                            name_hash=svc.cipher.keyed_hash(name, "name"), document_type=case.document_type,
                            birth_date=case.birth_date, created_at=now)
        session.add(identity)
    identity.blacklisted = True
    identity.blacklisted_at = now
    identity.blacklist_reason = reason
    # The face joins the 1:N blacklist search (issue 7): keep this case's selfie when the identity has
    # none yet, and tell every process's face index that the blacklist changed.
    from . import facesearch

    if identity.face_enc is None:
        face = cases._selfie_template(svc, case)
        if face is not None:
            identity.face_enc = svc.cipher.encrypt(face.astype("float64").tobytes(), facesearch.FACE_CONTEXT)
    facesearch.bump_version(session)
    session.flush()
    audit.append(session, at=now, actor=reviewer.login, action="identity.blacklisted", object_type="identity",
                 object_id=str(identity.id), data={"case": case.id, "reason": reason})
    audit.append(session, at=now, actor=reviewer.login, action="case.identity_blacklisted", object_type="case",
                 object_id=case.id, data={"identity": identity.id, "reason": reason})
    return identity


def reveal_number(svc: Services, session: Session, case_id: str, reviewer: Reviewer) -> tuple[str, str]:
    """The full declared number and name; the reveal itself goes into the audit trail."""
    case = cases.get_case(session, case_id)
    audit.append(session, at=svc.clock.now(), actor=reviewer.login, action="case.number_revealed",
                 object_type="case", object_id=case.id, data={"fields": ["document_number", "name"]})
    return (svc.cipher.decrypt_text(case.declared_number_enc, "document_number"),
            svc.cipher.decrypt_text(case.declared_name_enc, "name"))


# --- the case page --------------------------------------------------------------------------------

def case_detail(svc: Services, session: Session, case_id: str, reviewer: Reviewer,
                revealed: tuple[str, str] | None = None) -> CaseDetail:
    """The case as a reviewer sees it: masked unless ``revealed`` (from ``reveal_number``)."""
    case = cases.get_case(session, case_id)
    now = svc.clock.now()
    number = svc.cipher.decrypt_text(case.declared_number_enc, "document_number")
    name = svc.cipher.decrypt_text(case.declared_name_enc, "name")
    read: dict[str, Any] = {}
    if case.document_fields_enc:
        try:
            read = json.loads(svc.cipher.decrypt_text(case.document_fields_enc, "document_fields"))
        except ValueError:
            read = {}
    show_number = (lambda v: idnumber.normalize(v)) if revealed else idnumber.mask
    show_name = (lambda v: v) if revealed else mask_name

    def row(label: str, declared: str | None, got: Any, shown) -> FieldRow:
        got = None if got in (None, "") else str(got)
        if got is None:
            status = "not_read" if declared is not None else "same"
        elif declared is None:
            status = "same"
        else:
            status = "same" if _norm(declared) == _norm(got) else "differs"
        return FieldRow(label, shown(declared) if declared is not None else None,
                        shown(got) if got is not None else None, status)

    fields = [row("Name", name, read.get("name"), show_name),
              row("Document number", number, read.get("number"), show_number)]
    for key, label in (("birth_date", "Birth date"), ("sex", "Sex"), ("expiry_date", "Valid until"),
                       ("nationality", "Nationality")):
        if read.get(key):
            fields.append(FieldRow(label, None, str(read[key]), "same"))

    checks = []
    portrait_box = None
    for c in case.checks:
        details = dict(c.details or {})
        if c.name == "document_face" and isinstance(details.get("box"), dict):
            portrait_box = {k: int(details["box"][k]) for k in ("top", "right", "bottom", "left")
                            if k in details["box"]}
            if len(portrait_box) != 4:
                portrait_box = None
        checks.append({"name": c.name, "verdict": c.verdict, "reason": c.reason, "score": c.score,
                       "threshold": c.threshold,
                       "details": {k: v for k, v in details.items() if k not in ("box", "fields", "raw_text")}})

    same = session.execute(
        select(Case.id, Case.state, Case.created_at, Subject.external_id).join(Subject, Subject.id == Case.subject_id)
        .where(Case.number_hash == case.number_hash, Case.id != case.id)
        .order_by(Case.created_at.desc()).limit(50)).all()
    identity = session.scalar(select(Identity).where(Identity.number_hash == case.number_hash))
    accounts = {s for *_, s in same}
    if identity is not None:
        accounts |= set(session.scalars(select(Subject.external_id).where(Subject.identity_id == identity.id)))
    accounts.discard(case.subject.external_id)

    lease = live_lease(svc, session, case.id)
    needs_supervisor = case.state == "rejected"
    can_decide = (case.state == "in_review" or (needs_supervisor and has_rank(reviewer.role, "supervisor")))
    notices = []
    if reviewer.subject_external_id and reviewer.subject_external_id == case.subject.external_id:
        can_decide = False
        notices.append("This case is about your own account: another reviewer must decide it.")
    decisions = list(session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id)))
    birth = case.birth_date
    return CaseDetail(
        case=case, subject=case.subject.external_id,
        age=age_on(birth, local_today(now, svc.settings.timezone)) if birth else None,
        waiting=now - as_utc(case.created_at),
        name=revealed[1] if revealed else mask_name(name), number=revealed[0] if revealed else idnumber.mask(number),
        revealed=revealed is not None, fields=fields, checks=checks,
        images=sorted(case.images, key=lambda i: (_KIND_ORDER.get(i.kind, 9), i.seq)),
        portrait_box=portrait_box,
        same_identity_cases=[{"id": i, "state": s, "created_at": as_utc(c), "subject": sub} for i, s, c, sub in same],
        other_accounts=sorted(accounts), identity_blacklisted=bool(identity and identity.blacklisted),
        decisions=decisions, lease_holder=lease[1] if lease else None,
        lease_until=as_utc(lease[0].expires_at) if lease else None,
        lease_mine=bool(lease and lease[0].reviewer_id == reviewer.id),
        can_decide=can_decide, needs_supervisor=needs_supervisor, notices=notices,
    )


_KIND_ORDER = {"document_front": 0, "document_back": 1, "selfie": 2}


def image_jpeg(svc: Services, session: Session, case_id: str, image_id: int) -> bytes:
    """One of the case's images, decrypted and re-encoded (no metadata leaves with it)."""
    case = cases.get_case(session, case_id)
    img = next((i for i in case.images if i.id == image_id), None)
    if img is None or img.data_enc is None:
        raise InvalidInput("no such image on this case (or it was purged)", "image")
    return _reencode(svc, case, img)


def portrait_jpeg(svc: Services, session: Session, case_id: str) -> bytes:
    """The document's portrait: the face box found by the check, widened to head and shoulders."""
    case = cases.get_case(session, case_id)
    detail_box = None
    for c in case.checks:
        if c.name == "document_face" and isinstance((c.details or {}).get("box"), dict):
            detail_box = c.details["box"]
    front = next((i for i in case.images if i.kind == "document_front" and i.data_enc is not None), None)
    if detail_box is None or front is None:
        raise InvalidInput("no portrait was found on this document", "image")
    rgb = cases.decode_upload(svc, svc.cipher.decrypt(front.data_enc, f"image:{case.id}".encode())).rgb
    h, w = rgb.shape[:2]
    t, r, b, l = (int(detail_box[k]) for k in ("top", "right", "bottom", "left"))
    pad_x, pad_y = (r - l) // 2, (b - t) // 2
    crop = rgb[max(0, t - pad_y):min(h, b + pad_y), max(0, l - pad_x):min(w, r + pad_x)]
    if crop.size == 0:
        raise InvalidInput("the recorded face box lies outside the image", "image")
    return encode_jpeg(crop, 88)


def _reencode(svc: Services, case: Case, img: CaseImage) -> bytes:
    assert img.data_enc is not None
    rgb = cases.decode_upload(svc, svc.cipher.decrypt(img.data_enc, f"image:{case.id}".encode())).rgb
    pil = Image.fromarray(rgb)
    pil.thumbnail((1600, 1600))
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


# --- history ----------------------------------------------------------------------------------------

def history(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The case's audit entries, oldest first, each with whether its content still matches its hash."""
    case = cases.get_case(session, case_id)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_id == case.id).order_by(AuditEntry.id))
    out = []
    for e in entries:
        intact = audit.entry_hash(e.prev_hash, e.at, e.actor, e.action, e.object_type, e.object_id, e.data) == e.hash
        out.append({"id": e.id, "at": as_utc(e.at), "actor": e.actor, "action": e.action, "data": e.data,
                    "hash": e.hash, "intact": intact})
    return out


# --- helpers -------------------------------------------------------------------------------------------

def _check_decidable(case: Case, reviewer: Reviewer) -> None:
    if case.state == "rejected":
        if not has_rank(reviewer.role, "supervisor"):
            raise Forbidden("overturning a rejection needs a supervisor")
    elif case.state != "in_review":
        raise CaseNotOpen(case.state, f"the case is {case.state}, not in review")
    if reviewer.subject_external_id and reviewer.subject_external_id == case.subject.external_id:
        raise Forbidden("a reviewer cannot decide a case about their own account")


def _norm(value: str) -> str:
    return re.sub(r"\s+", "", str(value)).upper()
