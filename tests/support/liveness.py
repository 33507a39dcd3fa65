"""Challenge frame sequences built from the shared face photos.

The shared photos are stills of celebrities, not recordings of a challenge: where
no photo shows a pose, a frame is *built* from one that does — mirrored (a head
turned to the user's left becomes one turned to the right), or with the eyes
closed by painting skin over them along the landmarks and drawing a lash line.
Each test says which frames are built.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from verification.faces import FaceObservation
from verification.images import DecodedImage, decode

from .people import load_rgb


def photo(faces_dir, file: str) -> np.ndarray:
    return load_rgb(str(faces_dir / file))


def mirrored(rgb: np.ndarray) -> np.ndarray:
    """The photo flipped left to right: a turn to the left becomes a turn to the right."""
    return np.ascontiguousarray(rgb[:, ::-1])


def close_eyes(rgb: np.ndarray, face: FaceObservation) -> np.ndarray:
    """The photo with both eyes painted shut along the 68 landmarks (a synthetic blink)."""
    import cv2

    out = rgb.copy()
    h, w = rgb.shape[:2]
    for part in ("left_eye", "right_eye"):
        eye = np.array(face.landmarks[part], dtype=np.float64)
        c = eye.mean(axis=0)
        width = float(np.linalg.norm(eye[0] - eye[3]))
        lid = ((eye - c) * np.array([1.3, 2.2]) + c).astype(np.int32)
        ring = ((eye - c) * np.array([1.7, 3.4]) + c).astype(np.int32)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [lid], 255)
        around = np.zeros((h, w), np.uint8)
        cv2.fillPoly(around, [ring], 255)
        around[inside > 0] = 0
        skin = np.median(rgb[around > 0], axis=0)
        painted = out.copy()
        cv2.fillPoly(painted, [lid], tuple(float(v) for v in skin))
        lashes = np.array([eye[0], eye[5], eye[4], eye[3]]).astype(np.int32)
        cv2.polylines(painted, [lashes], False, (35, 25, 25), max(2, round(width * 0.12)), cv2.LINE_AA)
        k = max(3, int(width * 0.15) | 1)
        grown = cv2.dilate(inside, np.ones((3, 3), np.uint8))
        alpha = cv2.GaussianBlur((grown > 0).astype(np.float32), (k, k), 0)[..., None]
        out = (painted * alpha + out * (1 - alpha)).astype(np.uint8)
    return out


def as_upload(rgb: np.ndarray, quality: int = 90, max_side: int | None = None) -> bytes:
    """JPEG bytes as a phone would upload them (optionally scaled to ``max_side``)."""
    img = Image.fromarray(rgb)
    if max_side and max(img.size) != max_side:
        s = max_side / max(img.size)
        img = img.resize((round(img.width * s), round(img.height * s)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def decoded(rgbs, max_side: int | None = None) -> list[DecodedImage]:
    return [decode(as_upload(rgb, max_side=max_side)) for rgb in rgbs]
