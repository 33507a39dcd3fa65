"""Cases under LIVEGATE_LIVENESS=required: the challenge decides between approval, review and rejection.

Frames are built from the shared photos of Jack Dorsey (see tests/unit/test_liveness.py):
a real turn to his right (img59), a *built* turn to his left (img61 mirrored), and a
*built* blink (img17 with both eyes painted shut along the landmarks). The card portrait is cut from img62, the frontal
frame matched against it.
"""

from __future__ import annotations

import pytest

from tests.conftest import make_services
from tests.support.liveness import as_upload, close_eyes, mirrored, photo
from tests.support.people import make_card
from verification import cases
from verification.errors import CaseExpired

CHALLENGE = ["turn_left", "blink", "turn_right"]


@pytest.fixture
def live_services(db_url, tmp_path, clock, face_engine):
    svc = make_services(db_url, tmp_path, clock, face_engine, liveness="required")
    yield svc
    svc.db.dispose()


@pytest.fixture(scope="module")
def jack(faces_dir, face_engine):
    front = photo(faces_dir, "deepface/img62.jpg")
    eyes = photo(faces_dir, "deepface/img17.jpg")
    person, card = make_card(face_engine, front, seed=4)
    return {
        "person": person, "card": card,
        "front": as_upload(front), "left": as_upload(mirrored(photo(faces_dir, "deepface/img61.jpg"))),
        "right": as_upload(photo(faces_dir, "deepface/img59.jpg")),
        "blink": as_upload(close_eyes(eyes, face_engine.analyze(eyes)[0])),
    }


def open_case(svc, jack, frames, challenge=CHALLENGE) -> str:
    with svc.db.uow() as session:
        case, _ = cases.create_case(svc, session, subject_id="viewer-1", role="viewer",
                                    declared_name=jack["person"].name, document_type="cn_resident_id",
                                    document_number=jack["person"].number)
        case.challenge = list(challenge)
        cases.attach_document(svc, session, case.id, jack["card"])
        cases.attach_selfie(svc, session, case.id, frames)
        session.commit()
        return case.id


def checks_of(case) -> dict:
    return {c.name: c for c in case.checks}


def test_a_genuine_challenge_is_approved_at_the_liveness_level(live_services, jack):
    case_id = open_case(live_services, jack, [jack["front"], jack["left"], jack["blink"], jack["right"]])
    case = cases.submit_case(live_services, case_id)
    checks = checks_of(case)
    assert case.decision == "approved", case.reasons
    assert case.level == "document+face+liveness"
    assert checks["liveness"].verdict == "pass"
    assert checks["face_quality"].verdict == "pass"
    assert checks["face_match"].verdict == "pass"


def test_a_single_still_selfie_is_never_approved_when_liveness_is_required(live_services, jack):
    case_id = open_case(live_services, jack, [jack["front"]])
    case = cases.submit_case(live_services, case_id)
    assert case.decision == "in_review"
    assert "liveness_not_proven" in case.reasons


def test_the_same_photo_as_every_frame_is_rejected_naming_the_step(live_services, jack):
    case_id = open_case(live_services, jack, [jack["front"]] * 4)
    case = cases.submit_case(live_services, case_id)
    liveness = checks_of(case)["liveness"]
    assert case.decision == "rejected"
    assert "liveness_failed" in case.reasons
    assert liveness.details["step"] == "distinct"


def test_an_expired_challenge_cannot_be_submitted(live_services, jack, clock):
    case_id = open_case(live_services, jack, [jack["front"], jack["left"], jack["blink"], jack["right"]])
    clock.advance(seconds=live_services.settings.case_ttl_seconds + 1)
    with pytest.raises(CaseExpired):
        cases.submit_case(live_services, case_id)
    with live_services.db.uow() as session:
        case = cases.get_case(session, case_id)
        assert case.decision is None
        assert cases.case_view(live_services, case)["state"] == "expired"


def test_with_liveness_off_a_still_selfie_is_approved_without_the_liveness_level(
        db_url, tmp_path, clock, face_engine, jack):
    svc = make_services(db_url, tmp_path, clock, face_engine, liveness="off")
    try:
        case = cases.submit_case(svc, open_case(svc, jack, [jack["front"]]))
        assert case.decision == "approved", case.reasons
        assert case.level == "document+face"
        assert checks_of(case)["liveness"].verdict == "skipped"
    finally:
        svc.db.dispose()
