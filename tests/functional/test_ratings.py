"""Rating files per room and anchor, the measures of R14 they call for, and what the gate does with them."""

from __future__ import annotations

import pytest

from tests.support.anchors import seed_verified, token_for


@pytest.fixture
def room(client, auth, services):
    with services.db.uow() as session:
        seed_verified(services, session, "anchor-1")
        seed_verified(services, session, "anchor-2")
        session.commit()
    for number, anchor in (("R1", "anchor-1"), ("R2", "anchor-1"), ("R9", "anchor-2")):
        resp = client.post("/v1/rooms", json={"room_id": number, "anchor_id": anchor, "category": "dance"},
                           headers=auth)
        assert resp.status_code == 201
    return "R1"


def violation(client, auth, **body):
    resp = client.post("/v1/ratings/violations", json={"anchor_id": "anchor-1", **body}, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_a_clean_room_is_recommended_with_no_measures(client, auth, room):
    file = client.get("/v1/rooms/R1/rating", headers=auth).get_json()
    assert file["points"] == 0 and file["measures"] == [] and file["recommend"] is True
    assert file["quality"] == {"average": None, "latest": None, "count": 0}


@pytest.mark.parametrize("severities, measures", [
    (["minor"], []),
    (["minor", "minor"], ["stop_recommending"]),
    (["moderate", "minor"], ["stop_recommending", "limit_broadcast_length"]),
    (["serious"], ["stop_recommending", "limit_broadcast_length", "lower_ranking"]),
    (["serious", "moderate"], ["stop_recommending", "limit_broadcast_length", "lower_ranking",
                               "rectify_by_deadline"]),
    (["serious", "serious"], ["stop_recommending", "limit_broadcast_length", "lower_ranking",
                              "rectify_by_deadline", "close_and_blacklist"]),
])
def test_points_map_to_the_measures_of_r14(client, auth, room, severities, measures):
    for s in severities:
        violation(client, auth, room_id="R1", kind="vulgar_content", severity=s, occurred_on="2026-06-10")
    assert client.get("/v1/rooms/R1/rating", headers=auth).get_json()["measures"] == measures
    assert client.get("/v1/anchors/anchor-1/rating", headers=auth).get_json()["measures"] == measures


def test_rectification_is_due_fifteen_days_after_the_last_violation(client, auth, room):
    violation(client, auth, room_id="R1", kind="false_advertising", severity="serious", occurred_on="2026-05-01")
    violation(client, auth, room_id="R1", kind="fake_traffic", severity="moderate", occurred_on="2026-06-01")
    assert client.get("/v1/rooms/R1/rating", headers=auth).get_json()["rectify_by"] == "2026-06-16"


def test_violations_older_than_the_window_stay_on_file_but_no_longer_count(client, auth, room):
    violation(client, auth, room_id="R1", kind="vulgar_content", severity="serious", occurred_on="2025-12-01")
    file = client.get("/v1/rooms/R1/rating", headers=auth).get_json()
    assert file["points"] == 0 and file["measures"] == []
    assert [v["counted"] for v in file["violations"]] == [False]


def test_an_anchors_file_collects_every_room_and_a_rooms_file_only_its_own(client, auth, room):
    violation(client, auth, room_id="R1", kind="vulgar_content", severity="minor")
    violation(client, auth, room_id="R2", kind="vulgar_content", severity="minor")
    violation(client, auth, kind="induced_tipping", severity="minor")  # the anchor, no room
    assert client.get("/v1/anchors/anchor-1/rating", headers=auth).get_json()["points"] == 3
    assert client.get("/v1/rooms/R1/rating", headers=auth).get_json()["points"] == 1
    assert client.get("/v1/anchors/anchor-2/rating", headers=auth).get_json()["points"] == 0


def test_low_quality_stops_recommendation(client, auth, room):
    for score in (80, 50, 55, 40):
        assert client.post("/v1/rooms/R1/quality", json={"score": score}, headers=auth).status_code == 201
    file = client.get("/v1/rooms/R1/rating", headers=auth).get_json()
    assert file["quality"]["count"] == 4 and file["quality"]["latest"] == 40
    assert file["quality"]["average"] == pytest.approx((50 + 55 + 40) / 3, abs=0.1)  # the last three
    assert file["recommend"] is False and file["measures"] == ["stop_recommending"]


def test_the_recommender_lists_the_rooms_a_measure_applies_to(client, auth, room):
    violation(client, auth, room_id="R1", kind="vulgar_content", severity="moderate")
    listed = client.get("/v1/ratings/rooms?measure=stop_recommending", headers=auth).get_json()
    assert listed["rooms"] == ["R1", "R2"]  # R2 through its anchor's file
    bad = client.get("/v1/ratings/rooms?measure=ban_everyone", headers=auth)
    assert bad.status_code == 400
    policy = client.get("/v1/ratings/policy", headers=auth).get_json()
    assert policy["stop_recommending"] == 2 and policy["severity_points"]["unlawful"] == 12


def test_limited_broadcast_length_is_told_to_the_broadcast_service(client, auth, room):
    violation(client, auth, room_id="R1", kind="vulgar_content", severity="moderate")
    violation(client, auth, room_id="R1", kind="vulgar_content", severity="minor")
    answer = client.post("/v1/broadcasts/authorize", json={"token": token_for(client, auth, "anchor-1"),
                                                           "room_id": "R1", "category": "dance"},
                         headers=auth).get_json()
    assert answer["decision"] == "allowed" and answer["max_broadcast_minutes"] == 120
    assert "limit_broadcast_length" in answer["measures"]


def test_unlawful_conduct_alone_calls_for_closing_and_the_gate_refuses(client, auth, room):
    v = violation(client, auth, room_id="R1", kind="fraud", severity="minor")
    assert v["severity"] == "unlawful" and v["points"] == 12
    answer = client.post("/v1/broadcasts/authorize", json={"token": token_for(client, auth, "anchor-1"),
                                                           "room_id": "R2", "category": "dance"},
                         headers=auth).get_json()
    assert answer["decision"] == "denied" and answer["reason"] == "rating_close_measure"


@pytest.mark.parametrize("path, body", [
    ("/v1/ratings/violations", {"anchor_id": "anchor-1", "kind": "jaywalking", "severity": "minor"}),
    ("/v1/ratings/violations", {"anchor_id": "anchor-1", "kind": "fake_traffic", "severity": "huge"}),
    ("/v1/ratings/violations", {"anchor_id": "anchor-1", "kind": "fake_traffic", "severity": "minor",
                                "occurred_on": "2030-01-01"}),
    ("/v1/ratings/violations", {"anchor_id": "anchor-1", "kind": "fake_traffic", "severity": "minor",
                                "occurred_on": "yesterday"}),
    ("/v1/ratings/violations", {"anchor_id": "anchor-2", "room_id": "R1", "kind": "other", "severity": "minor"}),
    ("/v1/rooms/R1/quality", {"score": 101}),
    ("/v1/rooms/R1/quality", {"score": "90"}),
])
def test_bad_rating_input_is_a_400_and_nothing_is_recorded(client, auth, room, path, body):
    resp = client.post(path, json=body, headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    file = client.get("/v1/rooms/R1/rating", headers=auth).get_json()
    assert file["violations"] == [] and file["quality"]["count"] == 0


def test_an_unknown_room_file_is_a_404(client, auth):
    resp = client.get("/v1/rooms/R404/rating", headers=auth)
    assert resp.status_code == 404 and resp.get_json()["error"] == "room_not_found"
