"""Face quality gates for the frame matched against the document.

A face match on a tiny, dark, blurred or turned face is a guess: the gate fails
such a frame with a stable reason code and a hint the app can show before the user
tries again. The numbers are measured on the shared face photos (docs/liveness.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import FAIL, PASS, CheckResult
from .faces import FaceObservation
from .geometry import brightness, pose, sharpness
from .images import DecodedImage


@dataclass(frozen=True)
class QualityRules:
    # Face box height in pixels of the uploaded frame: below this dlib's 150 px face chip
    # is mostly interpolation (the 52-62 px faces of the set's lab4 photos).
    min_face_px: int = 80
    # ... and relative to the frame: a face under 15% of the short side is far from the phone.
    min_face_fraction: float = 0.15
    # Mean eye aspect ratio: open eyes on the set are 0.18 and up but for one squint (0.16);
    # eyes painted shut read 0.10..0.19.
    min_ear: float = 0.18
    # Mean luma of the face (0-255): the darkest usable photo of the set is 57.
    min_brightness: float = 45.0
    # Variance of the Laplacian of the face at 128 px wide: sharp photos 270-1100,
    # a blur of 1% of the face width 17-33, of 2% under 8.
    min_sharpness: float = 15.0
    # Head yaw (-1..1, see geometry) and roll in degrees.
    max_yaw: float = 0.25
    max_roll: float = 25.0


QUALITY = QualityRules()

HINTS = {
    "face_too_small": "hold the phone closer: your face should fill about a third of the picture",
    "eyes_not_visible": "keep your eyes open and uncovered (no sunglasses, hair or hands)",
    "face_too_dark": "move to a brighter place or face the light",
    "face_blurred": "hold the phone still and make sure the camera is in focus",
    "face_not_frontal": "look straight at the camera with your head level",
}


def check_face_quality(frame: DecodedImage, face: FaceObservation, rules: QualityRules = QUALITY) -> CheckResult:
    """``face_quality``: pass, or fail with the first gate the face does not clear."""
    p = pose(face.landmarks)
    short_side = min(frame.rgb.shape[:2])
    light = round(brightness(frame.rgb, face), 1)
    sharp = round(sharpness(frame.rgb, face), 1)
    measured: dict[str, float | None] = {
        "face_px": face.box.height,
        "ear": None if p is None else round(p.ear, 3),
        "brightness": light,
        "sharpness": sharp,
        "yaw": None if p is None else round(p.yaw, 3),
        "roll": None if p is None else round(p.roll, 1),
    }
    gates: list[tuple[str, bool, float | None, float]] = [
        ("face_too_small", face.box.height < max(rules.min_face_px, rules.min_face_fraction * short_side),
         float(face.box.height), max(float(rules.min_face_px), rules.min_face_fraction * short_side)),
        ("eyes_not_visible", p is None or not p.ear >= rules.min_ear, None if p is None else p.ear, rules.min_ear),
        ("face_too_dark", light < rules.min_brightness, light, rules.min_brightness),
        ("face_blurred", sharp < rules.min_sharpness, sharp, rules.min_sharpness),
        ("face_not_frontal", p is not None and (abs(p.yaw) > rules.max_yaw or abs(p.roll) > rules.max_roll),
         None if p is None else abs(p.yaw), rules.max_yaw),
    ]
    for reason, failed, score, threshold in gates:
        if failed:
            return CheckResult("face_quality", FAIL, reason, score=score, threshold=threshold,
                               details=measured, hint=HINTS[reason])
    return CheckResult("face_quality", PASS, None, details=measured)
