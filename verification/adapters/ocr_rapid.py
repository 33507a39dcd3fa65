"""The OCR port implemented with RapidOCR (PaddleOCR's models on ONNX Runtime).

The models ship inside the wheel, so nothing is downloaded at run time. Loading
takes about a second, so the engine is built on first use, once per process,
under a lock (gunicorn threads may race to it).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from verification.ocr import TextBox


class RapidOcrEngine:
    """OCR with rapidocr-onnxruntime; loads its models lazily and only once."""

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from rapidocr_onnxruntime import RapidOCR

                    # Documents arrive flattened to about 1000 px: capping detection at 960 px
                    # (instead of scaling the short side up to 736) halves the time, same readings.
                    self._engine = RapidOCR(intra_op_num_threads=self._threads, inter_op_num_threads=1,
                                            print_verbose=False, det_limit_type="max",
                                            det_limit_side_len=960)
        return self._engine

    def read(self, rgb: np.ndarray) -> list[TextBox]:
        """Every text line found in ``rgb``."""
        engine = self._get()
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        result, _ = engine(bgr, use_cls=False)
        out = []
        for corners, text, score in result or []:
            out.append(TextBox(tuple((float(x), float(y)) for x, y in corners), str(text), float(score)))
        return out


    def read_lines(self, crops: list[np.ndarray]) -> list[str]:
        """The text of each one-line crop (the recogniser alone)."""
        engine = self._get()
        out = []
        for crop in crops:
            if crop.size == 0:
                out.append("")
                continue
            result, _ = engine(np.ascontiguousarray(crop[..., ::-1]), use_det=False, use_cls=False)
            out.append(str(result[0][0]) if result else "")
        return out


_shared: RapidOcrEngine | None = None
_shared_lock = threading.Lock()


def shared_engine() -> RapidOcrEngine:
    """The process-wide engine (one model load per process)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = RapidOcrEngine()
    return _shared
