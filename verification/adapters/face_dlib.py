"""FaceEngine on face_recognition (dlib HOG detector, 68-point landmarks, ResNet encoder)."""

from __future__ import annotations

import threading

import numpy as np

from ..faces import Box, FaceObservation
from ..images import downscale

# Detection runs on a downscaled copy: HOG at 1280 px costs about 1 s on this
# machine, at 640 px with one upsampling step about 190 ms, without upsampling
# about 45 ms. Selfie faces are large, so the first pass does not upsample; only
# when it finds nothing (a card portrait, a face far away) does a second pass
# upsample once. Measured in bench/bench_liveness.py (docs/liveness.md); the
# CNN detector costs 0.7 s at 320 px and 3.5 s at 640 px and is not used.
# Landmarks and the encoding are computed on the full image, mapped back.
DETECT_MAX_SIDE = 640
DETECT_UPSAMPLE = 0
DETECT_RETRY_UPSAMPLE = 1


class DlibFaceEngine:
    """face_recognition behind the FaceEngine port; models load on first use."""

    def __init__(self, detect_max_side: int = DETECT_MAX_SIDE, upsample: int = DETECT_UPSAMPLE,
                 encode_max_side: int = 1280, model: str = "hog",
                 retry_upsample: int | None = DETECT_RETRY_UPSAMPLE) -> None:
        self.detect_max_side = detect_max_side
        self.upsample = upsample
        self.retry_upsample = retry_upsample
        self.encode_max_side = encode_max_side
        self.model = model
        self._lock = threading.Lock()
        self._fr = None

    def _lib(self):  # imported lazily: loading dlib's models costs about a second
        if self._fr is None:
            with self._lock:
                if self._fr is None:
                    from PIL import ImageFile

                    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
                    import face_recognition

                    # face_recognition turns on PIL's LOAD_TRUNCATED_IMAGES for the whole
                    # process at import; images.decode must keep refusing truncated uploads.
                    ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                    self._fr = face_recognition
        return self._fr

    def analyze(self, rgb: np.ndarray, *, max_faces: int = 5) -> list[FaceObservation]:
        fr = self._lib()
        work, _ = downscale(rgb, self.encode_max_side)
        small, scale = downscale(work, self.detect_max_side)
        small = np.ascontiguousarray(small)
        found = fr.face_locations(small, number_of_times_to_upsample=self.upsample, model=self.model)
        if not found and self.retry_upsample is not None and self.retry_upsample > self.upsample:
            found = fr.face_locations(small, number_of_times_to_upsample=self.retry_upsample, model=self.model)
        if not found:
            return []
        h, w = work.shape[:2]
        boxes = []
        for top, right, bottom, left in found:
            boxes.append((
                max(0, round(top / scale)), min(w, round(right / scale)),
                min(h, round(bottom / scale)), max(0, round(left / scale)),
            ))
        boxes.sort(key=lambda b: (b[2] - b[0]) * (b[1] - b[3]), reverse=True)
        boxes = boxes[:max_faces]
        work = np.ascontiguousarray(work)
        encodings = fr.face_encodings(work, known_face_locations=boxes, num_jitters=1, model="small")
        landmarks = fr.face_landmarks(work, face_locations=boxes, model="large")
        back = 1.0 / (work.shape[0] / rgb.shape[0])
        out = []
        for box, enc, marks in zip(boxes, encodings, landmarks, strict=True):
            t, r, b, l = (round(v * back) for v in box)
            out.append(FaceObservation(
                box=Box(t, r, b, l),
                encoding=np.asarray(enc, dtype=np.float64),
                landmarks={k: [(round(x * back), round(y * back)) for x, y in v] for k, v in marks.items()},
            ))
        return out
