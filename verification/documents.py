"""Reading the document and holding what it says against what the user declared.

``read_document(evidence, today)`` is the verifier's document reader. For a
resident ID card: quality gate, perspective correction, OCR of the front (and
back), then the cross-checks (number, name, printed birth date and sex against
the number, validity period). For a passport: quality gate, the MRZ found and
read by OCR, every check digit verified, then the same cross-checks with the
Latin name compared through pinyin.

Reason codes (stable): document_image gate (image_too_small, image_too_dark,
document_not_found, document_cut_off, document_too_small, document_blurred,
document_glare), document_unreadable, document_number_unreadable,
document_number_mismatch, name_mismatch, name_unreadable, document_inconsistent,
document_expired, mrz_not_found, mrz_check_digit, mrz_format.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from . import idcard, idnumber, mrz, names, quality
from .checks import FAIL, PASS, REVIEW, SKIPPED, CheckResult
from .ocr import OcrEngine, TextBox
from .pipeline import Evidence

log = logging.getLogger("livegate.documents")

CARD_WIDTH = 1000  # the flattened card is OCR'd at this width (text 25-35 px high)
PAGE_WIDTH = 1100
HINT_RETAKE = "photograph the card's portrait side flat, in good light, filling the frame"


@dataclass
class DocumentReader:
    """The verifier's document reader, with its OCR engine and gate thresholds."""

    ocr: OcrEngine
    thresholds: quality.Thresholds = quality.Thresholds()

    def __call__(self, evidence: Evidence, today: date) -> list[CheckResult]:
        try:
            return self._read(evidence, today)
        except Exception:  # a picture we failed to foresee must not fail the case: a person looks at it
            log.exception("the document reader failed")
            return [CheckResult("document_read", REVIEW, "document_reader_error")]

    def _read(self, evidence: Evidence, today: date) -> list[CheckResult]:
        if evidence.document_type == "passport":
            return self.read_passport(evidence.document_front.rgb, evidence.declared_name,
                                      evidence.declared_number, today)
        back = evidence.document_back.rgb if evidence.document_back is not None else None
        return self.read_id_card(evidence.document_front.rgb, back, evidence.declared_name,
                                 evidence.declared_number, today)

    # --- resident ID card -------------------------------------------------------

    def read_id_card(self, front: np.ndarray, back: np.ndarray | None, declared_name: str,
                     declared_number: str, today: date) -> list[CheckResult]:
        """Gate, read and cross-check a resident identity card."""
        gate = quality.assess(front, ratio=quality.ID_CARD_RATIO, width=CARD_WIDTH, thresholds=self.thresholds)
        if not gate.passed or gate.document is None:
            return gate.checks
        checks = list(gate.checks)
        fields = self._read_front(gate.document)
        if fields.number is None and fields.labels_seen < 2:
            # Perhaps upside down: one more try turned half a turn.
            turned = self._read_front(np.ascontiguousarray(gate.document[::-1, ::-1]))
            if turned.number is not None or turned.labels_seen >= 2:
                fields = turned
        back_checks: list[CheckResult] = []
        if back is not None:
            back_gate = quality.assess(back, ratio=quality.ID_CARD_RATIO, width=CARD_WIDTH,
                                       thresholds=self.thresholds)
            if back_gate.passed and back_gate.document is not None:
                idcard.read_back(self.ocr.read(back_gate.document), into=fields)
            else:
                for c in back_gate.checks:
                    back_checks.append(CheckResult("document_back_image", c.verdict, c.reason, c.score,
                                                   c.threshold, c.details, c.hint))
        checks.extend(back_checks)
        checks.extend(cross_check_card(fields, declared_name, declared_number, today,
                                       back_given=back is not None))
        return checks

    def _read_front(self, flat: np.ndarray) -> idcard.CardFields:
        return idcard.read_front(self.ocr.read(flat), flat.shape[1])

    # --- passport -----------------------------------------------------------------

    def read_passport(self, page: np.ndarray, declared_name: str, declared_number: str,
                      today: date) -> list[CheckResult]:
        """Gate a passport data page, find and read its MRZ, and cross-check it."""
        gate = quality.assess(page, ratio=quality.PASSPORT_PAGE_RATIO, width=PAGE_WIDTH,
                              thresholds=self.thresholds, require_document=False)
        if not gate.passed or gate.document is None:
            return gate.checks
        checks = list(gate.checks)
        flat = gate.document
        h = flat.shape[0]
        # The MRZ is the bottom quarter of the page; read that band first, the whole page if it is not there.
        band_top = int(h * 0.62)
        attempts = [(flat[band_top:], band_top), (flat, 0)]
        last_error: mrz.MrzInvalid | None = None
        found_lines = False
        name_lines: list[str] = []
        for image, _offset in attempts:
            image = np.ascontiguousarray(image)
            boxes = self._refine_mrz(image, self.ocr.read(image))
            result, error, seen = read_mrz(boxes, today, name_lines)
            found_lines = found_lines or seen
            if result is not None:
                checks.append(CheckResult("mrz", PASS, None, details={"format": result.format,
                                                                      "fields": result.fields()}))
                checks.extend(cross_check_mrz(result, declared_name, declared_number, today))
                return checks
            last_error = error or last_error
        if last_error is not None and found_lines:
            checks.append(CheckResult("mrz", FAIL, last_error.reason,
                                      details={"field": last_error.field, "message": last_error.message},
                                      hint=None if last_error.reason == "mrz_check_digit"
                                      else "photograph the whole data page, including the two lines at the bottom"))
        else:
            checks.append(CheckResult("mrz", FAIL, "mrz_not_found",
                                      hint="photograph the whole data page, including the two lines at the bottom"))
        return checks


    def _refine_mrz(self, image: np.ndarray, boxes: list[TextBox]) -> list[TextBox]:
        """Re-read the MRZ lines from crops the recogniser reads reliably.

        Reading a whole 44-character line at once, the recogniser miscounts long runs of
        ``<`` and drops letters next to them, and detection often cuts a name line short.
        All MRZ lines start and end at the same x, so each line is cropped to the widest
        extent seen; a name line is read from its start over a growing span until its
        trailing fillers appear, a data line in two overlapping halves.
        """
        def looks_mrz(b: TextBox) -> bool:
            line = mrz.clean_ocr_line(b.text)
            return len(line) >= 8 and (line.count("<") >= 2 or len(line) >= 28)

        zone = [b for b in boxes if looks_mrz(b)]
        if not zone:
            return boxes
        h, w = image.shape[:2]
        x0 = max(0, int(min(b.left for b in zone)) - 2)
        x1 = min(w, int(max(b.right for b in zone)))
        for b in zone:  # detection sometimes stops short of a line's end: trust the ink
            x1 = max(x1, min(w, _ink_extent(image, b)[1]))
        # Characters are monospaced: the pitch of the longest reading gives the line's length.
        longest = max(zone, key=lambda b: len(mrz.clean_ocr_line(b.text)))
        est = (longest.right - longest.left) / max(1, len(mrz.clean_ocr_line(longest.text)))
        n = mrz.nearest_width(round((x1 - x0) / est))
        pitch = (x1 - x0) / n
        out = [b for b in boxes if not looks_mrz(b)]
        for box in zone:
            line = mrz.clean_ocr_line(box.text)
            pad = max(3, int((box.bottom - box.top) * 0.1))
            top, bottom = max(0, int(box.top) - pad), min(h, int(box.bottom) + pad)

            def crop(a: float, b: float) -> np.ndarray:
                # A margin around the text: the recogniser drops a character touching the edge.
                import cv2

                part = np.ascontiguousarray(image[top:bottom, max(0, int(a)):min(w, int(b))])
                if not part.size:
                    return part
                paper = [int(v) for v in np.median(part.reshape(-1, 3), axis=0)]
                return cv2.copyMakeBorder(part, 4, 4, 12, 12, cv2.BORDER_CONSTANT, value=paper)

            if sum(c.isdigit() for c in line) < 4:
                # A name line: read from its start over a growing span until the trailing fillers show.
                for k in (14, 20, 28, n):
                    reading = mrz.clean_ocr_line(self.ocr.read_lines([crop(x0, x0 + (k + 0.5) * pitch)])[0])
                    reading = reading[:2] + reading[2:].translate(_NAME_LETTERS)
                    if reading.endswith("<") and "<<" in reading[5:]:
                        line = reading
                        break
            elif len(line) != n:
                # A data line read at the wrong length: read it again in two overlapping halves;
                # the first half of the line comes from the left reading, the rest from the right.
                a, b = (mrz.clean_ocr_line(t) for t in self.ocr.read_lines(
                    [crop(x0, x0 + 0.58 * (x1 - x0)), crop(x0 + 0.42 * (x1 - x0), x1 + pitch)]))
                merged = mrz.merge_halves(a, b, n)
                line = merged if len(merged) == n else mrz.splice(line, b, n)
            out.append(TextBox(box.corners, line, box.score))
        return out


_NAME_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B"})  # a name line holds no digits


def _ink_extent(image: np.ndarray, box: TextBox) -> tuple[int, int]:
    """The box's left end, and the right end of the run of dark text it starts (detection often stops short)."""
    import cv2

    h = image.shape[0]
    top, bottom = max(0, int(box.top)), min(h, int(box.bottom) + 1)
    strip = cv2.cvtColor(np.ascontiguousarray(image[top:bottom]), cv2.COLOR_RGB2GRAY)
    if strip.size == 0:
        return int(box.left), int(box.right)
    _, ink = cv2.threshold(strip, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    cols = ink.sum(axis=0) >= 2
    gap = max(8, int((box.bottom - box.top) * 1.5))  # characters are closer than this
    left, right = int(box.left), int(box.right)
    x = right
    while x < len(cols):
        nxt = np.flatnonzero(cols[x:x + gap])
        if len(nxt) == 0:
            break
        x = x + int(nxt[-1]) + 1
        right = x
    return left, right


def read_mrz(boxes: Sequence[TextBox], today: date, name_lines: list[str] | None = None
             ) -> tuple[mrz.Mrz | None, mrz.MrzInvalid | None, bool]:
    """The MRZ among OCR boxes: (parsed, the error of the best failed attempt, whether MRZ-like lines were seen).

    ``name_lines`` collects name-line readings across attempts (a crop, then the whole page),
    so a name read well once can join a lower line read well another time.
    """
    ordered = sorted(boxes, key=lambda b: b.cy)
    name_lines = name_lines if name_lines is not None else []
    for b in ordered:
        t = mrz.clean_ocr_line(b.text)
        if len(t) >= 10 and sum(c.isdigit() for c in t) < 4 and "<<" in t[5:] and t not in name_lines:
            name_lines.append(t)
    lines = mrz.candidate_lines(b.text for b in ordered)
    lines += [t for t in name_lines if t not in lines and len(t) < 24]
    if not lines:
        return None, None, False
    error: mrz.MrzInvalid | None = None
    for group in mrz.fit_lines(lines):
        try:
            return mrz.parse(group, today), None, True
        except mrz.MrzInvalid as exc:
            if error is None or (exc.reason == "mrz_check_digit" and error.reason != "mrz_check_digit"):
                error = exc
    # The lower line carries every check digit; read alone, it still proves the number and dates.
    for i, line in enumerate(lines):
        if len(line) not in (36, 44):
            continue
        try:
            lower = mrz.parse_lower(line, today)
        except mrz.MrzInvalid as exc:
            if error is None or exc.reason == "mrz_check_digit":
                error = exc
            continue
        for top in name_lines:
            top = (top + "<" * len(line))[:len(line)]
            try:
                return mrz.parse([top, line], today), None, True
            except mrz.MrzInvalid:
                continue
        return lower, None, True
    if error is None:
        try:
            mrz.parse(lines, today)
        except mrz.MrzInvalid as exc:
            error = exc
    return None, error, True


# --- cross-checks (pure: tested without OCR) ----------------------------------------

def cross_check_card(fields: idcard.CardFields, declared_name: str, declared_number: str, today: date,
                     back_given: bool = True) -> list[CheckResult]:
    """The card's own consistency and its agreement with what the user declared."""
    public: dict[str, Any] = fields.public()
    raw = {"number_read": idnumber.mask(fields.number) if fields.number else None,
           "labels_seen": fields.labels_seen}
    if fields.number is None:
        if fields.labels_seen == 0:
            return [CheckResult("document_read", FAIL, "document_unreadable", details=raw, hint=HINT_RETAKE)]
        return [CheckResult("document_read", REVIEW, "document_number_unreadable", details=raw,
                            hint=HINT_RETAKE)]
    checks: list[CheckResult] = [CheckResult("document_read", PASS, None, details={**raw, "fields": public})]
    declared = idnumber.normalize(declared_number)
    try:
        idnumber.parse(declared, today=date(2999, 1, 1))
        declared_valid = True
    except idnumber.InvalidResidentId:
        declared_valid = False
    if not declared_valid:
        # The declared number is already rejected on its own (document_number_invalid): no second reason.
        checks.append(CheckResult("document_number_match", SKIPPED, "declared_number_invalid"))
    elif not fields.number_valid:
        checks.append(CheckResult("document_number_match", REVIEW, "document_number_unreadable",
                                  details={"read": idnumber.mask(fields.number)}, hint=HINT_RETAKE))
    elif fields.number != declared:
        checks.append(CheckResult("document_number_match", FAIL, "document_number_mismatch",
                                  details={"read": idnumber.mask(fields.number)}))
    else:
        checks.append(CheckResult("document_number_match", PASS, None))

    if not fields.name:
        checks.append(CheckResult("name_match", REVIEW, "name_unreadable"))
    elif names.same_name(declared_name, fields.name):
        checks.append(CheckResult("name_match", PASS, None))
    else:
        checks.append(CheckResult("name_match", REVIEW, "name_mismatch"))

    if fields.number_valid:
        parsed = idnumber.parse(fields.number, today=date(2999, 1, 1))
        problems = []
        if fields.birth_date is not None and fields.birth_date != parsed.birth_date:
            problems.append("birth_date")
        if fields.sex is not None and ("M" if fields.sex == "男" else "F") != parsed.sex:
            problems.append("sex")
        if problems:
            checks.append(CheckResult("document_consistency", FAIL, "document_inconsistent",
                                      details={"disagree": problems}))
        else:
            checks.append(CheckResult("document_consistency", PASS, None,
                                      details={"compared": [k for k in ("birth_date", "sex")
                                                            if getattr(fields, k) is not None]}))
    checks.append(validity_check(fields.long_term, fields.valid_until, today, back_given))
    return checks


def validity_check(long_term: bool, until: date | None, today: date, back_given: bool = True) -> CheckResult:
    """Expired → reject; 长期 (long term) is valid; no back side → skipped."""
    if long_term:
        return CheckResult("document_validity", PASS, None, details={"until": "long_term"})
    if until is None:
        if back_given:
            return CheckResult("document_validity", REVIEW, "validity_unreadable",
                               hint="photograph the emblem side flat, in good light")
        return CheckResult("document_validity", SKIPPED, "no_document_back")
    if until < today:
        return CheckResult("document_validity", FAIL, "document_expired", score=float((today - until).days),
                           details={"until": until.isoformat()})
    return CheckResult("document_validity", PASS, None, details={"until": until.isoformat()})


def cross_check_mrz(result: mrz.Mrz, declared_name: str, declared_number: str, today: date) -> list[CheckResult]:
    """A valid MRZ against what the user declared: number, name (through pinyin) and expiry."""
    checks: list[CheckResult] = []
    declared = idnumber.normalize(declared_number).replace("<", "")
    if result.document_number.replace(" ", "") != declared:
        checks.append(CheckResult("document_number_match", FAIL, "document_number_mismatch"))
    else:
        checks.append(CheckResult("document_number_match", PASS, None))
    if not result.surname:
        checks.append(CheckResult("name_match", REVIEW, "name_unreadable"))
    elif names.matches_latin(declared_name, result.surname, " ".join(result.given_names)):
        checks.append(CheckResult("name_match", PASS, None))
    else:
        checks.append(CheckResult("name_match", REVIEW, "name_mismatch"))
    checks.append(validity_check(False, result.expiry_date, today))
    return checks


_default: DocumentReader | None = None


def read_document(evidence: Evidence, today: date) -> list[CheckResult]:
    """The verifier's document reader with the process-wide OCR engine (loaded on first use)."""
    global _default
    if _default is None:
        from .adapters.ocr_rapid import shared_engine

        _default = DocumentReader(ocr=shared_engine())
    return _default(evidence, today)
