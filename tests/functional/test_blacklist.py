"""The identity blacklist over HTTP with real photos: by document number and by face (1:N search)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.anchors import token_for
from tests.support.flow import verify_over_http
from tests.support.people import load_rgb, make_card, photo_bytes
from verification.models import AuditEntry, Identity

# Three photos of one person (Faker): pairwise face distances 0.32–0.38, under the accept threshold.
FIRST_CARD, FIRST_SELFIE = "lab4/faker_2_0002.jpg", "lab4/faker_2_0007.jpg"
SECOND_CARD, SECOND_SELFIE = "lab4/faker_2_0013.jpg", "lab4/faker_2_0002.jpg"
# Another East Asian man (Ke Jie): 0.54–0.59 from Faker's selfie, inside the 1:1 review band.
STRANGER_CARD, STRANGER_SELFIE = "lab4/kejie_3_0003.jpg", "lab4/kejie_3_0013.jpg"


def card(faces_dir, face_engine, file, seed):
    return make_card(face_engine, load_rgb(str(faces_dir / file)), seed=seed)


@pytest.fixture
def blacklisted(client, auth, faces_dir, face_engine):
    """Faker verified as the anchor of account ``old-vest``, with a room, then blacklisted."""
    person, front = card(faces_dir, face_engine, FIRST_CARD, seed=11)
    _, result = verify_over_http(client, auth, front, photo_bytes(faces_dir, FIRST_SELFIE), subject_id="old-vest",
                                 role="anchor", name=person.name, number=person.number)
    assert result["decision"] == "approved", result
    token = token_for(client, auth, "old-vest")
    assert client.post("/v1/rooms", json={"room_id": "R1", "anchor_id": "old-vest", "category": "game"},
                       headers=auth).status_code == 201
    resp = client.post("/v1/anchors/old-vest/blacklist", json={"kind": "fraud", "note": "scam"}, headers=auth)
    assert resp.status_code == 200, resp.get_json()
    return person, front, token, resp.get_json()


def test_blacklisting_blocks_the_account_revokes_its_tokens_and_closes_its_rooms(client, auth, blacklisted,
                                                                                 services):
    _, _, token, result = blacklisted
    assert result["accounts_blocked"] == ["old-vest"] and result["rooms_closed"] == ["R1"]
    intro = client.post("/v1/tokens/introspect", json={"token": token, "audience": "broadcasting"}, headers=auth)
    assert intro.status_code == 401 and intro.get_json()["error"] == "token_revoked"
    again = client.post("/v1/tokens", json={"subject_id": "old-vest", "audience": "broadcasting"}, headers=auth)
    assert again.status_code == 403 and again.get_json()["error"] == "not_verified"
    gate = client.post("/v1/broadcasts/authorize", json={"token": token, "room_id": "R1", "category": "game"},
                       headers=auth).get_json()
    assert gate == {"decision": "denied", "reason": "identity_blacklisted"}
    with services.db.uow() as session:
        assert session.scalar(select(Identity.blacklisted)) is True
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "identity.blacklisted" in actions and "tokens.revoked" in actions


def test_the_same_document_on_a_new_account_is_rejected(client, auth, blacklisted, faces_dir):
    person, front, _, _ = blacklisted
    _, result = verify_over_http(client, auth, front, photo_bytes(faces_dir, FIRST_SELFIE), subject_id="new-vest",
                                 role="anchor", name=person.name, number=person.number)
    assert result["decision"] == "rejected" and "identity_blacklisted" in result["reasons"]


def test_the_same_face_with_another_document_goes_to_review(client, auth, blacklisted, faces_dir, face_engine):
    other, front = card(faces_dir, face_engine, SECOND_CARD, seed=12)
    _, result = verify_over_http(client, auth, front, photo_bytes(faces_dir, SECOND_SELFIE),
                                 subject_id="new-vest", role="anchor", name=other.name, number=other.number)
    assert result["decision"] == "in_review" and result["reasons"] == ["possible_blacklisted_face"], result
    check = next(c for c in result["checks"] if c["name"] == "blacklist_face")
    assert check["verdict"] == "review" and check["score"] <= check["threshold"]
    resp = client.post("/v1/tokens", json={"subject_id": "new-vest", "audience": "broadcasting"}, headers=auth)
    assert resp.status_code == 403


def test_another_persons_face_is_not_taken_for_the_blacklisted_one(client, auth, blacklisted, faces_dir,
                                                                   face_engine):
    stranger, front = card(faces_dir, face_engine, STRANGER_CARD, seed=13)
    _, result = verify_over_http(client, auth, front, photo_bytes(faces_dir, STRANGER_SELFIE),
                                 subject_id="honest", role="anchor", name=stranger.name, number=stranger.number)
    assert result["decision"] == "approved", result
    check = next(c for c in result["checks"] if c["name"] == "blacklist_face")
    assert check["verdict"] == "pass" and "score" not in check


def test_every_account_of_the_identity_is_blocked(client, auth, faces_dir, face_engine, services):
    person, front = card(faces_dir, face_engine, FIRST_CARD, seed=21)
    selfie = photo_bytes(faces_dir, FIRST_SELFIE)
    verify_over_http(client, auth, front, selfie, subject_id="main", role="anchor", name=person.name,
                     number=person.number)
    opened, second = verify_over_http(client, auth, front, selfie, subject_id="alt", role="anchor",
                                      name=person.name, number=person.number)
    assert second["reasons"] == ["identity_in_use"]
    decided = client.post(f"/v1/review/cases/{opened.id}/decision",
                          json={"decision": "approved", "reason": "documents_match"}, headers=auth)
    assert decided.status_code == 200
    tipping = token_for(client, auth, "alt", audience="tipping")
    result = client.post("/v1/anchors/main/blacklist", json={"kind": "vulgar_content"}, headers=auth).get_json()
    assert result["accounts_blocked"] == ["alt", "main"]
    for account in ("main", "alt"):
        resp = client.post("/v1/tokens", json={"subject_id": account, "audience": "tipping"}, headers=auth)
        assert resp.status_code == 403
    intro = client.post("/v1/tokens/introspect", json={"token": tipping, "audience": "tipping"}, headers=auth)
    assert intro.get_json()["error"] == "token_revoked"


@pytest.mark.parametrize("body, status, error", [
    ({"kind": "nonsense"}, 400, "invalid_request"),
    ({}, 400, "invalid_request"),
    ({"kind": "fraud", "note": "x" * 2001}, 400, "invalid_request"),
])
def test_a_bad_blacklist_request_says_what_is_wrong_and_changes_nothing(client, auth, services, body, status,
                                                                        error):
    from tests.support.anchors import seed_verified

    with services.db.uow() as session:
        seed_verified(services, session, "a1")
        session.commit()
    resp = client.post("/v1/anchors/a1/blacklist", json=body, headers=auth)
    assert resp.status_code == status and resp.get_json()["error"] == error
    with services.db.uow() as session:
        assert session.scalar(select(Identity.blacklisted)) is False


def test_blacklisting_an_unknown_anchor_is_a_404(client, auth):
    resp = client.post("/v1/anchors/nobody/blacklist", json={"kind": "fraud"}, headers=auth)
    assert resp.status_code == 404 and resp.get_json()["error"] == "subject_not_found"


def test_a_supervisors_blacklisting_in_review_puts_the_face_into_the_search_at_once(
        client, auth, faces_dir, face_engine, services):
    from verification import review, reviewers

    person, front = card(faces_dir, face_engine, FIRST_CARD, seed=31)
    selfie = photo_bytes(faces_dir, FIRST_SELFIE)
    verify_over_http(client, auth, front, selfie, subject_id="main", role="anchor", name=person.name,
                     number=person.number)
    opened, second = verify_over_http(client, auth, front, selfie, subject_id="alt", role="anchor",
                                      name=person.name, number=person.number)
    assert second["reasons"] == ["identity_in_use"]  # the face index was read (and cached) by now
    with services.db.uow() as session:
        sup, _ = reviewers.create_reviewer(services, session, "sup", "supervisor")
        review.claim(services, session, opened.id, sup)
        review.decide(services, session, opened.id, sup, decision="rejected", reason="other",
                      note="vest change", blacklist=True)
        session.commit()
    other, front2 = card(faces_dir, face_engine, SECOND_CARD, seed=32)
    _, third = verify_over_http(client, auth, front2, photo_bytes(faces_dir, SECOND_SELFIE), subject_id="third",
                                role="anchor", name=other.name, number=other.number)
    assert third["decision"] == "in_review" and third["reasons"] == ["possible_blacklisted_face"]
