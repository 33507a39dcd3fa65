"""Verification cases: one function per use case, each one transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, idnumber
from .checks import APPROVED, FAIL, IN_REVIEW, PASS, REJECTED, REVIEW, CheckResult
from .clock import as_utc
from .context import Services
from .errors import (
    CaseExpired, CaseIncomplete, CaseNotFound, CaseNotOpen, Forbidden, InvalidInput, NotVerified,
)
from .faces import distance
from .images import DecodedImage, decode
from .models import Case, CaseImage, CheckRecord, Decision, Identity, Subject
from .pipeline import DOCUMENT_TYPES, Evidence, Outcome

ROLES = ("viewer", "anchor", "merchant")
CHALLENGE_ACTIONS = ("blink", "turn_left", "turn_right")
OPEN_STATES = ("created", "collecting")
REVIEW_REASONS = ("documents_match", "face_matches", "face_does_not_match", "document_unreadable",
                  "document_forged", "identity_in_use", "liveness_failed", "other")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


# --- creating and collecting -------------------------------------------------

def new_challenge(rng: secrets.SystemRandom | None = None) -> list[str]:
    """Two or three distinct actions in an unpredictable order."""
    rng = rng or secrets.SystemRandom()
    return rng.sample(CHALLENGE_ACTIONS, rng.choice((2, 3)))


def create_case(svc: Services, session: Session, *, subject_id: str, role: str, declared_name: str,
                document_type: str, document_number: str, phone: str | None = None,
                actor: str = "platform") -> tuple[Case, str]:
    """Open a case for a subject; returns it and the client secret the app uses for this case only."""
    subject_id = _required(subject_id, "subject_id")
    if not _SUBJECT.match(subject_id):
        raise InvalidInput("subject_id: 1 to 128 letters, digits or _.:@-", "subject_id")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", "role")
    if document_type not in DOCUMENT_TYPES:
        raise InvalidInput(f"document_type must be one of {', '.join(DOCUMENT_TYPES)}", "document_type")
    name = " ".join(_required(declared_name, "declared_name").split())
    if len(name) > 100:
        raise InvalidInput("declared_name is longer than 100 characters", "declared_name")
    number = idnumber.normalize(_required(document_number, "document_number"))
    if not re.fullmatch(r"[A-Z0-9<]{4,32}", number):
        raise InvalidInput("document_number: 4 to 32 letters or digits", "document_number")
    if phone is not None and phone != "" and not (isinstance(phone, str) and _PHONE.fullmatch(phone)):
        raise InvalidInput("phone must be in E.164 form, like +8613800138000", "phone")

    now = svc.clock.now()
    subject = _get_or_create_subject(session, subject_id, now)
    if phone:
        subject.phone_enc = svc.cipher.encrypt_text(phone, "phone")
    secret = secrets.token_urlsafe(24)
    case = Case(
        id=str(uuid.uuid4()), subject=subject, role=role, state="created", document_type=document_type,
        declared_name_enc=svc.cipher.encrypt_text(name, "name"),
        declared_number_enc=svc.cipher.encrypt_text(number, "document_number"),
        number_hash=svc.cipher.keyed_hash(number, "document_number"),
        phone_enc=svc.cipher.encrypt_text(phone, "phone") if phone else None,
        client_secret_hash=_secret_hash(secret), challenge=new_challenge(),
        liveness_mode=svc.settings.liveness, created_at=now, updated_at=now,
        expires_at=now + timedelta(seconds=svc.settings.case_ttl_seconds), reasons=[],
    )
    session.add(case)
    session.flush()
    audit.append(session, at=now, actor=actor, action="case.created", object_type="case", object_id=case.id,
                 data={"subject": subject_id, "role": role, "document_type": document_type})
    return case, secret


def check_client_secret(case: Case, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(case.client_secret_hash, _secret_hash(secret or ""))


def decode_upload(svc: Services, data: bytes) -> DecodedImage:
    """Decode an upload under the configured caps (raises InvalidImage / ImageTooLarge)."""
    s = svc.settings
    return decode(data, max_bytes=s.max_upload_bytes, max_pixels=s.max_image_pixels, min_side=s.min_image_side)


def attach_document(svc: Services, session: Session, case_id: str, front: bytes,
                    back: bytes | None = None) -> Case:
    """Store the document image(s); every file is decoded first, so a bad one changes nothing."""
    case = _open_case(svc, session, case_id)
    images = [("document_front", decode_upload(svc, front), front)]
    if back is not None:
        images.append(("document_back", decode_upload(svc, back), back))
    _replace_images(svc, case, ("document_front", "document_back"), images)
    return case


def attach_selfie(svc: Services, session: Session, case_id: str, frames: Sequence[bytes]) -> Case:
    """Store the selfie frames in challenge order, replacing earlier ones."""
    if not frames:
        raise InvalidInput("at least one selfie frame is required", "frames")
    if len(frames) > 10:
        raise InvalidInput("at most 10 selfie frames", "frames")
    case = _open_case(svc, session, case_id)
    decoded = [("selfie", decode_upload(svc, data), data) for data in frames]
    _replace_images(svc, case, ("selfie",), decoded)
    return case


def _replace_images(svc: Services, case: Case, kinds: tuple[str, ...],
                    images: list[tuple[str, DecodedImage, bytes]]) -> None:
    now = svc.clock.now()
    for old in [i for i in case.images if i.kind in kinds]:
        case.images.remove(old)
    for seq, (kind, img, data) in enumerate(images):
        case.images.append(CaseImage(
            kind=kind, seq=seq, sha256=hashlib.sha256(data).hexdigest(), width=img.width, height=img.height,
            data_enc=svc.cipher.encrypt(data, f"image:{case.id}".encode()), created_at=now,
        ))
    case.state = "collecting"
    case.updated_at = now


# --- submitting ----------------------------------------------------------------

STALE_PROCESSING = timedelta(minutes=10)


def begin_submit(svc: Services, session: Session, case_id: str) -> Evidence:
    """Move the case to ``processing`` and hand back its evidence (the caller commits first).

    A case left in ``processing`` by a process that died mid-check may be submitted
    again once it is stale; a live submission in progress gets ``case_not_open``.
    """
    case = get_case(session, case_id)
    if (case.state == "processing" and case.submitted_at is not None
            and as_utc(case.submitted_at) < svc.clock.now() - STALE_PROCESSING):
        case.state = "collecting"
    case = _open_case(svc, session, case_id)
    kinds = {i.kind for i in case.images}
    for needed, label in (("document_front", "document"), ("selfie", "selfie")):
        if needed not in kinds:
            raise CaseIncomplete(label)
    evidence = evidence_of(svc, case)
    case.state = "processing"
    case.submitted_at = case.updated_at = svc.clock.now()
    return evidence


def evidence_of(svc: Services, case: Case) -> Evidence:
    def load(img: CaseImage) -> DecodedImage:
        if img.data_enc is None:
            raise CaseIncomplete("images (they were purged)")
        return decode_upload(svc, svc.cipher.decrypt(img.data_enc, f"image:{case.id}".encode()))

    by_kind: dict[str, list[DecodedImage]] = {}
    for img in sorted(case.images, key=lambda i: (i.kind, i.seq)):
        by_kind.setdefault(img.kind, []).append(load(img))
    if "document_front" not in by_kind:
        raise CaseIncomplete("document")
    return Evidence(
        document_type=case.document_type,
        declared_name=svc.cipher.decrypt_text(case.declared_name_enc, "name"),
        declared_number=svc.cipher.decrypt_text(case.declared_number_enc, "document_number"),
        document_front=by_kind["document_front"][0],
        document_back=(by_kind.get("document_back") or [None])[0],
        selfies=by_kind.get("selfie", []),
        challenge=list(case.challenge or []),
    )


def submit_case(svc: Services, case_id: str, actor: str = "platform") -> Case:
    """Run every automatic check and record the decision.

    Three short transactions: claim the case (so a second submit gets a clear
    conflict), run the checks outside any transaction (they take seconds of CPU),
    then record the outcome with its audit entry.
    """
    with svc.db.uow() as session:
        evidence = begin_submit(svc, session, case_id)
        session.commit()
    try:
        outcome = svc.verifier.run(evidence, svc.policy, svc.clock.now())
    except BaseException:
        with svc.db.uow() as session:
            case = session.get(Case, case_id)
            if case is not None and case.state == "processing":
                case.state = "collecting"
                session.commit()
        raise
    with svc.db.uow() as session:
        case = session.get(Case, case_id)
        assert case is not None
        record_outcome(svc, session, case, outcome, actor)
        session.commit()
        return case


def record_outcome(svc: Services, session: Session, case: Case, outcome: Outcome, actor: str) -> None:
    """Add the identity checks, store every check, and decide the case."""
    now = svc.clock.now()
    identity_check = check_identity(svc, session, case, outcome)
    from .facesearch import check_blacklisted_face  # a blacklisted face on a new document (R14)

    face_check = check_blacklisted_face(svc, session, outcome.selfie_encoding)
    added = [c for c in (identity_check, face_check) if c is not None]
    if added:
        outcome.checks.extend(added)
        from .checks import decide

        outcome.decision, outcome.reasons = decide(outcome.checks)
    for check in outcome.checks:
        case.checks.append(CheckRecord(name=check.name, verdict=check.verdict, score=check.score,
                                       threshold=check.threshold, reason=check.reason,
                                       details=_jsonable({**check.details, **({"hint": check.hint}
                                                                              if check.hint else {})}),
                                       created_at=now))
    case.birth_date = outcome.birth_date
    case.adult = outcome.adult
    case.document_fields_enc = svc.cipher.encrypt_text(json.dumps(outcome.document), "document_fields")
    case.decision = outcome.decision
    case.reasons = outcome.reasons
    case.state = {APPROVED: "approved", REJECTED: "rejected", IN_REVIEW: "in_review"}[outcome.decision]
    case.updated_at = now
    if outcome.decision != IN_REVIEW:
        case.decided_at = now
    session.add(Decision(case_id=case.id, source="machine", actor=actor, decision=outcome.decision,
                         reasons=outcome.reasons, created_at=now))
    if outcome.decision == APPROVED:
        _approve(svc, session, case, outcome.level, outcome.selfie_encoding, now)
    audit.append(session, at=now, actor=actor, action=f"case.{outcome.decision}", object_type="case",
                 object_id=case.id, data={"reasons": outcome.reasons, "level": case.level})


def check_identity(svc: Services, session: Session, case: Case, outcome: Outcome) -> CheckResult | None:
    """Blacklisted identity → reject; the same identity verified for another account → review (R14)."""
    if any(c.name == "document_number" and c.verdict == FAIL for c in outcome.checks):
        return None
    identity = session.scalar(select(Identity).where(Identity.number_hash == case.number_hash))
    if identity is None:
        return CheckResult("identity", PASS, None)
    if identity.blacklisted:
        return CheckResult("identity", FAIL, "identity_blacklisted")
    others = session.scalars(select(Subject.external_id).where(
        Subject.identity_id == identity.id, Subject.id != case.subject_id)).all()
    if others:
        return CheckResult("identity", REVIEW, "identity_in_use", score=float(len(others)),
                           details={"other_accounts": list(others)})
    return CheckResult("identity", PASS, None)


def _approve(svc: Services, session: Session, case: Case, level: str, face: Any, now: datetime) -> None:
    number = svc.cipher.decrypt_text(case.declared_number_enc, "document_number")
    name = svc.cipher.decrypt_text(case.declared_name_enc, "name")
    identity = session.scalar(select(Identity).where(Identity.number_hash == case.number_hash))
    if identity is None:
        identity = Identity(
            number_hash=case.number_hash, number_enc=svc.cipher.encrypt_text(number, "document_number"),
            name_enc=svc.cipher.encrypt_text(name, "name"), name_hash=svc.cipher.keyed_hash(name, "name"),
            document_type=case.document_type, birth_date=case.birth_date, created_at=now,
        )
        session.add(identity)
    if face is not None:
        identity.face_enc = svc.cipher.encrypt(face.astype("float64").tobytes(), b"face_template")
    session.flush()
    subject = case.subject
    subject.identity_id = identity.id
    subject.verified_case_id = case.id
    subject.verified_at = now
    subject.approval_expires_at = now + timedelta(days=svc.settings.approval_valid_days)
    subject.level = level
    subject.birth_date = case.birth_date
    case.level = level


# --- reading ---------------------------------------------------------------------

def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id) if _is_uuid(case_id) else None
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def case_view(svc: Services, case: Case) -> dict[str, Any]:
    """The case as the platform may see it: no raw document number, no internal details."""
    number = svc.cipher.decrypt_text(case.declared_number_enc, "document_number")
    return {
        "id": case.id,
        "subject_id": case.subject.external_id,
        "role": case.role,
        "state": _effective_state(svc, case),
        "document_type": case.document_type,
        "document_number": idnumber.mask(number),
        "challenge": case.challenge,
        "created_at": _iso(case.created_at),
        "expires_at": _iso(case.expires_at),
        "submitted_at": _iso(case.submitted_at),
        "decision": case.decision,
        "reasons": case.reasons or [],
        "adult": case.adult,
        "level": case.level,
        "uploads": {k: sum(1 for i in case.images if i.kind == k)
                    for k in ("document_front", "document_back", "selfie")},
        "checks": [
            {"name": c.name, "verdict": c.verdict, "reason": c.reason,
             **({"score": round(c.score, 4)} if c.score is not None else {}),
             **({"threshold": c.threshold} if c.threshold is not None else {}),
             # which liveness step failed, and what the user can do about it
             **{k: (c.details or {})[k] for k in ("step", "hint") if k in (c.details or {})}}
            for c in case.checks
        ],
    }


def _effective_state(svc: Services, case: Case) -> str:
    if case.state in OPEN_STATES and as_utc(case.expires_at) <= svc.clock.now():
        return "expired"
    return case.state


# --- manual review ------------------------------------------------------------------

def review_queue(session: Session, limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
    """Cases waiting for a reviewer, oldest first."""
    q = select(Case).where(Case.state == "in_review")
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(Case.created_at, Case.id).limit(limit).offset(offset)).all()
    return list(rows), total


def decide_review(svc: Services, session: Session, case_id: str, *, reviewer: str, role: str,
                  decision: str, reason: str, note: str = "", reviewer_subject: str | None = None) -> Case:
    """A reviewer's approval or rejection, written with its audit entry in the caller's transaction."""
    if decision not in (APPROVED, REJECTED):
        raise InvalidInput("decision must be approved or rejected", "decision")
    if reason not in REVIEW_REASONS:
        raise InvalidInput(f"reason must be one of {', '.join(REVIEW_REASONS)}", "reason")
    if len(note or "") > 2000:
        raise InvalidInput("note is longer than 2000 characters", "note")
    case = get_case(session, case_id)
    if role not in ("reviewer", "supervisor", "admin"):
        raise Forbidden("only reviewers decide cases")
    overturning = case.state == "rejected" and decision == APPROVED
    if case.state != "in_review" and not overturning:
        raise CaseNotOpen(case.state, f"the case is {case.state}, not in review")
    if reviewer_subject and reviewer_subject == case.subject.external_id:
        raise Forbidden("a reviewer cannot decide a case about their own account")
    if overturning and role not in ("supervisor", "admin"):
        raise Forbidden("overturning a rejection needs a supervisor")
    now = svc.clock.now()
    case.decision = decision
    case.reasons = [reason]
    case.state = decision
    case.decided_at = case.updated_at = now
    session.add(Decision(case_id=case.id, source="reviewer", actor=reviewer, decision=decision,
                         reasons=[reason], note=note or None, created_at=now))
    if decision == APPROVED:
        if case.birth_date is None:
            raise InvalidInput("the birth date is unknown: the case cannot be approved", "decision")
        base = "document+face+liveness" if any(
            c.name == "liveness" and c.verdict == PASS for c in case.checks) else "document+face"
        face = _selfie_template(svc, case)
        _approve(svc, session, case, base + "+review", face, now)
    audit.append(session, at=now, actor=reviewer, action=f"review.{decision}", object_type="case",
                 object_id=case.id, data={"reason": reason, "note": note or "",
                                           **({"overturned": "rejected"} if overturning else {})})
    return case


def _selfie_template(svc: Services, case: Case):
    try:
        evidence = evidence_of(svc, case)
    except CaseIncomplete:
        return None
    faces = svc.verifier.faces.analyze(evidence.selfies[0].rgb, max_faces=1) if evidence.selfies else []
    return faces[0].encoding if faces else None


# --- subjects and tokens ----------------------------------------------------------

def live_subject(svc: Services, session: Session, subject_id: str) -> Subject:
    """The subject if it holds a live approval, else NotVerified."""
    subject = session.scalar(select(Subject).where(Subject.external_id == str(subject_id)))
    if subject is None or subject.verified_at is None:
        raise NotVerified("the subject has no approved verification")
    if subject.approval_expires_at and as_utc(subject.approval_expires_at) <= svc.clock.now():
        raise NotVerified("the subject's verification has expired and must be renewed")
    if subject.identity is not None and subject.identity.blacklisted:
        raise NotVerified("the subject's identity is blacklisted")
    return subject


def face_distance(a: Any, b: Any) -> float:
    return distance(a, b)


# --- helpers ----------------------------------------------------------------------------

def _open_case(svc: Services, session: Session, case_id: str) -> Case:
    case = get_case(session, case_id)
    if case.state not in OPEN_STATES:
        raise CaseNotOpen(case.state)
    if as_utc(case.expires_at) <= svc.clock.now():
        raise CaseExpired("the case expired before it was submitted; open a new one")
    return case


def _get_or_create_subject(session: Session, external_id: str, now: datetime) -> Subject:
    subject = session.scalar(select(Subject).where(Subject.external_id == external_id))
    if subject is None:
        subject = Subject(external_id=external_id, created_at=now)
        session.add(subject)
        session.flush()
    return subject


def _required(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required", name)
    return value.strip()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
