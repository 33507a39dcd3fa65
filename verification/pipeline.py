"""The automatic verification: every check on a document and a selfie, and the decision.

This is pure computation over decoded images: no store, no HTTP. ``cases.submit_case``
and ``livegate verify`` both run it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np

from . import idnumber
from .age import age_on, local_today
from .checks import FAIL, INFO, PASS, REVIEW, SKIPPED, CheckResult, decide
from .faces import FaceEngine, FaceObservation, distance, match_verdict
from .images import DecodedImage

DOCUMENT_TYPES = ("cn_resident_id", "passport")


@dataclass(frozen=True)
class Policy:
    """The thresholds and modes a verification runs under."""

    face_accept: float
    face_reject: float
    liveness: str = "required"  # required | off
    timezone: str = "Asia/Shanghai"


@dataclass
class Evidence:
    """What the user declared and uploaded."""

    document_type: str
    declared_name: str
    declared_number: str
    document_front: DecodedImage
    selfies: Sequence[DecodedImage]
    document_back: DecodedImage | None = None
    challenge: Sequence[str] = ()


@dataclass
class Outcome:
    """The decision, its reasons and every check behind it."""

    decision: str
    reasons: list[str]
    checks: list[CheckResult]
    birth_date: date | None = None
    age: int | None = None
    adult: bool | None = None
    document: dict[str, Any] = field(default_factory=dict)
    selfie_encoding: np.ndarray | None = None
    level: str = "document+face"

    def public(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": self.reasons,
            "checks": [c.public() for c in self.checks],
            "age": self.age,
            "adult": self.adult,
        }


class LivenessCheck(Protocol):
    def __call__(self, frames: Sequence[DecodedImage], faces: Sequence[list[FaceObservation]],
                 challenge: Sequence[str]) -> tuple[CheckResult, int]:
        """The liveness result and the index of the frame to match against the document."""
        ...


class DocumentReader(Protocol):
    def __call__(self, evidence: Evidence, today: date) -> list[CheckResult]:
        """Checks from reading the document image (OCR, MRZ); may fill ``document`` fields."""
        ...


def no_liveness_detector(frames, faces, challenge) -> tuple[CheckResult, int]:
    """Used until a liveness detector is configured: liveness stays unproven, so a reviewer decides."""
    return CheckResult("liveness", REVIEW, "liveness_not_proven"), 0


@dataclass
class Verifier:
    """Runs the checks with the engines it is given."""

    faces: FaceEngine
    liveness: Callable[..., tuple[CheckResult, int]] = no_liveness_detector
    reader: Callable[..., list[CheckResult]] | None = None
    # Face quality gates on the match frame (verification.face_quality); run when liveness is required.
    quality: Callable[..., CheckResult] | None = None

    def run(self, evidence: Evidence, policy: Policy, now: datetime) -> Outcome:
        today = local_today(now, policy.timezone)
        checks: list[CheckResult] = []
        document: dict[str, Any] = {}

        number_check, born, sex = check_document_number(evidence.document_type, evidence.declared_number, today)
        checks.append(number_check)
        if number_check.verdict == PASS:
            document["number"] = idnumber.normalize(evidence.declared_number)
        if born:
            document["birth_date"] = born.isoformat()
        if sex:
            document["sex"] = sex
        if self.reader is not None:
            read = self.reader(evidence, today)
            checks.extend(read)
            for c in read:
                # Read fields are personal data: they go to the encrypted document, not the plain details.
                document.update(c.details.pop("fields", {}))
            if not born and document.get("birth_date"):
                born = date.fromisoformat(document["birth_date"])

        selfie_encoding = None
        if number_check.verdict == FAIL:
            checks.append(CheckResult("face_match", SKIPPED, "document_number_invalid"))
        elif any(c.name == "document_image" and c.verdict == FAIL for c in checks):
            checks.append(CheckResult("face_match", SKIPPED, "document_image_unusable"))
        else:
            face_checks, selfie_encoding = self._faces(evidence, policy)
            checks.extend(face_checks)

        age = adult = None
        if born:
            age = age_on(born, today)
            adult = age >= 18
            checks.append(CheckResult("age", PASS if adult else INFO, None if adult else "minor",
                                      score=float(age), threshold=18.0))
        else:
            checks.append(CheckResult("age", REVIEW, "age_unknown"))
        decision, reasons = decide(checks)
        liveness_passed = any(c.name == "liveness" and c.verdict == PASS for c in checks)
        level = "document+face+liveness" if liveness_passed else "document+face"
        return Outcome(decision, reasons, checks, born, age, adult, document, selfie_encoding, level)

    def _faces(self, evidence: Evidence, policy: Policy) -> tuple[list[CheckResult], np.ndarray | None]:
        checks: list[CheckResult] = []
        doc_faces = self.faces.analyze(evidence.document_front.rgb, max_faces=3)
        if not doc_faces:
            checks.append(CheckResult("document_face", FAIL, "no_face_on_document",
                                      hint="photograph the side of the card with the portrait"))
        else:
            checks.append(CheckResult("document_face", PASS, None, score=float(len(doc_faces)),
                                      details={"box": doc_faces[0].box.__dict__}))
        frame_faces = [self.faces.analyze(f.rgb, max_faces=3) for f in evidence.selfies]
        if policy.liveness == "off":
            live, best = CheckResult("liveness", SKIPPED, "liveness_off"), 0
        else:
            live, best = self.liveness(evidence.selfies, frame_faces, list(evidence.challenge))
        faces = frame_faces[best] if frame_faces else []
        if not faces:
            checks.append(CheckResult("selfie_face", FAIL, "no_face_in_selfie",
                                      hint="face the camera in good light"))
        elif len(faces) > 1:
            checks.append(CheckResult("selfie_face", FAIL, "multiple_faces_in_selfie", score=float(len(faces)),
                                      threshold=1.0, hint="only one person may be in the picture"))
        else:
            checks.append(CheckResult("selfie_face", PASS, None, score=1.0, threshold=1.0,
                                      details={"frame": best}))
        checks.append(live)
        if self.quality is not None and policy.liveness != "off" and len(faces) == 1:
            checks.append(self.quality(evidence.selfies[best], faces[0]))
        if not doc_faces or len(faces) != 1:
            checks.append(CheckResult("face_match", SKIPPED, "no_face_to_compare"))
            return checks, None
        dist = distance(doc_faces[0].encoding, faces[0].encoding)
        verdict = match_verdict(dist, policy.face_accept, policy.face_reject)
        reason = {PASS: None, FAIL: "face_mismatch", REVIEW: "face_uncertain"}[verdict]
        threshold = policy.face_reject if verdict == FAIL else policy.face_accept
        checks.append(CheckResult("face_match", verdict, reason, score=dist, threshold=threshold,
                                  details={"accept": policy.face_accept, "reject": policy.face_reject}))
        return checks, faces[0].encoding


_PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{5,9}$")


def check_document_number(document_type: str, number: str, today: date
                          ) -> tuple[CheckResult, date | None, str | None]:
    """The declared number's own validity, and the birth date and sex it encodes."""
    if document_type == "cn_resident_id":
        try:
            parsed = idnumber.parse(number, today=today)
        except idnumber.InvalidResidentId as exc:
            return CheckResult("document_number", FAIL, "document_number_invalid",
                               details={"rule": exc.rule}), None, None
        return CheckResult("document_number", PASS, None), parsed.birth_date, parsed.sex
    value = idnumber.normalize(number)
    if not _PASSPORT_NUMBER.match(value):
        return CheckResult("document_number", FAIL, "document_number_invalid",
                           details={"rule": "format"}), None, None
    return CheckResult("document_number", PASS, None), None, None
