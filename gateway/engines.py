"""Which optional engines the verifier runs with (liveness detector, document reader)."""

from __future__ import annotations


def liveness_detector():
    """The liveness check the verifier uses; unproven (→ review) until a detector is installed."""
    try:
        from verification.liveness import check_liveness
    except ImportError:
        from verification.pipeline import no_liveness_detector

        return no_liveness_detector
    return check_liveness


def document_reader():
    """The OCR/MRZ document reader, when one is available."""
    try:
        from verification.documents import read_document
    except ImportError:
        return None
    return read_document


def face_quality():
    """The face quality gates on the frame matched against the document, when installed."""
    try:
        from verification.face_quality import check_face_quality
    except ImportError:
        return None
    return check_face_quality
