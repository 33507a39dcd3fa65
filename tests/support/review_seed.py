"""Cases waiting for review, written straight into the store (no face checks run).

Used by the reviewer UI tests and bench/bench_review.py. Personal fields are
encrypted exactly as ``cases.create_case`` does; the checks are the ones a face
match in the uncertain band would have left.
"""

from __future__ import annotations

import io
import json
import random
import uuid
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw
from sqlalchemy import insert, select

from fixtures import cards
from verification import audit, idnumber
from verification.models import Case, CaseImage, CheckRecord, Decision, Subject


def _jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _face(size: tuple[int, int], seed: int) -> np.ndarray:
    """A drawn head and shoulders: enough for a reviewer's page, no real person."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (200 + rng.randint(0, 40), 210, 225))
    d = ImageDraw.Draw(img)
    skin = (224, 180 + rng.randint(-20, 20), 150)
    d.ellipse((w * 0.15, h * 0.72, w * 0.85, h * 1.3), fill=(60, 70, 110))
    d.ellipse((w * 0.3, h * 0.18, w * 0.7, h * 0.68), fill=skin)
    d.ellipse((w * 0.39, h * 0.36, w * 0.45, h * 0.40), fill=(30, 30, 30))
    d.ellipse((w * 0.55, h * 0.36, w * 0.61, h * 0.40), fill=(30, 30, 30))
    d.arc((w * 0.42, h * 0.45, w * 0.58, h * 0.58), 20, 160, fill=(120, 40, 40), width=3)
    return np.asarray(img)


@lru_cache(maxsize=8)
def card_and_selfies(seed: int, number: str, name: str, born: date) -> tuple[bytes, list[bytes], dict[str, int]]:
    """A synthetic ID card photo, two selfie frames, and the portrait's box on the card photo."""
    person = cards.random_person(random.Random(seed), birth_date=born)
    person.number, person.name = number, name
    front = cards.photograph(cards.render_front(person, _face((358, 441), seed), seed=seed))
    scale, margin = 0.75, 60  # cards.photograph's defaults
    box = {"top": int(150 * scale + margin + 120 * scale), "left": int(1150 * scale + margin + 120 * scale),
           "bottom": int(730 * scale + margin - 150 * scale), "right": int(1620 * scale + margin - 120 * scale)}
    selfies = [_jpeg(_face((480, 600), seed + k)) for k in range(2)]
    return _jpeg(front), selfies, box


def resident_id(rng: random.Random, born: date) -> str:
    return idnumber.make("110101", born, rng.randrange(0, 999))


def seed_case(svc, session, *, subject_id: str, role: str = "viewer", reasons=("face_uncertain",),
              created_at: datetime | None = None, number: str | None = None, name: str = "王小明",
              born: date = date(1990, 5, 17), read_name: str | None = None, seed: int = 1,
              with_images: bool = True) -> Case:
    """One case in review with its checks, images and machine decision, plus the audit entry."""
    now = created_at or svc.clock.now()
    number = number or resident_id(random.Random(seed), born)
    subject = session.scalar(select(Subject).where(Subject.external_id == subject_id))
    if subject is None:
        subject = Subject(external_id=subject_id, created_at=now)
        session.add(subject)
        session.flush()
    c = svc.cipher
    case = Case(
        id=str(uuid.uuid4()), subject=subject, role=role, state="in_review", document_type="cn_resident_id",
        declared_name_enc=c.encrypt_text(name, "name"),
        declared_number_enc=c.encrypt_text(number, "document_number"),
        number_hash=c.keyed_hash(number, "document_number"), client_secret_hash="0" * 64,
        challenge=["blink", "turn_left"], liveness_mode="required", created_at=now, updated_at=now,
        expires_at=now + timedelta(hours=1), submitted_at=now, decision="in_review", reasons=list(reasons),
        birth_date=born, adult=True,
        document_fields_enc=c.encrypt_text(json.dumps({"number": number, "name": read_name or name,
                                                       "birth_date": born.isoformat()}), "document_fields"),
    )
    session.add(case)
    box = None
    if with_images:
        front, selfies, box = card_and_selfies(seed, number, read_name or name, born)
        for kind, seq, data in [("document_front", 0, front)] + [("selfie", k, s) for k, s in enumerate(selfies)]:
            w, h = Image.open(io.BytesIO(data)).size
            case.images.append(CaseImage(kind=kind, seq=seq, sha256="0" * 64, width=w, height=h,
                                         data_enc=c.encrypt(data, f"image:{case.id}".encode()), created_at=now))
    for check in _checks(reasons, box):
        case.checks.append(CheckRecord(**check, created_at=now))
    session.flush()
    session.add(Decision(case_id=case.id, source="machine", actor="platform", decision="in_review",
                         reasons=list(reasons), created_at=now))
    session.flush()
    audit.append(session, at=now, actor="platform", action="case.in_review", object_type="case",
                 object_id=case.id, data={"reasons": list(reasons), "level": None})
    return case


def _checks(reasons, box) -> list[dict]:
    checks = [dict(name="document_number", verdict="pass", details={}),
              dict(name="document_face", verdict="pass", score=1.0, details={"box": box} if box else {}),
              dict(name="selfie_face", verdict="pass", score=1.0, threshold=1.0, details={"frame": 0}),
              dict(name="liveness", verdict="review" if "liveness_not_proven" in reasons else "pass",
                   reason="liveness_not_proven" if "liveness_not_proven" in reasons else None, details={}),
              dict(name="face_match", verdict="review" if "face_uncertain" in reasons else "pass",
                   reason="face_uncertain" if "face_uncertain" in reasons else None,
                   score=0.5213 if "face_uncertain" in reasons else 0.31, threshold=0.45,
                   details={"accept": 0.45, "reject": 0.6}),
              dict(name="age", verdict="pass", score=36.0, threshold=18.0, details={})]
    return checks


def bulk_seed(svc, session, count: int, start: datetime, *, roles=("viewer", "anchor", "merchant"),
              reasons_cycle=(("face_uncertain",), ("liveness_not_proven",), ("identity_in_use",),
                             ("face_uncertain", "liveness_not_proven"))) -> None:
    """Many cases in review without images (for the benchmark): plain multi-row INSERTs."""
    c = svc.cipher
    subject_rows = [{"external_id": f"bench-{i}", "created_at": start} for i in range(count)]
    session.execute(insert(Subject), subject_rows)
    ids = dict(session.execute(select(Subject.external_id, Subject.id)
                               .where(Subject.external_id.like("bench-%"))).all())
    rng = random.Random(7)
    name_enc = c.encrypt_text("李四", "name")
    rows, check_rows = [], []
    for i in range(count):
        number = resident_id(rng, date(1980 + i % 20, 1 + i % 12, 1 + i % 28))
        created = start + timedelta(seconds=i * 7)
        case_id = str(uuid.uuid4())
        reasons = list(reasons_cycle[i % len(reasons_cycle)])
        rows.append(dict(id=case_id, subject_id=ids[f"bench-{i}"], role=roles[i % len(roles)], state="in_review",
                         document_type="cn_resident_id", declared_name_enc=name_enc,
                         declared_number_enc=c.encrypt_text(number, "document_number"),
                         number_hash=c.keyed_hash(number, "document_number"), client_secret_hash="0" * 64,
                         challenge=["blink"], liveness_mode="required", created_at=created, updated_at=created,
                         expires_at=created + timedelta(hours=1), submitted_at=created, decision="in_review",
                         reasons=reasons, birth_date=date(1990, 1, 1), adult=True))
        check_rows.append(dict(case_id=case_id, name="face_match", verdict="review", reason="face_uncertain",
                               score=0.52, threshold=0.45, details={}, created_at=created))
    for k in range(0, count, 1000):
        session.execute(insert(Case), rows[k:k + 1000])
        session.execute(insert(CheckRecord), check_rows[k:k + 1000])


# --- reviewers ----------------------------------------------------------------------------------

PASSWORD = "a long enough passphrase"


def enrolled_reviewer(svc, login: str, role: str = "reviewer", subject: str | None = None) -> str:
    """A reviewer who has been through the first login (own password, TOTP enrolled); returns the TOTP secret."""
    import pyotp

    from verification import reviewers

    with svc.db.uow() as session:
        _, once = reviewers.create_reviewer(svc, session, login, role, subject, actor="test")
        session.commit()
    step = reviewers.check_password(svc, login, once)
    secret, _ = reviewers.enrollment_secret(svc, step.reviewer_id)
    reviewers.complete_enrollment(svc, step.reviewer_id, PASSWORD, PASSWORD,
                                  pyotp.TOTP(secret).at(svc.clock.now()))
    return secret


def session_token(svc, login: str, secret: str) -> str:
    """A fresh session token for an enrolled reviewer (password and the next unused code)."""
    import pyotp

    from verification import reviewers

    # Each code works once: use the next time step's (a fixed clock moves on; the wall clock's
    # next code is inside the one-step tolerance).
    if hasattr(svc.clock, "advance"):
        svc.clock.advance(seconds=30)
        at = svc.clock.now()
    else:
        at = svc.clock.now() + timedelta(seconds=30)
    step = reviewers.check_password(svc, login, PASSWORD)
    return reviewers.check_code(svc, step.reviewer_id, pyotp.TOTP(secret).at(at))
