"""Over every person in ../shared/faces: owners are approved, strangers never are."""

import pytest

from tests.support.sweep import run_sweep
from verification.pipeline import Policy
from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT


@pytest.fixture(scope="module")
def sweep(faces_dir, face_engine):
    policy = Policy(face_accept=DEFAULT_FACE_ACCEPT, face_reject=DEFAULT_FACE_REJECT, liveness="off")
    return run_sweep(faces_dir, face_engine, policy)


def test_a_card_and_a_different_photo_of_its_owner_are_approved_in_the_large_majority(sweep):
    total = sum(sweep.genuine.values())
    assert total >= 80
    assert sweep.genuine["approved"] / total >= 0.75, dict(sweep.genuine)


def test_an_owner_with_usable_photos_is_never_rejected_as_a_face_mismatch(sweep):
    assert sweep.genuine_mismatch_usable == []


def test_a_card_of_one_person_with_a_selfie_of_another_is_never_approved(sweep):
    assert sum(sweep.impostor.values()) >= 1000
    assert sweep.impostor_approved == []
