"""Face quality gates on the match frame, on shared photos and degraded copies of them.

The degraded frames are *built*: darkened, blurred, shrunk or with the eyes painted shut.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.liveness import close_eyes, decoded, photo
from verification.face_quality import check_face_quality


@pytest.fixture(scope="module")
def frontal(faces_dir):
    return photo(faces_dir, "deepface/img7.jpg")  # Angelina Jolie, facing the camera


def gate(face_engine, rgb):
    frame = decoded([rgb])[0]
    faces = face_engine.analyze(frame.rgb)
    assert len(faces) == 1
    return check_face_quality(frame, faces[0])


def test_a_sharp_bright_frontal_face_passes(face_engine, frontal):
    result = gate(face_engine, frontal)
    assert result.verdict == "pass", result.details


def test_a_dark_face_fails_with_a_hint_about_light(face_engine, frontal):
    result = gate(face_engine, (frontal * 0.25).astype(np.uint8))
    assert (result.verdict, result.reason) == ("fail", "face_too_dark")
    assert "bright" in result.hint


def test_a_blurred_face_fails(face_engine, frontal):
    face = face_engine.analyze(frontal)[0]
    blurred = cv2.GaussianBlur(frontal, (0, 0), 0.02 * face.box.width)
    result = gate(face_engine, blurred)
    assert (result.verdict, result.reason) == ("fail", "face_blurred")
    assert result.score < result.threshold


def test_a_face_far_from_the_camera_fails_as_too_small(face_engine, frontal):
    """The photo shrunk to a quarter and set in the corner of a frame of the original size."""
    h, w = frontal.shape[:2]
    small = cv2.resize(frontal, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    canvas = np.full((h, w, 3), 128, np.uint8)
    canvas[:small.shape[0], :small.shape[1]] = small
    result = gate(face_engine, canvas)
    assert (result.verdict, result.reason) == ("fail", "face_too_small")
    assert result.score < result.threshold


def test_closed_eyes_fail_as_eyes_not_visible(face_engine, frontal):
    shut = close_eyes(frontal, face_engine.analyze(frontal)[0])
    result = gate(face_engine, shut)
    assert (result.verdict, result.reason) == ("fail", "eyes_not_visible")


def test_a_turned_head_fails_as_not_frontal(face_engine, faces_dir):
    result = gate(face_engine, photo(faces_dir, "facenet_pytorch/angelina_jolie_1.jpg"))
    assert (result.verdict, result.reason) == ("fail", "face_not_frontal")
    assert "straight" in result.hint
