"""Faces: what the domain needs from a face engine, and the two-threshold match rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """A face box in pixels of the analysed image."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


@dataclass
class FaceObservation:
    """One face found in an image: where, its 128-d encoding, its 68-point landmarks by part."""

    box: Box
    encoding: np.ndarray
    landmarks: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


class FaceEngine(Protocol):
    """Finds faces and computes their encodings."""

    def analyze(self, rgb: np.ndarray, *, max_faces: int = 5) -> list[FaceObservation]:
        """Every face in an RGB image, largest first."""
        ...


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two encodings (face_recognition's metric)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def match_verdict(dist: float, accept: float, reject: float) -> str:
    """``pass`` at or below accept, ``fail`` at or above reject, ``review`` between."""
    if not accept < reject:
        raise ValueError("the accept threshold must be below the reject threshold")
    if dist <= accept:
        return "pass"
    if dist >= reject:
        return "fail"
    return "review"
