"""Head pose, eye openness and face crops from dlib's 68 landmarks (no model beyond the landmarks).

Directions are in the user's own terms on frames as the camera captured them
(not a mirrored preview): when the user turns to their *left*, their nose moves
towards the right side of the image, and ``yaw`` is positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .faces import FaceObservation

Landmarks = dict[str, list[tuple[int, int]]]


def _pts(marks: Landmarks, part: str) -> np.ndarray:
    return np.asarray(marks.get(part) or [], dtype=np.float64).reshape(-1, 2)


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Soukupová & Čech's EAR over the six points of one eye: about 0.3 open, under 0.2 closed."""
    if len(eye) != 6:
        return float("nan")
    a = np.linalg.norm(eye[1] - eye[5])
    b = np.linalg.norm(eye[2] - eye[4])
    c = np.linalg.norm(eye[0] - eye[3])
    return float((a + b) / (2.0 * c)) if c > 0 else float("nan")


@dataclass(frozen=True)
class Pose:
    """What the landmarks say about one face.

    ``yaw``: where the nose tip sits between the two sides of the jaw, -1..1, 0 frontal,
    positive when the user turned to their left (nose towards the image's right).
    ``pitch``: the nose tip's height between the eye line and the chin, about 0.4 frontal,
    larger when the head tips down. ``roll``: the eye line's angle in degrees.
    ``ear``: mean eye aspect ratio of the two eyes. ``eye_distance``: pixels between eye centres.
    """

    yaw: float
    pitch: float
    roll: float
    ear: float
    ear_left: float
    ear_right: float
    eye_distance: float


def pose(marks: Landmarks) -> Pose | None:
    """The pose of a face from its 68 landmarks; None when the landmarks are incomplete."""
    chin, nose = _pts(marks, "chin"), _pts(marks, "nose_bridge")
    left_eye, right_eye = _pts(marks, "left_eye"), _pts(marks, "right_eye")
    if len(chin) != 17 or len(nose) != 4 or len(left_eye) != 6 or len(right_eye) != 6:
        return None
    tip = nose[-1]  # landmark 30, the nose tip on the bridge line
    # The jaw's sides at the height of the nose: landmarks 2 and 14.
    left_side, right_side = chin[2], chin[14]
    d_left = abs(tip[0] - left_side[0])
    d_right = abs(right_side[0] - tip[0])
    yaw = float((d_left - d_right) / (d_left + d_right)) if d_left + d_right > 0 else 0.0
    if tip[0] < left_side[0]:
        yaw = -1.0
    elif tip[0] > right_side[0]:
        yaw = 1.0
    eyes_c = (left_eye.mean(axis=0) + right_eye.mean(axis=0)) / 2
    chin_bottom = chin[8]
    span = np.linalg.norm(chin_bottom - eyes_c)
    pitch = float(np.linalg.norm(tip - eyes_c) / span) if span > 0 else float("nan")
    dx, dy = right_eye.mean(axis=0) - left_eye.mean(axis=0)
    roll = float(np.degrees(np.arctan2(dy, dx)))
    el, er = eye_aspect_ratio(left_eye), eye_aspect_ratio(right_eye)
    return Pose(yaw=yaw, pitch=pitch, roll=roll, ear=float(np.nanmean([el, er])), ear_left=el, ear_right=er,
                eye_distance=float(np.hypot(dx, dy)))


_PARTS = ("chin", "left_eyebrow", "right_eyebrow", "nose_bridge", "nose_tip", "left_eye", "right_eye",
          "top_lip", "bottom_lip")


def landmark_points(marks: Landmarks) -> np.ndarray:
    """All 68 landmarks as an (n, 2) float32 array, in dlib's order."""
    pts = [p for part in _PARTS for p in (marks.get(part) or [])]
    return np.asarray(pts, dtype=np.float32).reshape(-1, 2)


@dataclass(frozen=True)
class FacePatch:
    """A small grey copy of one face (about ``width`` px wide) and its landmarks in patch pixels."""

    grey: np.ndarray
    points: np.ndarray


def face_patch(rgb: np.ndarray, face: FaceObservation, width: int = 48) -> FacePatch | None:
    """Cut the face out at a fixed size once per frame, so comparing frames is cheap."""
    import cv2

    pts = landmark_points(face.landmarks)
    if len(pts) < 60:
        return None
    x, y, w, h = cv2.boundingRect(pts.astype(np.int32))
    if w < 8 or h < 8:
        return None
    margin = 0.15 * max(w, h)
    ih, iw = rgb.shape[:2]
    x0, y0 = max(0, int(x - margin)), max(0, int(y - margin))
    x1, y1 = min(iw, int(x + w + margin)), min(ih, int(y + h + margin))
    region = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    s = width / w
    size = (max(1, round(region.shape[1] * s)), max(1, round(region.shape[0] * s)))
    small = cv2.resize(region, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    return FacePatch(small.astype(np.float32), ((pts - [x0, y0]) * s).astype(np.float32))


def patch_difference(a: FacePatch, b: FacePatch) -> float:
    """How different two faces look once ``b`` is warped onto ``a`` by their landmarks.

    Mean absolute difference of brightness- and contrast-normalised pixels inside the
    face outline, after a light blur. The same photograph shifted, scaled, rotated,
    re-encoded or re-lit scores below about 0.1 on the shared photos; two different
    photographs of one person score above 0.25.
    """
    import cv2

    m, _ = cv2.estimateAffinePartial2D(b.points, a.points, method=cv2.LMEDS)
    if m is None:
        return float("inf")
    h, w = a.grey.shape
    warped = cv2.warpAffine(b.grey, m, (w, h), flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones_like(b.grey), m, (w, h), flags=cv2.INTER_NEAREST) > 0
    hull = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(a.points.astype(np.int32)), 1)
    inside = (hull > 0) & valid
    if inside.sum() < 50:
        return float("inf")
    pa = cv2.GaussianBlur(a.grey, (0, 0), 1.0)[inside]
    pb = cv2.GaussianBlur(warped, (0, 0), 1.0)[inside]
    pa = (pa - pa.mean()) / (pa.std() + 1e-6)
    pb = (pb - pb.mean()) / (pb.std() + 1e-6)
    return float(np.abs(pa - pb).mean())


def face_region(rgb: np.ndarray, face: FaceObservation) -> np.ndarray:
    """The pixels inside the face box (clipped to the image)."""
    h, w = rgb.shape[:2]
    b = face.box
    return rgb[max(0, b.top):min(h, b.bottom), max(0, b.left):min(w, b.right)]


def sharpness(rgb: np.ndarray, face: FaceObservation) -> float:
    """Variance of the Laplacian of the face, resampled to 128 px wide so sizes compare."""
    import cv2

    region = face_region(rgb, face)
    if region.size == 0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (128, max(1, round(128 * grey.shape[0] / grey.shape[1]))),
                      interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def brightness(rgb: np.ndarray, face: FaceObservation) -> float:
    """Mean luma (0..255) of the face."""
    region = face_region(rgb, face)
    if region.size == 0:
        return 0.0
    r, g, b = (region[..., i].astype(np.float64) for i in range(3))
    return float((0.299 * r + 0.587 * g + 0.114 * b).mean())
