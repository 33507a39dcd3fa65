"""Active liveness from facial landmarks: the user performs a random challenge, frame by frame.

The app shows the case's challenge (two or three of blink, turn_left, turn_right in a
random order) and uploads frames in order: at least one frame facing the camera with
the eyes open, then a frame for each action. ``check_liveness`` proves, in this order:

1. ``frames``     enough frames for the challenge, and not too many;
2. ``face``       exactly one face in every frame;
3. ``distinct``   no two frames are the same capture: not byte-identical, and not the
                  same photograph shifted, scaled, rotated or re-encoded (the faces are
                  warped onto each other by their landmarks and compared pixel by pixel);
4. ``same_person`` every frame shows the person of the match frame (face distance);
5. the actions    each action seen, in the challenge's order, nothing else in between
                  (``blink`` by eye aspect ratio, turns by head yaw from the landmarks);
6. ``match_frame`` a frame facing the camera with the eyes open, used for the face match.

A failed step gives ``fail`` / ``liveness_failed`` with ``details["step"]``; evidence
that is there but not clear enough (a half turn, a half-closed eye, a borderline face
distance) gives ``review`` / ``liveness_unclear``. A single still frame proves nothing:
``review`` / ``liveness_not_proven``, never ``pass``.

Directions are the user's own (see ``geometry``): frames are as the camera captured
them, not the mirrored preview.

Every number is measured on the shared face photos (see docs/liveness.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from .checks import FAIL, PASS, REVIEW, CheckResult
from .faces import FaceObservation, distance
from .geometry import FacePatch, Pose, face_patch, patch_difference, pose, sharpness
from .images import DecodedImage

ACTIONS = ("blink", "turn_left", "turn_right")


@dataclass(frozen=True)
class LivenessRules:
    """The thresholds; defaults measured on ../shared/faces (docs/liveness.md)."""

    # Head yaw (-1..1): frontal photos of the set lie within ±0.13; a clear turn of about
    # 30 degrees or more gives 0.29..0.72. Between frontal and turn the pose is unclear.
    turn_yaw: float = 0.25
    frontal_yaw: float = 0.15
    # Eye aspect ratio: open eyes on the set 0.16..0.43; eyes closed (synthetic lids on
    # six photos) 0.10..0.19. A blink frame must be below both bounds below.
    closed_ear: float = 0.21
    closed_ratio: float = 0.70  # of the open-eye EAR of the other frames
    unclear_ratio: float = 0.80  # between closed_ratio and this, with EAR under unclear_ear: half closed
    unclear_ear: float = 0.23
    # Face distance of every frame to the match frame (same session, same person):
    # review at or above the first, fail at or above the second.
    same_person_review: float = 0.50
    same_person_fail: float = 0.60
    # Landmark-aligned pixel difference: the same photograph re-encoded/shifted/scaled
    # gives 0.00..0.10 on the set, different photos of one person 0.27 and up.
    same_capture: float = 0.15
    min_frames: int = 2
    max_frames: int = 8


RULES = LivenessRules()

_HINTS = {
    "challenge": "start a new case to get a challenge",
    "frames": "record the challenge: one frame facing the camera, then one frame for each action",
    "face": "keep your whole face in the picture in every frame; turn your head only about 30 degrees",
    "multiple_faces": "only one person may be in the picture",
    "distinct": "record live frames with the camera; do not send the same picture twice",
    "same_person": "the same person must appear in every frame",
    "order": "perform the actions in the order shown",
    "unexpected_action": "perform only the actions shown, in order",
    "blink": "close both eyes fully for a moment",
    "turn_left": "turn your head to your left, about 30 degrees",
    "turn_right": "turn your head to your right, about 30 degrees",
    "match_frame": "include a frame looking straight at the camera with your eyes open",
}


@dataclass
class FrameReading:
    """What one frame shows."""

    index: int
    pose: Pose | None
    patch: FacePatch | None
    sharpness: float
    events: set[str] = field(default_factory=set)
    unclear: set[str] = field(default_factory=set)

    @property
    def neutral(self) -> bool:
        return not self.events and not self.unclear

    def public(self) -> dict[str, Any]:
        p = self.pose
        return {
            "frame": self.index,
            "yaw": None if p is None else round(p.yaw, 3),
            "pitch": None if p is None else round(p.pitch, 3),
            "ear": None if p is None else round(p.ear, 3),
            "sharpness": round(self.sharpness, 1),
            "events": sorted(self.events),
            "unclear": sorted(self.unclear),
        }


def _result(verdict: str, step: str | None, details: dict[str, Any], reason: str | None = None,
            score: float | None = None, threshold: float | None = None) -> CheckResult:
    if reason is None:
        reason = {PASS: None, FAIL: "liveness_failed", REVIEW: "liveness_unclear"}[verdict]
    if step is not None:
        details = {"step": step, **details}
    hint = _HINTS.get(step or "") if verdict != PASS else None
    return CheckResult("liveness", verdict, reason, score=score, threshold=threshold, details=details, hint=hint)


def read_frame(index: int, frame: DecodedImage, face: FaceObservation) -> FrameReading:
    return FrameReading(index, pose(face.landmarks), face_patch(frame.rgb, face), sharpness(frame.rgb, face))


def classify(readings: Sequence[FrameReading], rules: LivenessRules = RULES) -> None:
    """Fill each reading's events (clear actions) and unclear (half actions)."""
    ears = {r.index: r.pose.ear for r in readings if r.pose is not None and np.isfinite(r.pose.ear)}
    for r in readings:
        p = r.pose
        if p is None:
            r.unclear.add("pose")
            continue
        if p.yaw >= rules.turn_yaw:
            r.events.add("turn_left")
        elif p.yaw <= -rules.turn_yaw:
            r.events.add("turn_right")
        elif abs(p.yaw) > rules.frontal_yaw:
            r.unclear.add("turn_left" if p.yaw > 0 else "turn_right")
        others = [e for i, e in ears.items() if i != r.index]
        open_ear = max(others) if others else p.ear
        ratio = p.ear / open_ear if open_ear > 0 else 1.0
        if p.ear <= rules.closed_ear and ratio <= rules.closed_ratio:
            r.events.add("blink")
        elif ratio <= rules.unclear_ratio and p.ear <= rules.unclear_ear:
            r.unclear.add("blink")


def observed_actions(readings: Sequence[FrameReading]) -> list[str]:
    """The actions in the order the frames show them; an action held over frames counts once."""
    seq: list[str] = []
    previous: set[str] = set()
    for r in readings:
        for action in sorted(r.events - previous):
            seq.append(action)
        previous = r.events
    return seq


def check_liveness(frames: Sequence[DecodedImage], faces: Sequence[list[FaceObservation]],
                   challenge: Sequence[str], rules: LivenessRules = RULES) -> tuple[CheckResult, int]:
    """The liveness verdict for ``frames`` (in upload order) and the index of the frame to match."""
    challenge = list(challenge or [])
    n = len(frames)
    if not challenge or any(a not in ACTIONS for a in challenge):
        return _result(REVIEW, "challenge", {"challenge": challenge}, reason="liveness_not_proven"), 0
    if n < rules.min_frames:
        return _result(REVIEW, "frames", {"count": n, "needed": len(challenge) + 1},
                       reason="liveness_not_proven"), 0
    if n < len(challenge) + 1 or n > rules.max_frames:
        return _result(FAIL, "frames", {"count": n, "needed": len(challenge) + 1, "max": rules.max_frames}), 0
    if len(faces) != n:
        raise ValueError("one face list per frame is required")
    for i, found in enumerate(faces):
        if not found:
            return _result(FAIL, "face", {"frame": i, "faces": 0}), 0
        if len(found) > 1:
            return _result(FAIL, "multiple_faces", {"frame": i, "faces": len(found)}), 0

    digests = [hashlib.sha256(np.ascontiguousarray(f.rgb).tobytes()).hexdigest() for f in frames]
    for i, j in combinations(range(n), 2):
        if digests[i] == digests[j]:
            return _result(FAIL, "distinct", {"frames": [i, j], "why": "identical pixels"}, score=0.0,
                           threshold=rules.same_capture), 0

    readings = [read_frame(i, f, found[0]) for i, (f, found) in enumerate(zip(frames, faces, strict=True))]
    closest = (float("inf"), (0, 0))
    for i, j in combinations(range(n), 2):
        a, b = readings[i].patch, readings[j].patch
        if a is None or b is None:
            continue
        diff = patch_difference(a, b)
        if diff < closest[0]:
            closest = (diff, (i, j))
    if closest[0] < rules.same_capture:
        return _result(FAIL, "distinct", {"frames": list(closest[1]), "why": "the same picture moved or re-encoded",
                                          "difference": round(closest[0], 4)},
                       score=closest[0], threshold=rules.same_capture), 0

    classify(readings, rules)
    details: dict[str, Any] = {"challenge": challenge, "frames": [r.public() for r in readings],
                               "closest_frames": round(closest[0], 4) if np.isfinite(closest[0]) else None}

    best = _match_frame(readings, rules)
    ref = faces[best][0].encoding
    dists = [distance(ref, found[0].encoding) for found in faces]
    details["match_frame"] = best
    details["distances"] = [round(d, 4) for d in dists]
    worst = int(np.argmax(dists))
    if dists[worst] >= rules.same_person_fail:
        return _result(FAIL, "same_person", {**details, "frame": worst}, score=dists[worst],
                       threshold=rules.same_person_fail), best

    seen = observed_actions(readings)
    details["observed"] = seen
    verdict, step = _compare(challenge, seen, readings)
    if verdict != PASS:
        return _result(verdict, step, details), best
    if not readings[best].neutral:
        return _result(FAIL, "match_frame", details), best
    if dists[worst] >= rules.same_person_review:
        return _result(REVIEW, "same_person", {**details, "frame": worst}, score=dists[worst],
                       threshold=rules.same_person_review), best
    return _result(PASS, None, details, score=float(len(challenge)), threshold=float(len(challenge))), best


def _match_frame(readings: Sequence[FrameReading], rules: LivenessRules) -> int:
    """The sharpest neutral frame (facing the camera, eyes open); else the most frontal one."""
    neutral = [r for r in readings if r.neutral]
    if neutral:
        return max(neutral, key=lambda r: r.sharpness).index
    posed = [(abs(r.pose.yaw), -r.pose.ear, r.index) for r in readings if r.pose is not None]
    return min(posed)[2] if posed else 0


def _compare(challenge: list[str], seen: list[str], readings: Sequence[FrameReading]) -> tuple[str, str | None]:
    """pass when the frames show exactly the challenge in order; else the failing step."""
    if seen == challenge:
        return PASS, None
    missing = [a for a in challenge if a not in seen]
    if missing:
        unclear = any(missing[0] in r.unclear for r in readings)
        return (REVIEW if unclear else FAIL), missing[0]
    extra = [a for a in seen if a not in challenge]
    if extra or len(seen) != len(challenge):
        # Every requested action is there, but something else too (or an action twice).
        in_order = _subsequence(challenge, seen)
        return FAIL, ("unexpected_action" if in_order else "order")
    return FAIL, "order"


def _subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)
