"""The liveness outcome over HTTP: the platform sees which step failed and a hint for the user.

Frames as in tests/functional/test_liveness_cases.py (Jack Dorsey; the left turn and
the blink are built from his photos by mirroring and painting the eyes shut).
"""

from __future__ import annotations

import io

import pytest

from tests.conftest import make_services
from tests.support.liveness import as_upload, close_eyes, mirrored, photo
from tests.support.people import make_card


@pytest.fixture
def live_client(db_url, tmp_path, clock, face_engine):
    from gateway import create_app
    from verification.clients import SCOPES, create_client

    svc = make_services(db_url, tmp_path, clock, face_engine, liveness="required")
    with svc.db.uow() as session:
        key = create_client(svc, session, "platform", list(SCOPES))
        session.commit()
    yield create_app({"TESTING": True}, services=svc).test_client(), {"Authorization": f"Bearer {key}"}
    svc.db.dispose()


@pytest.fixture(scope="module")
def jack(faces_dir, face_engine):
    front = photo(faces_dir, "deepface/img62.jpg")
    eyes = photo(faces_dir, "deepface/img17.jpg")
    person, card = make_card(face_engine, front, seed=4)
    return {"person": person, "card": card, "front": as_upload(front),
            "left": as_upload(mirrored(photo(faces_dir, "deepface/img61.jpg"))),
            "blink": as_upload(close_eyes(eyes, face_engine.analyze(eyes)[0])),
            "right": as_upload(photo(faces_dir, "deepface/img59.jpg"))}


def submit(client, auth, jack, frames):
    created = client.post("/v1/cases", headers=auth, json={
        "subject_id": "viewer-7", "role": "viewer", "declared_name": jack["person"].name,
        "document_type": "cn_resident_id", "document_number": jack["person"].number})
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    challenge = case["challenge"]
    assert 2 <= len(challenge) <= 3 and set(challenge) <= {"blink", "turn_left", "turn_right"}
    doc = client.put(f"/v1/cases/{case['id']}/document", headers=auth,
                     data={"front": (io.BytesIO(jack["card"]), "card.jpg")}, content_type="multipart/form-data")
    assert doc.status_code == 200, doc.get_json()
    order = frames(challenge)
    sent = client.put(f"/v1/cases/{case['id']}/selfie", headers=auth, content_type="multipart/form-data",
                      data={"frames": [(io.BytesIO(jack[f]), f"{i}.jpg") for i, f in enumerate(order)]})
    assert sent.status_code == 200, sent.get_json()
    answer = client.post(f"/v1/cases/{case['id']}/submit", headers=auth)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


ACTION_FRAME = {"turn_left": "left", "turn_right": "right", "blink": "blink"}


def test_frames_answering_the_case_s_own_random_challenge_are_approved_with_liveness(live_client, jack):
    client, auth = live_client
    body = submit(client, auth, jack, lambda ch: ["front"] + [ACTION_FRAME[a] for a in ch])
    assert body["decision"] == "approved", body
    assert body["level"] == "document+face+liveness"


def test_a_photo_held_up_for_every_frame_is_rejected_with_the_step_and_a_hint(live_client, jack):
    client, auth = live_client
    body = submit(client, auth, jack, lambda ch: ["front"] * (len(ch) + 1))
    liveness = next(c for c in body["checks"] if c["name"] == "liveness")
    assert body["decision"] == "rejected"
    assert liveness["reason"] == "liveness_failed"
    assert liveness["step"] == "distinct"
    assert liveness["hint"]
