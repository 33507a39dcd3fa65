"""Reading the fields of a Chinese resident identity card from OCR text lines.

The card is flattened before OCR, so its rows come out level: boxes are grouped
into rows by their vertical centre, each row's text is joined left to right, and
the printed labels (姓名, 性别, 民族, 出生, 住址, 公民身份号码; on the back 签发机关 and
有效期限) say which row holds which field. OCR often glues a label to its value
("姓名张三") or splits a spaced label ("姓", "名"); both read the same here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from . import idnumber
from .ocr import TextBox

LONG_TERM = "长期"

_NUMBER = re.compile(r"\d{17}[\dX]")
_BIRTH = re.compile(r"(\d{4})年?(\d{1,2})月?(\d{1,2})日?")
_PERIOD = re.compile(r"(\d{4})[.\-/]?(\d{1,2})[.\-/]?(\d{1,2})[-—–~至一_]+(长期|\d{4}[.\-/]?\d{1,2}[.\-/]?\d{1,2})")
_DATE = re.compile(r"(\d{4})[.\-/]?(\d{1,2})[.\-/]?(\d{1,2})")
_DIGIT_LIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5",
                             "B": "8", "x": "X", "×": "X", "ⅹ": "X"})
_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码", "签发机关", "有效期限")


@dataclass
class CardFields:
    """What was read from a card; None where a field could not be read."""

    number: str | None = None
    number_valid: bool = False
    number_candidates: list[str] = field(default_factory=list)
    name: str | None = None
    sex: str | None = None  # 男 / 女
    ethnicity: str | None = None
    birth_date: date | None = None
    address: str | None = None
    authority: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    long_term: bool = False
    labels_seen: int = 0

    def public(self) -> dict[str, str]:
        """The fields in the verifier's vocabulary (sex as M/F like the number's)."""
        out: dict[str, str] = {}
        if self.number and self.number_valid:
            out["number"] = self.number
        if self.name:
            out["name"] = self.name
        if self.sex:
            out["sex"] = "M" if self.sex == "男" else "F"
        if self.ethnicity:
            out["ethnicity"] = self.ethnicity
        if self.birth_date:
            out["birth_date"] = self.birth_date.isoformat()
        if self.address:
            out["address"] = self.address
        if self.authority:
            out["authority"] = self.authority
        if self.valid_from:
            out["valid_from"] = self.valid_from.isoformat()
        if self.long_term:
            out["expiry_date"] = "long_term"
        elif self.valid_until:
            out["expiry_date"] = self.valid_until.isoformat()
        return out


def clean(text: str) -> str:
    """Width-folded, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def rows(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """Boxes grouped into rows (top to bottom), each row left to right."""
    if not boxes:
        return []
    heights = sorted(b.bottom - b.top for b in boxes)
    tol = max(4.0, heights[len(heights) // 2] * 0.5)
    out: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if out and abs(box.cy - sum(b.cy for b in out[-1]) / len(out[-1])) <= tol:
            out[-1].append(box)
        else:
            out.append([box])
    return [sorted(r, key=lambda b: b.left) for r in out]


def _row_text(row: Sequence[TextBox]) -> str:
    return "".join(clean(b.text) for b in row)


def _after(text: str, label: str) -> str | None:
    """The text after ``label`` when the row starts with it (or with most of it)."""
    i = text.find(label)
    if i >= 0:
        return text[i + len(label):]
    if len(label) == 2 and text[:1] == label[0]:
        return text[2:] if text[1:2] and not _is_value_start(text[1:2]) else text[1:]
    return None


def _is_value_start(ch: str) -> bool:
    return bool(re.match(r"[\u4e00-\u9fff]", ch))


def find_number(texts: Sequence[str]) -> tuple[str | None, bool, list[str]]:
    """The 18-character number among the texts: the first valid one, else the first that has the shape."""
    candidates: list[str] = []
    for text in texts:
        value = clean(text).translate(_DIGIT_LIKE).upper()
        candidates.extend(_NUMBER.findall(value))
    for c in candidates:
        try:
            idnumber.parse(c, today=date(2999, 1, 1))
            return c, True, candidates
        except idnumber.InvalidResidentId:
            continue
    return (candidates[0] if candidates else None), False, candidates


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def read_front(boxes: Sequence[TextBox], width: float) -> CardFields:
    """The portrait side's fields from OCR boxes of the flattened card (``width`` pixels wide)."""
    f = CardFields()
    f.number, f.number_valid, f.number_candidates = find_number([b.text for b in boxes])
    # The portrait sits on the right third; text there is not a field value.
    left = [b for b in boxes if b.left < width * 0.66]
    grouped = rows(left)
    texts = [_row_text(r) for r in grouped]
    f.labels_seen = sum(1 for label in _LABELS[:6] if any(label in t for t in texts))
    address_rows: list[str] = []
    in_address = False
    for text in texts:
        if "公民身份号码" in text or _NUMBER.search(text.translate(_DIGIT_LIKE)):
            in_address = False
            continue
        if "姓名" in text or (f.name is None and text.startswith("姓")):
            value = _after(text, "姓名")
            f.name = value or f.name
            in_address = False
            continue
        if "性别" in text or "民族" in text:
            sex = re.search(r"性别?([男女])", text) or re.search(r"([男女])", text)
            if sex:
                f.sex = sex.group(1)
            eth = re.search(r"民族?(.+)$", text)
            if eth:
                f.ethnicity = eth.group(1)
            in_address = False
            continue
        if "出生" in text or (f.birth_date is None and _BIRTH.search(text) and "年" in text):
            m = _BIRTH.search(text)
            if m:
                f.birth_date = _date(*m.groups())
            in_address = False
            continue
        if "住址" in text or text.startswith("住"):
            in_address = True
            rest = _after(text, "住址")
            if rest:
                address_rows.append(rest)
            continue
        if in_address:
            address_rows.append(text)
    if address_rows:
        f.address = "".join(address_rows)
    return f


def read_back(boxes: Sequence[TextBox], into: CardFields | None = None) -> CardFields:
    """The emblem side's fields: issuing authority and validity period."""
    f = into or CardFields()
    texts = [_row_text(r) for r in rows(boxes)]
    for text in texts:
        if "签发机关" in text or "机关" in text[:4]:
            f.authority = _after(text, "签发机关") or text.split("机关", 1)[-1] or None
        m = _PERIOD.search(text.translate(str.maketrans({"O": "0", "o": "0"})))
        if m:
            f.valid_from = _date(*m.groups()[:3])
            if m.group(4) == LONG_TERM:
                f.long_term = True
            else:
                d = _DATE.match(m.group(4))
                f.valid_until = _date(*d.groups()) if d else None
    return f
