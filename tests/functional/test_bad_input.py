"""Bad input gets a 4xx with a stable code and leaves the case as it was."""

from __future__ import annotations

import io

import pytest

from tests.support import badfiles
from tests.support.flow import app_auth, open_case, upload_document


@pytest.fixture
def opened(client, auth):
    return open_case(client, auth)


def _unchanged(client, auth, opened):
    view = client.get(f"/v1/cases/{opened.id}", headers=auth).get_json()
    assert view["state"] == "created"
    assert view["uploads"] == {"document_front": 0, "document_back": 0, "selfie": 0}


@pytest.mark.parametrize("data, filename, status, code", [
    (badfiles.truncated_jpeg(), "card.jpg", 422, "invalid_image"),
    (badfiles.fifty_megapixel_png(), "card.png", 413, "image_too_large"),
    (badfiles.pdf_bytes(), "card.jpg", 422, "invalid_image"),
    (b"", "card.jpg", 422, "invalid_image"),
])
def test_a_bad_document_upload_is_refused_and_changes_nothing(client, auth, opened, data, filename, status, code):
    resp = upload_document(client, opened, data, filename)
    assert resp.status_code == status
    assert resp.get_json()["error"] == code
    _unchanged(client, auth, opened)


def test_a_bad_frame_among_good_ones_refuses_the_whole_selfie_upload(client, auth, opened):
    frames = [badfiles.good_jpeg(), badfiles.truncated_jpeg()]
    resp = client.put(f"/v1/cases/{opened.id}/selfie", headers=app_auth(opened),
                      data={"frames": [(io.BytesIO(f), f"{i}.jpg") for i, f in enumerate(frames)]},
                      content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.get_json()["error"] == "invalid_image"
    _unchanged(client, auth, opened)


def test_an_upload_without_the_front_field_is_a_400(client, auth, opened):
    resp = client.put(f"/v1/cases/{opened.id}/document", headers=app_auth(opened),
                      data={"back": (io.BytesIO(badfiles.good_jpeg()), "b.jpg")}, content_type="multipart/form-data")
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    _unchanged(client, auth, opened)


def test_an_upload_that_is_not_multipart_is_a_415(client, auth, opened):
    resp = client.put(f"/v1/cases/{opened.id}/document", headers=app_auth(opened),
                      data=badfiles.good_jpeg(), content_type="image/jpeg")
    assert resp.status_code == 415 and resp.get_json()["error"] == "unsupported_media_type"
    _unchanged(client, auth, opened)


@pytest.mark.parametrize("body, field", [
    ({"role": "viewer", "declared_name": "张三", "document_number": "11010519491231002X"}, "subject_id"),
    ({"subject_id": "u", "declared_name": "张三"}, "document_number"),
    ({"subject_id": "u", "document_number": "11010519491231002X"}, "declared_name"),
    ({"subject_id": "u", "declared_name": "张三", "document_number": "11010519491231002X", "role": "god"}, "role"),
    ({"subject_id": "u", "declared_name": "张三", "document_number": "11010519491231002X", "phone": "12345"},
     "phone"),
    ({"subject_id": "u", "declared_name": "张三", "document_number": "1101;DROP TABLE", "role": "viewer"},
     "document_number"),
    ({"subject_id": ["u"], "declared_name": "张三", "document_number": "11010519491231002X"}, "subject_id"),
])
def test_a_case_with_a_missing_or_malformed_field_is_a_400_naming_it(client, auth, body, field):
    resp = client.post("/v1/cases", json=body, headers=auth)
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "invalid_request", "message": resp.get_json()["message"], "field": field}


def test_a_case_body_that_is_not_json_is_a_415(client, auth):
    resp = client.post("/v1/cases", data="subject_id=u", content_type="application/x-www-form-urlencoded",
                       headers=auth)
    assert resp.status_code == 415 and resp.get_json()["error"] == "unsupported_media_type"


def test_a_json_array_body_is_a_400(client, auth):
    resp = client.post("/v1/cases", data="[1,2]", content_type="application/json", headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


def test_broken_json_is_a_400(client, auth):
    resp = client.post("/v1/cases", data="{not json", content_type="application/json", headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"Authorization": "Bearer lg_not-a-real-key"}, 401),
    ({"Authorization": "Basic abc"}, 401),
])
def test_calls_without_a_valid_key_are_401(client, headers, status):
    resp = client.post("/v1/cases", json={}, headers=headers)
    assert resp.status_code == status and resp.get_json()["error"] == "unauthorized"


def test_a_client_without_the_scope_is_403(client, services):
    from verification.clients import create_client

    with services.db.uow() as session:
        key = create_client(services, session, "tipper", ["tips"])
        session.commit()
    resp = client.post("/v1/tokens", json={"subject_id": "x", "audience": "tipping"},
                       headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


def test_one_cases_client_secret_does_not_open_another_case(client, auth):
    a = open_case(client, auth, subject_id="a")
    b = open_case(client, auth, subject_id="b")
    resp = client.get(f"/v1/cases/{b.id}", headers=app_auth(a))
    assert resp.status_code == 401


def test_an_unknown_case_is_404_for_the_platform_and_401_for_strangers(client, auth, opened):
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/v1/cases/{missing}", headers=auth).status_code == 404
    assert client.get(f"/v1/cases/{missing}", headers=app_auth(opened)).status_code == 401
    assert client.get("/v1/cases/not-a-uuid", headers=auth).get_json()["error"] == "case_not_found"


def test_an_expired_case_refuses_uploads_with_410(client, auth, opened, clock):
    clock.advance(hours=2)
    resp = upload_document(client, opened, badfiles.good_jpeg())
    assert resp.status_code == 410 and resp.get_json()["error"] == "case_expired"
    assert client.get(f"/v1/cases/{opened.id}", headers=auth).get_json()["state"] == "expired"


def test_tokens_for_unknown_audiences_or_unverified_subjects_are_refused(client, auth):
    bad = client.post("/v1/tokens", json={"subject_id": "nobody", "audience": "everything"}, headers=auth)
    assert bad.status_code == 400
    unverified = client.post("/v1/tokens", json={"subject_id": "nobody", "audience": "tipping"}, headers=auth)
    assert unverified.status_code == 403 and unverified.get_json()["error"] == "not_verified"


def test_unknown_routes_and_methods_answer_json_errors(client):
    assert client.get("/v1/nothing").get_json()["error"] == "not_found"
    assert client.delete("/v1/cases").get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("body", ["[" * 5000, '{"a":' * 5000])
def test_deeply_nested_json_is_a_400_not_a_crash(client, auth, body):
    resp = client.post("/v1/cases", data=body, content_type="application/json", headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_json"


def test_an_oversized_json_body_is_a_413(client, auth):
    resp = client.post("/v1/cases", data='{"x":"' + "a" * 400_000 + '"}', content_type="application/json",
                       headers=auth)
    assert resp.status_code == 413


@pytest.mark.parametrize("audience", [5, 1.5, True, ["tipping"], {"tipping": 1}, ""])
def test_introspection_with_a_malformed_audience_is_a_400(client, auth, audience):
    resp = client.post("/v1/tokens/introspect", json={"token": "a.b.c", "audience": audience}, headers=auth)
    assert resp.status_code == 400 and resp.get_json()["field"] == "audience"


def test_a_phone_with_a_trailing_newline_is_refused(client, auth):
    resp = client.post("/v1/cases", json={"subject_id": "u", "declared_name": "张三",
                                          "document_number": "11010519491231002X", "phone": "+8613800138000\n"},
                       headers=auth)
    assert resp.status_code == 400 and resp.get_json()["field"] == "phone"


def test_an_id_too_large_for_the_database_is_a_400(client, auth):
    resp = client.post("/v1/review/category-changes/99999999999999999999999/decision",
                       json={"decision": "approved"}, headers=auth)
    assert resp.status_code in (400, 404)
    assert client.get("/v1/review/cases?offset=9223372036854775808", headers=auth).status_code == 200
