"""The verification flow through the Flask app, on SQLite and PostgreSQL, with real photos."""

from __future__ import annotations

from datetime import date

import jwt
import pytest
from sqlalchemy import select

from tests.support.flow import app_auth, open_case, submit, upload_document, verify_over_http
from tests.support.people import load_rgb, make_card, photo_bytes
from verification.models import AuditEntry, Case, Identity

OWNER_CARD_PHOTO = "lab4/faker_2_0002.jpg"
OWNER_SELFIE = "lab4/faker_2_0007.jpg"
OTHER_PERSON = "deepface/img2.jpg"
NO_FACE = "insightface/view.jpg"


@pytest.fixture
def owner_card(faces_dir, face_engine):
    return make_card(face_engine, load_rgb(str(faces_dir / OWNER_CARD_PHOTO)), seed=7)


def test_the_card_owner_is_approved_and_gets_a_token_that_verifies_against_the_jwks(
        client, auth, owner_card, faces_dir):
    person, card = owner_card
    opened, result = verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                                      name=person.name, number=person.number)
    assert result["decision"] == "approved", result
    assert result["state"] == "approved" and result["adult"] is True
    match = next(c for c in result["checks"] if c["name"] == "face_match")
    assert match["verdict"] == "pass" and match["score"] <= match["threshold"]

    resp = client.post("/v1/tokens", json={"subject_id": "user-1", "audience": "tipping"}, headers=auth)
    assert resp.status_code == 201
    token = resp.get_json()["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k).key for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience="tipping", options={"verify_exp": False})
    assert claims["sub"] == "user-1" and claims["adult"] is True and claims["real_name"] is True
    assert claims["level"] == "document+face"


def test_another_persons_selfie_is_never_approved(client, auth, owner_card, faces_dir):
    person, card = owner_card
    _, result = verify_over_http(client, auth, card, photo_bytes(faces_dir, OTHER_PERSON),
                                 name=person.name, number=person.number)
    assert result["decision"] != "approved"
    assert "face_mismatch" in result["reasons"] or "face_uncertain" in result["reasons"]
    resp = client.post("/v1/tokens", json={"subject_id": "user-1", "audience": "tipping"}, headers=auth)
    assert resp.status_code == 403 and resp.get_json()["error"] == "not_verified"


def test_a_selfie_with_no_face_is_rejected(client, auth, owner_card, faces_dir):
    person, card = owner_card
    _, result = verify_over_http(client, auth, card, photo_bytes(faces_dir, NO_FACE),
                                 name=person.name, number=person.number)
    assert result["decision"] == "rejected" and "no_face_in_selfie" in result["reasons"]


def test_a_wrong_check_character_is_rejected_as_an_invalid_number(client, auth, owner_card, faces_dir):
    person, card = owner_card
    wrong = person.number[:17] + ("0" if person.number[17] != "0" else "1")
    _, result = verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                                 name=person.name, number=wrong)
    assert result["decision"] == "rejected" and result["reasons"] == ["document_number_invalid"]


@pytest.mark.parametrize("born, adult", [(date(2008, 6, 16), False), (date(2008, 6, 15), True)])
def test_adulthood_turns_on_the_18th_birthday_in_shanghai(client, auth, faces_dir, face_engine, born, adult):
    # The fixed clock reads 2026-06-15 12:00 in Shanghai.
    person, card = make_card(face_engine, load_rgb(str(faces_dir / OWNER_CARD_PHOTO)), seed=3, birth_date=born)
    _, result = verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                                 name=person.name, number=person.number)
    assert result["decision"] == "approved"
    assert result["adult"] is adult
    assert ("minor" in result["reasons"]) is (not adult)
    token = client.post("/v1/tokens", json={"subject_id": "user-1", "audience": "tipping"}, headers=auth)
    assert jwt.decode(token.get_json()["token"], options={"verify_signature": False})["adult"] is adult


def test_document_number_and_name_are_stored_only_encrypted(client, auth, owner_card, faces_dir, services):
    person, card = owner_card
    verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                     name=person.name, number=person.number)
    with services.db.engine.connect() as conn:
        from sqlalchemy import MetaData

        meta = MetaData()
        meta.reflect(conn)
        dump = []
        for table in meta.sorted_tables:
            for row in conn.execute(table.select()):
                dump.extend(v if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row)
    blob = b"\n".join(bytes(v) for v in dump)
    assert person.number.encode() not in blob
    assert person.name.encode() not in blob


def test_a_lowercase_x_is_stored_as_the_same_identity_as_uppercase(client, auth, services):
    a = open_case(client, auth, subject_id="a", number="11010519491231002x")
    b = open_case(client, auth, subject_id="b", number="11010519491231002X")
    with services.db.uow() as session:
        ha = session.get(Case, a.id).number_hash
        hb = session.get(Case, b.id).number_hash
    assert ha == hb
    view = client.get(f"/v1/cases/{a.id}", headers=auth).get_json()
    assert view["document_number"] == "1101**********002X"


def test_the_same_identity_on_a_second_account_goes_to_review(client, auth, owner_card, faces_dir, services):
    person, card = owner_card
    selfie = photo_bytes(faces_dir, OWNER_SELFIE)
    verify_over_http(client, auth, card, selfie, subject_id="first", name=person.name, number=person.number)
    _, second = verify_over_http(client, auth, card, selfie, subject_id="second", name=person.name,
                                 number=person.number)
    assert second["decision"] == "in_review" and "identity_in_use" in second["reasons"]
    with services.db.uow() as session:
        assert len(session.scalars(select(Identity)).all()) == 1


def test_a_supervisor_decides_a_case_in_review_and_the_audit_chain_holds(
        client, auth, owner_card, faces_dir, services):
    person, card = owner_card
    selfie = photo_bytes(faces_dir, OWNER_SELFIE)
    verify_over_http(client, auth, card, selfie, subject_id="first", name=person.name, number=person.number)
    opened, second = verify_over_http(client, auth, card, selfie, subject_id="second", name=person.name,
                                      number=person.number)
    queue = client.get("/v1/review/cases", headers=auth).get_json()
    assert [c["id"] for c in queue["cases"]] == [opened.id]
    resp = client.post(f"/v1/review/cases/{opened.id}/decision", headers=auth,
                       json={"decision": "approved", "reason": "documents_match", "note": "same person, new phone"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "approved"
    assert client.get("/v1/review/cases", headers=auth).get_json()["total"] == 0
    token = client.post("/v1/tokens", json={"subject_id": "second", "audience": "tipping"}, headers=auth)
    assert jwt.decode(token.get_json()["token"], options={"verify_signature": False})["level"] == \
        "document+face+review"
    again = client.post(f"/v1/review/cases/{opened.id}/decision", headers=auth,
                        json={"decision": "rejected", "reason": "other"})
    assert again.status_code == 409 and again.get_json()["error"] == "case_not_open"
    from verification.audit import verify_chain

    with services.db.uow() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert verify_chain(entries).broken_at is None
        assert any(e.action == "review.approved" and e.object_id == opened.id for e in entries)


def test_submitting_twice_is_a_conflict_not_a_second_decision(client, auth, owner_card, faces_dir):
    person, card = owner_card
    opened, _ = verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                                 name=person.name, number=person.number)
    resp = submit(client, opened)
    assert resp.status_code == 409 and resp.get_json()["error"] == "case_not_open"


def test_submitting_without_a_selfie_says_what_is_missing(client, auth, owner_card):
    _, card = owner_card
    opened = open_case(client, auth)
    upload_document(client, opened, card)
    resp = submit(client, opened)
    assert resp.status_code == 409 and resp.get_json()["error"] == "case_incomplete"


def test_the_case_view_hides_the_raw_number_and_internal_details(client, auth, owner_card, faces_dir):
    person, card = owner_card
    opened, _ = verify_over_http(client, auth, card, photo_bytes(faces_dir, OWNER_SELFIE),
                                 name=person.name, number=person.number)
    view = client.get(f"/v1/cases/{opened.id}", headers=app_auth(opened)).get_json()
    text = str(view)
    assert person.number not in text and person.name not in text
    assert view["document_number"].startswith(person.number[:4]) and "*" in view["document_number"]
    assert all("details" not in c for c in view["checks"])
