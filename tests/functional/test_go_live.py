"""The go-live gate, rooms, category changes and prior reports over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.anchors import seed_verified, token_for
from verification.models import GoLiveDecision


@pytest.fixture
def anchor(services):
    with services.db.uow() as session:
        seed_verified(services, session, "anchor-1")
        session.commit()
    return "anchor-1"


@pytest.fixture
def room(client, auth, anchor):
    resp = client.post("/v1/rooms", json={"room_id": "R1001", "anchor_id": anchor, "category": "music",
                                          "title": "Evening songs"}, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return "R1001"


def go_live(client, auth, token, room_id="R1001", category="music"):
    resp = client.post("/v1/broadcasts/authorize", json={"token": token, "room_id": room_id, "category": category},
                       headers=auth)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_verified_adult_anchor_goes_live_in_their_own_room_under_its_category(client, auth, anchor, room,
                                                                                 services):
    answer = go_live(client, auth, token_for(client, auth, anchor))
    assert answer["decision"] == "allowed" and answer["reason"] is None
    assert answer["category"] == "music" and answer["measures"] == []
    with services.db.uow() as session:
        rows = session.scalars(select(GoLiveDecision)).all()
        assert [(r.room_number, r.anchor_id, r.decision) for r in rows] == [("R1001", "anchor-1", "allowed")]


def test_the_room_page_shows_the_room_number_and_category_label(client, auth, room):
    view = client.get(f"/v1/rooms/{room}", headers=auth).get_json()
    assert view["room_id"] == "R1001" and view["category"] == "music" and view["category_label"] == "Music"
    assert view["pending_category_change"] is None


def test_a_tipping_token_cannot_open_a_broadcast(client, auth, anchor, room):
    answer = go_live(client, auth, token_for(client, auth, anchor, audience="tipping"))
    assert answer == {"decision": "denied", "reason": "token_audience"}


def test_a_forged_or_expired_token_is_denied(client, auth, anchor, room, clock, services):
    assert go_live(client, auth, "a.b.c")["reason"] == "token_malformed"
    token = token_for(client, auth, anchor)
    clock.advance(seconds=services.settings.token_ttl_seconds + 1)
    assert go_live(client, auth, token)["reason"] == "token_expired"


def test_a_minor_may_not_broadcast(client, auth, services):
    with services.db.uow() as session:
        seed_verified(services, session, "teen", birth_date=date(2010, 1, 1))
        session.commit()
    client.post("/v1/rooms", json={"room_id": "R7", "anchor_id": "teen", "category": "game"}, headers=auth)
    answer = go_live(client, auth, token_for(client, auth, "teen"), room_id="R7", category="game")
    assert answer == {"decision": "denied", "reason": "minor"}


def test_a_subject_verified_as_a_viewer_is_not_an_anchor(client, auth, services):
    with services.db.uow() as session:
        seed_verified(services, session, "viewer-1", role="viewer")
        session.commit()
    client.post("/v1/rooms", json={"room_id": "R8", "anchor_id": "viewer-1", "category": "food"}, headers=auth)
    answer = go_live(client, auth, token_for(client, auth, "viewer-1"), room_id="R8", category="food")
    assert answer["reason"] == "not_an_anchor"


@pytest.mark.parametrize("category, reason", [
    ("cooking", "category_invalid"), ("politics", "category_invalid"), ("dance", "category_mismatch"),
])
def test_the_category_must_be_one_of_the_eight_and_the_rooms_own(client, auth, anchor, room, category, reason):
    answer = go_live(client, auth, token_for(client, auth, anchor), category=category)
    assert answer["decision"] == "denied" and answer["reason"] == reason


def test_all_eight_categories_are_accepted_including_life_service_written_with_a_space(client, auth, anchor):
    labels = ["music", "dance", "singing", "fitness", "game", "tourism", "food", "life service"]
    token = token_for(client, auth, anchor)
    for i, label in enumerate(labels):
        resp = client.post("/v1/rooms", json={"room_id": f"C{i}", "anchor_id": anchor, "category": label},
                           headers=auth)
        assert resp.status_code == 201, resp.get_json()
        assert go_live(client, auth, token, room_id=f"C{i}", category=label)["decision"] == "allowed"
    bad = client.post("/v1/rooms", json={"room_id": "C9", "anchor_id": anchor, "category": "news"}, headers=auth)
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_request"


def test_someone_elses_room_or_an_unknown_room_is_denied(client, auth, anchor, room, services):
    with services.db.uow() as session:
        seed_verified(services, session, "anchor-2")
        session.commit()
    other = token_for(client, auth, "anchor-2")
    assert go_live(client, auth, other)["reason"] == "room_not_owned"
    assert go_live(client, auth, other, room_id="R404")["reason"] == "room_not_found"


def test_a_category_change_waits_for_a_reviewer_and_the_old_category_stands(client, auth, anchor, room):
    token = token_for(client, auth, anchor)
    resp = client.post(f"/v1/rooms/{room}/category-changes", json={"category": "dance", "reason": "new show"},
                       headers=auth)
    assert resp.status_code == 202 and resp.get_json()["state"] == "pending"
    change_id = resp.get_json()["id"]
    assert go_live(client, auth, token, category="dance")["reason"] == "category_mismatch"
    assert go_live(client, auth, token, category="music")["decision"] == "allowed"
    again = client.post(f"/v1/rooms/{room}/category-changes", json={"category": "game"}, headers=auth)
    assert again.status_code == 409

    listed = client.get("/v1/review/category-changes", headers=auth).get_json()["requests"]
    assert [c["id"] for c in listed] == [change_id]
    decided = client.post(f"/v1/review/category-changes/{change_id}/decision", json={"decision": "approved"},
                          headers=auth)
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    assert go_live(client, auth, token, category="dance")["decision"] == "allowed"
    assert go_live(client, auth, token, category="music")["reason"] == "category_mismatch"
    twice = client.post(f"/v1/review/category-changes/{change_id}/decision", json={"decision": "rejected"},
                        headers=auth)
    assert twice.status_code == 409


def test_a_rejected_category_change_leaves_the_room_as_it_was(client, auth, anchor, room):
    change_id = client.post(f"/v1/rooms/{room}/category-changes", json={"category": "fitness"},
                            headers=auth).get_json()["id"]
    client.post(f"/v1/review/category-changes/{change_id}/decision", json={"decision": "rejected"}, headers=auth)
    view = client.get(f"/v1/rooms/{room}", headers=auth).get_json()
    assert view["category"] == "music" and view["pending_category_change"] is None


@pytest.mark.parametrize("kind", ["celebrity", "overseas"])
def test_a_celebrity_or_overseas_anchor_needs_an_approved_prior_report(client, auth, anchor, room, kind):
    token = token_for(client, auth, anchor)
    client.put(f"/v1/anchors/{anchor}/profile", json={kind: True}, headers=auth)
    denied = go_live(client, auth, token)
    assert denied["reason"] == "prior_report_required" and denied["report_kind"] == kind
    report = client.post(f"/v1/anchors/{anchor}/prior-reports", json={"kind": kind, "note": "tour"}, headers=auth)
    assert report.status_code == 201 and report.get_json()["state"] == "pending"
    assert go_live(client, auth, token)["reason"] == "prior_report_required"  # pending is not enough
    client.post(f"/v1/review/prior-reports/{report.get_json()['id']}/decision", json={"decision": "approved"},
                headers=auth)
    assert go_live(client, auth, token)["decision"] == "allowed"


def test_a_rejected_prior_report_does_not_open_the_gate(client, auth, anchor, room):
    client.put(f"/v1/anchors/{anchor}/profile", json={"celebrity": True}, headers=auth)
    rid = client.post(f"/v1/anchors/{anchor}/prior-reports", json={"kind": "celebrity"}, headers=auth).get_json()["id"]
    client.post(f"/v1/review/prior-reports/{rid}/decision", json={"decision": "rejected"}, headers=auth)
    assert go_live(client, auth, token_for(client, auth, anchor))["reason"] == "prior_report_required"


def test_a_passport_holder_counts_as_overseas_personnel(client, auth, services):
    with services.db.uow() as session:
        seed_verified(services, session, "visitor", document_type="passport")
        session.commit()
    client.post("/v1/rooms", json={"room_id": "P1", "anchor_id": "visitor", "category": "tourism"}, headers=auth)
    answer = go_live(client, auth, token_for(client, auth, "visitor"), room_id="P1", category="tourism")
    assert answer["reason"] == "prior_report_required" and answer["report_kind"] == "overseas"


def test_the_gate_needs_the_broadcasts_scope_and_a_well_formed_body(client, services, anchor, room, auth):
    from verification.clients import create_client

    with services.db.uow() as session:
        key = create_client(services, session, "tips-only", ["tips"])
        session.commit()
    resp = client.post("/v1/broadcasts/authorize", json={"token": "x", "room_id": "R1001", "category": "music"},
                       headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert client.post("/v1/broadcasts/authorize", json={"room_id": "R1001"}, headers=auth).status_code == 400
    resp = client.post("/v1/broadcasts/authorize", data="nope", headers=auth)
    assert resp.status_code == 415
