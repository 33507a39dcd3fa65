"""What the document reader needs from an OCR engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class TextBox:
    """One line of text found in an image: its corners (x, y), the text and the engine's confidence."""

    corners: tuple[tuple[float, float], ...]
    text: str
    score: float

    @property
    def left(self) -> float:
        return min(x for x, _ in self.corners)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.corners)

    @property
    def top(self) -> float:
        return min(y for _, y in self.corners)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.corners)

    @property
    def cx(self) -> float:
        return (self.left + self.right) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


class OcrEngine(Protocol):
    """Finds and reads the lines of text in an RGB image."""

    def read(self, rgb: np.ndarray) -> list[TextBox]:
        """Every text line, in no particular order."""
        ...

    def read_lines(self, crops: list[np.ndarray]) -> list[str]:
        """The text of each crop, each holding one line (recognition only, no detection)."""
        ...
