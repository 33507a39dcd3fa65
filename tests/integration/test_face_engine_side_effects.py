"""Loading the face engine must not loosen image decoding for the rest of the process."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import badfiles
from verification.errors import InvalidImage
from verification.images import decode


def test_truncated_jpegs_are_still_refused_after_the_face_engine_has_loaded(face_engine):
    face_engine.analyze(np.zeros((200, 200, 3), dtype=np.uint8), max_faces=1)  # imports face_recognition
    with pytest.raises(InvalidImage):
        decode(badfiles.truncated_jpeg())
