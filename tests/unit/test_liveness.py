"""Liveness from landmarks on challenge sequences built from the shared face photos.

Jack Dorsey's photos include two heads turned clearly to his right (img59, img61) and
only a slight turn to his left (img16, too close to the threshold to be a fair test),
so his left turn is *built* by mirroring img61. No shared photo shows closed eyes, so
the blink frame is *built*: one of his frontal photos (img17) with both eyes painted
shut along the landmarks (tests.support.liveness.close_eyes). Angelina Jolie's set has a turn to her left only,
so her right turn is *built* by mirroring it.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.liveness import close_eyes, decoded, mirrored, photo
from verification.checks import FAIL, PASS, REVIEW
from verification.geometry import pose
from verification.liveness import check_liveness

CHALLENGE = ["turn_left", "blink", "turn_right"]


@pytest.fixture(scope="module")
def jack(faces_dir, face_engine):
    front = photo(faces_dir, "deepface/img62.jpg")
    other_front = photo(faces_dir, "deepface/img17.jpg")
    return {
        "front": front,
        "left": mirrored(photo(faces_dir, "deepface/img61.jpg")),
        "right": photo(faces_dir, "deepface/img59.jpg"),
        "blink": close_eyes(other_front, face_engine.analyze(other_front)[0]),
        "other_front": other_front,
    }


def run(face_engine, rgbs, challenge):
    frames = decoded(rgbs)
    faces = [face_engine.analyze(f.rgb, max_faces=3) for f in frames]
    return check_liveness(frames, faces, challenge)


def test_a_genuine_sequence_in_the_challenge_order_passes(jack, face_engine):
    """A real right turn (img59), a built left turn (img61 mirrored), a built blink (img17, eyes painted shut)."""
    result, best = run(face_engine, [jack["front"], jack["left"], jack["blink"], jack["right"]], CHALLENGE)
    assert result.verdict == PASS, result.details
    assert result.details["observed"] == CHALLENGE
    assert best == 0  # the frontal, eyes-open frame is the one matched against the document


def test_a_genuine_sequence_with_a_mirrored_turn_passes_in_another_order(faces_dir, face_engine):
    """Angelina Jolie: the right turn is her left-turn photo mirrored; the blink is img6 with eyes painted shut."""
    front = photo(faces_dir, "deepface/img7.jpg")
    left = photo(faces_dir, "facenet_pytorch/angelina_jolie_1.jpg")
    eyes = photo(faces_dir, "deepface/img6.jpg")
    blink = close_eyes(eyes, face_engine.analyze(eyes)[0])
    challenge = ["blink", "turn_right", "turn_left"]
    result, best = run(face_engine, [front, blink, mirrored(left), left], challenge)
    assert result.verdict == PASS, result.details
    assert best == 0


def test_the_same_photo_sent_as_every_frame_fails(jack, face_engine):
    result, _ = run(face_engine, [jack["front"]] * 4, CHALLENGE)
    assert (result.verdict, result.reason, result.details["step"]) == (FAIL, "liveness_failed", "distinct")
    assert result.hint


def test_the_same_photo_shifted_scaled_and_re_encoded_as_every_frame_fails(jack, face_engine):
    """A photo held up to the camera and moved about: every frame is the same picture, moved."""
    import cv2

    def moved(rgb, dx, dy, scale, angle):
        h, w = rgb.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[:, 2] += (dx, dy)
        return cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REFLECT)

    base = jack["front"]
    frames = [base, moved(base, 20, -10, 1.0, 3), moved(base, -15, 5, 0.85, -4), moved(base, 5, 12, 1.1, 6)]
    result, _ = run(face_engine, frames, CHALLENGE)
    assert (result.verdict, result.details["step"]) == (FAIL, "distinct")
    assert result.score < result.threshold


def test_a_photo_of_another_person_slipped_into_the_sequence_fails(jack, faces_dir, face_engine):
    stranger = photo(faces_dir, "deepface/img27.jpg")  # Katy Perry
    result, _ = run(face_engine, [jack["front"], jack["left"], stranger, jack["right"]], CHALLENGE)
    assert (result.verdict, result.reason, result.details["step"]) == (FAIL, "liveness_failed", "same_person")
    assert result.details["frame"] == 2
    assert result.score >= result.threshold


def test_frames_in_the_wrong_order_fail(jack, face_engine):
    frames = [jack["front"], jack["right"], jack["blink"], jack["left"]]
    result, _ = run(face_engine, frames, CHALLENGE)
    assert (result.verdict, result.details["step"]) == (FAIL, "order")
    assert result.details["observed"] == ["turn_right", "blink", "turn_left"]


def test_a_missing_blink_fails_naming_the_blink(jack, face_engine):
    """The frame where the blink should be is img62 mirrored (eyes wide open, a distinct picture)."""
    frames = [jack["front"], jack["left"], mirrored(jack["front"]), jack["right"]]
    result, _ = run(face_engine, frames, CHALLENGE)
    assert (result.verdict, result.details["step"]) == (FAIL, "blink")
    assert "eyes" in result.hint


def test_a_half_turn_where_a_turn_should_be_goes_to_review(faces_dir, face_engine):
    """Angelina Jolie's img11 turns only slightly to her left (yaw about 0.2): neither a turn nor facing front.

    The blink is img6 with the eyes painted shut.
    """
    front = photo(faces_dir, "deepface/img7.jpg")
    eyes = photo(faces_dir, "deepface/img6.jpg")
    blink = close_eyes(eyes, face_engine.analyze(eyes)[0])
    result, _ = run(face_engine, [front, blink, photo(faces_dir, "deepface/img11.jpg")], ["blink", "turn_left"])
    assert (result.verdict, result.reason, result.details["step"]) == (REVIEW, "liveness_unclear", "turn_left")


def test_a_single_still_selfie_is_never_a_pass(jack, face_engine):
    result, best = run(face_engine, [jack["front"]], CHALLENGE)
    assert (result.verdict, result.reason) == (REVIEW, "liveness_not_proven")
    assert best == 0


def test_fewer_frames_than_the_challenge_needs_fail(jack, face_engine):
    result, _ = run(face_engine, [jack["front"], jack["left"]], CHALLENGE)
    assert (result.verdict, result.details["step"]) == (FAIL, "frames")


def test_a_frame_without_a_face_fails_naming_the_frame(jack, faces_dir, face_engine):
    landscape = photo(faces_dir, "insightface/view.jpg")
    result, _ = run(face_engine, [jack["front"], jack["left"], landscape, jack["right"]], CHALLENGE)
    assert (result.verdict, result.details["step"], result.details["frame"]) == (FAIL, "face", 2)


def test_mirroring_a_turned_head_flips_the_measured_yaw(faces_dir, face_engine):
    turned = photo(faces_dir, "facenet_pytorch/angelina_jolie_1.jpg")
    left = face_engine.analyze(turned)[0]
    flipped = face_engine.analyze(mirrored(turned))[0]
    a, b = pose(left.landmarks), pose(flipped.landmarks)
    assert a.yaw > 0.25 and b.yaw < -0.25
    assert abs(a.yaw + b.yaw) < 0.05


def test_painted_shut_eyes_read_as_closed(jack, face_engine):
    open_ = pose(face_engine.analyze(jack["other_front"])[0].landmarks)
    shut = pose(face_engine.analyze(jack["blink"])[0].landmarks)
    assert shut.ear < 0.21 and shut.ear < 0.7 * open_.ear
    assert np.isfinite(open_.ear) and open_.ear > 0.21


def test_an_action_not_asked_for_between_the_asked_ones_fails(jack, face_engine):
    frames = [jack["front"], jack["left"], jack["blink"], jack["right"]]
    result, _ = run(face_engine, frames, ["turn_left", "turn_right"])
    assert (result.verdict, result.details["step"]) == (FAIL, "unexpected_action")


def test_a_turn_to_the_wrong_side_fails_naming_the_turn_asked_for(jack, face_engine):
    result, _ = run(face_engine, [jack["front"], jack["right"], jack["blink"]], ["turn_left", "blink"])
    assert (result.verdict, result.details["step"]) == (FAIL, "turn_left")
    assert "left" in result.hint


def test_a_case_without_a_challenge_proves_nothing(jack, face_engine):
    result, _ = run(face_engine, [jack["front"], jack["left"]], [])
    assert (result.verdict, result.reason) == (REVIEW, "liveness_not_proven")
