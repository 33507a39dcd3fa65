"""Seeding verified people straight through the domain (no photos), for gate and report tests."""

from __future__ import annotations

import random
import zlib
from datetime import date

from fixtures import cards
from verification import cases


def seed_verified(svc, session, subject_id: str, *, role: str = "anchor", birth_date: date = date(1990, 5, 17),
                  document_type: str = "cn_resident_id", number: str | None = None, seed: int | None = None):
    """A subject approved as if its case had passed every check (the real `_approve` writes the identity)."""
    if number is None:
        if document_type == "passport":
            number = f"E{zlib.crc32(subject_id.encode()) % 10**8:08d}"
        else:
            person = cards.random_person(random.Random(seed if seed is not None else subject_id),
                                         birth_date=birth_date)
            number = person.number
    case, _ = cases.create_case(svc, session, subject_id=subject_id, role=role, declared_name="测试主播",
                                document_type=document_type, document_number=number)
    case.birth_date = birth_date
    case.state = case.decision = "approved"
    case.reasons = []
    cases._approve(svc, session, case, "document+face", None, svc.clock.now())
    session.flush()
    return case.subject


def token_for(client, auth, subject_id: str, audience: str = "broadcasting") -> str:
    resp = client.post("/v1/tokens", json={"subject_id": subject_id, "audience": audience}, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["token"]
