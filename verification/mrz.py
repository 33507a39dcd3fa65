"""Machine-readable zones of travel documents (ICAO Doc 9303, parts 3 to 6).

Three formats: TD3 (passports, 2 lines of 44), TD2 (2 lines of 36) and TD1
(ID cards, 3 lines of 30). Every check digit is verified (weights 7, 3, 1;
digits count as themselves, A-Z as 10-35 and the filler ``<`` as 0), and so is
the composite check digit over the upper and lower lines. Two-digit years are
resolved against today: a birth date is never in the future, an expiry date is
the reading closest to today.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

_WEIGHTS = (7, 3, 1)
_LINE = re.compile(r"^[A-Z0-9<]+$")
FORMATS: dict[str, tuple[int, int]] = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}


class MrzInvalid(ValueError):
    """The MRZ breaks a 9303 rule. ``reason`` is a stable code, ``field`` names the part."""

    def __init__(self, reason: str, field: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Mrz:
    """What a valid MRZ says."""

    format: str
    document_code: str
    issuing_state: str
    document_number: str
    nationality: str
    birth_date: date
    sex: str  # M, F or X (unspecified)
    expiry_date: date
    surname: str
    given_names: tuple[str, ...]
    optional_data: str = ""
    optional_data_2: str = ""
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def name(self) -> str:
        """``SURNAME, GIVEN NAMES`` as printed in the visual zone."""
        given = " ".join(self.given_names)
        return f"{self.surname}, {given}" if given else self.surname

    def fields(self) -> dict[str, str]:
        """The document fields in the verifier's vocabulary."""
        return {
            "number": self.document_number,
            "name": self.name,
            "surname": self.surname,
            "given_names": " ".join(self.given_names),
            "nationality": self.nationality,
            "issuing_state": self.issuing_state,
            "birth_date": self.birth_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "sex": {"M": "M", "F": "F"}.get(self.sex, "X"),
            "mrz_format": self.format,
        }


def char_value(ch: str) -> int:
    """The value of one MRZ character in a check-digit sum."""
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    if ch == "<":
        return 0
    raise MrzInvalid("mrz_format", "character", f"{ch!r} is not an MRZ character")


def check_digit(data: str) -> str:
    """The 9303 check digit of ``data``: the weighted sum (7, 3, 1, ...) modulo 10."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


def _verify(data: str, digit: str, field_name: str, *, filler_allowed: bool = False) -> None:
    # An optional field left empty may carry '<' instead of a check digit (9303 part 4, 4.2.2.2).
    if filler_allowed and digit == "<" and set(data) <= {"<"}:
        return
    if digit == "<":
        digit = "0"
    if not digit.isdigit() or check_digit(data) != digit:
        raise MrzInvalid("mrz_check_digit", field_name,
                         f"the check digit of the {field_name.replace('_', ' ')} does not match")


def _text(value: str) -> str:
    return value.replace("<", " ").strip()


def _names(zone: str, required: bool = True) -> tuple[str, tuple[str, ...]]:
    primary, _, secondary = zone.rstrip("<").partition("<<")
    surname = " ".join(p for p in primary.split("<") if p)
    given = tuple(p for p in secondary.split("<") if p)
    if not surname and required:
        raise MrzInvalid("mrz_format", "name", "the MRZ has no primary identifier (surname)")
    return surname, given


def _date(value: str, field_name: str) -> tuple[int, int, int]:
    if not value.isdigit():
        raise MrzInvalid("mrz_format", field_name, f"the {field_name.replace('_', ' ')} is not YYMMDD")
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
    if not (1 <= mm <= 12 and 1 <= dd <= 31):
        raise MrzInvalid("mrz_format", field_name, f"the {field_name.replace('_', ' ')} is not a real date")
    return yy, mm, dd


def _make(y: int, m: int, d: int, field_name: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise MrzInvalid("mrz_format", field_name,
                         f"the {field_name.replace('_', ' ')} is not a real date") from None


def resolve_birth(value: str, today: date) -> date:
    """A YYMMDD birth date in the latest century that does not put it in the future."""
    yy, mm, dd = _date(value, "birth_date")
    century = today.year // 100 * 100
    for year in (century + yy, century - 100 + yy):
        try:
            candidate = date(year, mm, dd)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return _make(century - 100 + yy, mm, dd, "birth_date")


def resolve_expiry(value: str, today: date) -> date:
    """A YYMMDD expiry date in the century that puts it closest to today."""
    yy, mm, dd = _date(value, "expiry_date")
    century = today.year // 100 * 100
    candidates = []
    for year in (century - 100 + yy, century + yy, century + 100 + yy):
        try:
            candidates.append(date(year, mm, dd))
        except ValueError:
            continue
    if not candidates:
        return _make(century + yy, mm, dd, "expiry_date")
    return min(candidates, key=lambda d: abs((d - today).days))


def _sex(ch: str) -> str:
    if ch not in "MFX<":
        raise MrzInvalid("mrz_format", "sex", f"the sex field holds {ch!r}, not M, F or <")
    return "X" if ch == "<" else ch


def _shape(lines: Sequence[str]) -> str:
    lines = [ln for ln in lines if ln]
    for name, (count, width) in FORMATS.items():
        if len(lines) == count and all(len(ln) == width for ln in lines):
            bad = [ln for ln in lines if not _LINE.match(ln)]
            if bad:
                raise MrzInvalid("mrz_format", "character", "the MRZ holds characters other than A-Z, 0-9 and <")
            return name
    shape = " + ".join(str(len(ln)) for ln in lines) or "nothing"
    raise MrzInvalid("mrz_format", "layout",
                     f"an MRZ is 3 lines of 30, 2 of 36 or 2 of 44 characters; got {shape}")


def parse(lines: Sequence[str] | str, today: date) -> Mrz:
    """Parse and fully verify an MRZ; raises MrzInvalid naming the first field that fails."""
    if isinstance(lines, str):
        lines = lines.split()
    lines = [ln.strip().upper() for ln in lines if ln.strip()]
    kind = _shape(lines)
    if kind == "TD1":
        return _parse_td1(lines, today)
    return _parse_td23(lines, today, kind)


def parse_lower(line: str, today: date) -> Mrz:
    """A TD3 or TD2 lower line alone, every check digit verified; the name is left empty.

    Used when the name line could not be read: everything the check digits protect is
    still known, and the name goes to a person.
    """
    line = line.strip().upper()
    kind = {44: "TD3", 36: "TD2"}.get(len(line))
    if kind is None or not _LINE.match(line):
        raise MrzInvalid("mrz_format", "layout", "not a TD3 or TD2 lower line")
    top = "P<" + line[10:13] + "<" * (len(line) - 5)
    return _parse_td23([top, line], today, kind, names_required=False)


def _parse_td23(lines: list[str], today: date, kind: str, names_required: bool = True) -> Mrz:
    top, bottom = lines
    number_field, number_cd = bottom[0:9], bottom[9]
    optional, optional_cd = (bottom[28:42], bottom[42]) if kind == "TD3" else (bottom[28:35], None)
    number = number_field
    if kind == "TD2" and number_cd == "<" and optional.rstrip("<"):
        # A number longer than nine characters: the rest and its check digit continue in the optional data.
        rest = optional.rstrip("<")
        number, number_cd, optional = number_field + rest[:-1], rest[-1], ""
    _verify(number, number_cd, "document_number")
    _verify(bottom[13:19], bottom[19], "birth_date")
    _verify(bottom[21:27], bottom[27], "expiry_date")
    if kind == "TD3":
        _verify(optional, optional_cd or "<", "personal_number", filler_allowed=True)
        composite = bottom[0:10] + bottom[13:20] + bottom[21:43]
        composite_cd = bottom[43]
    else:
        composite = bottom[0:10] + bottom[13:20] + bottom[21:35]
        composite_cd = bottom[35]
    _verify(composite, composite_cd, "composite")
    surname, given = _names(top[5:], names_required)
    return Mrz(
        format=kind, document_code=_text(top[0:2]), issuing_state=_text(top[2:5]),
        document_number=_text(number), nationality=_text(bottom[10:13]),
        birth_date=resolve_birth(bottom[13:19], today), sex=_sex(bottom[20]),
        expiry_date=resolve_expiry(bottom[21:27], today), surname=surname, given_names=given,
        optional_data=_text(optional), lines=tuple(lines),
    )


def _parse_td1(lines: list[str], today: date) -> Mrz:
    top, middle, bottom = lines
    number, number_cd, optional = top[5:14], top[14], top[15:30]
    if number_cd == "<" and optional.rstrip("<"):
        # Long document number (9303 part 5, note j): it continues in the optional data, check digit last.
        rest = optional.rstrip("<")
        end = rest.find("<")
        tail = rest if end < 0 else rest[:end]
        number, number_cd, optional = number + tail[:-1], tail[-1], optional[len(tail):]
    _verify(number, number_cd, "document_number")
    _verify(middle[0:6], middle[6], "birth_date")
    _verify(middle[8:14], middle[14], "expiry_date")
    _verify(top[5:30] + middle[0:7] + middle[8:15] + middle[18:29], middle[29], "composite")
    surname, given = _names(bottom)
    return Mrz(
        format="TD1", document_code=_text(top[0:2]), issuing_state=_text(top[2:5]),
        document_number=_text(number), nationality=_text(middle[15:18]),
        birth_date=resolve_birth(middle[0:6], today), sex=_sex(middle[7]),
        expiry_date=resolve_expiry(middle[8:14], today), surname=surname, given_names=given,
        optional_data=_text(optional), optional_data_2=_text(middle[18:29]), lines=tuple(lines),
    )


# --- building (fixtures and tests) ---------------------------------------------

def _pad(value: str, width: int) -> str:
    value = re.sub(r"[^A-Z0-9<]", "<", value.upper().replace(" ", "<"))
    return (value + "<" * width)[:width]


def name_field(surname: str, given_names: Iterable[str], width: int) -> str:
    """``SURNAME<<GIVEN<NAMES`` padded (or truncated) to ``width``."""
    given = "<".join(g.replace(" ", "<") for g in given_names)
    return _pad(surname.replace(" ", "<") + ("<<" + given if given else ""), width)


def build_td3(*, number: str, surname: str, given_names: Sequence[str], nationality: str, birth: date,
              sex: str, expiry: date, issuing_state: str | None = None, personal_number: str = "",
              document_code: str = "P") -> tuple[str, str]:
    """Two valid TD3 lines (a passport's MRZ)."""
    top = _pad(document_code, 2) + _pad(issuing_state or nationality, 3) + name_field(surname, given_names, 39)
    num = _pad(number, 9)
    opt = _pad(personal_number, 14)
    opt_cd = check_digit(opt) if personal_number else "<"
    body = (num + check_digit(num) + _pad(nationality, 3) + f"{birth:%y%m%d}" + check_digit(f"{birth:%y%m%d}")
            + _pad(sex, 1) + f"{expiry:%y%m%d}" + check_digit(f"{expiry:%y%m%d}") + opt + opt_cd)
    composite = body[0:10] + body[13:20] + body[21:43]
    return top, body + check_digit(composite)


def build_td2(*, number: str, surname: str, given_names: Sequence[str], nationality: str, birth: date,
              sex: str, expiry: date, issuing_state: str | None = None, optional: str = "",
              document_code: str = "I") -> tuple[str, str]:
    """Two valid TD2 lines."""
    top = _pad(document_code, 2) + _pad(issuing_state or nationality, 3) + name_field(surname, given_names, 31)
    num = _pad(number, 9)
    body = (num + check_digit(num) + _pad(nationality, 3) + f"{birth:%y%m%d}" + check_digit(f"{birth:%y%m%d}")
            + _pad(sex, 1) + f"{expiry:%y%m%d}" + check_digit(f"{expiry:%y%m%d}") + _pad(optional, 7))
    composite = body[0:10] + body[13:20] + body[21:35]
    return top, body + check_digit(composite)


def build_td1(*, number: str, surname: str, given_names: Sequence[str], nationality: str, birth: date,
              sex: str, expiry: date, issuing_state: str | None = None, optional: str = "",
              optional_2: str = "", document_code: str = "I") -> tuple[str, str, str]:
    """Three valid TD1 lines (an ID card's MRZ)."""
    if len(number) > 9:
        head, tail = number[:9], number[9:]
        number_part = head + "<" + _pad(tail + check_digit(number) + optional, 15)
    else:
        num = _pad(number, 9)
        number_part = num + check_digit(num) + _pad(optional, 15)
    top = _pad(document_code, 2) + _pad(issuing_state or nationality, 3) + number_part
    middle = (f"{birth:%y%m%d}" + check_digit(f"{birth:%y%m%d}") + _pad(sex, 1) + f"{expiry:%y%m%d}"
              + check_digit(f"{expiry:%y%m%d}") + _pad(nationality, 3) + _pad(optional_2, 11))
    middle += check_digit(top[5:30] + middle[0:7] + middle[8:15] + middle[18:29])
    return top, middle, name_field(surname, given_names, 30)


# --- reading from OCR text -----------------------------------------------------

_CONFUSABLE = str.maketrans({"«": "<<", "‹": "<", "く": "<", "〈": "<", "＜": "<", "(": "<", "{": "<",
                             "[": "<", " ": ""})


def clean_ocr_line(text: str) -> str:
    """An OCR'd line in the MRZ alphabet: confusables mapped to ``<``, spaces dropped, upper case."""
    return re.sub(r"[^A-Z0-9<]", "", text.upper().translate(_CONFUSABLE))


def merge_halves(left: str, right: str, width: int) -> str:
    """One line of ``width`` characters from two overlapping halves read separately.

    The left half is read from the line's start and the right half up to its end, so
    the first half of the line is taken from the left reading and the second half from
    the end of the right reading. A left half ending in fillers already holds everything
    that matters (a name line): the rest is fillers.
    """
    if left.endswith("<<<"):
        return left
    half = width // 2
    if len(left) >= half and len(right) >= width - half:
        return left[:half] + right[len(right) - (width - half):]
    return left + right


def splice(head: str, tail: str, width: int) -> str:
    """A line of ``width`` from a reading of its start and one of its end, joined at the fillers.

    OCR miscounts a long run of ``<``: the text before the run comes from ``head``, the text
    after it from ``tail``, and the run is as long as the line needs.
    """
    runs = [(m.start(), m.end()) for m in re.finditer(r"<{3,}", head)]
    prefix = head[:runs[0][0]] if runs else head
    tail_runs = [(m.start(), m.end()) for m in re.finditer(r"<{2,}", tail)]
    suffix = tail[tail_runs[-1][1]:] if tail_runs else ""
    fill = width - len(prefix) - len(suffix)
    if fill < 0:
        return head
    return prefix + "<" * fill + suffix


def nearest_width(length: int) -> int:
    """The MRZ line width (30, 36 or 44) closest to ``length``."""
    return min((w for _, w in FORMATS.values()), key=lambda w: abs(w - length))


def candidate_lines(texts: Iterable[str]) -> list[str]:
    """The OCR lines that look like MRZ lines (long, mostly of the MRZ alphabet, with fillers)."""
    out = []
    for text in texts:
        line = clean_ocr_line(text)
        if len(line) >= 24 and ("<" in line or len(line) >= 30):
            out.append(line)
    return out


def fit_lines(lines: Sequence[str]) -> list[list[str]]:
    """Ways to read ``lines`` as one of the three formats, fixing lengths that OCR got slightly wrong.

    Fillers at the end of a line are the usual casualty: a line a few ``<`` short is padded,
    one too long is cut back if the surplus is fillers.
    """
    out: list[list[str]] = []
    for name, (count, width) in FORMATS.items():
        if len(lines) < count:
            continue
        for start in range(len(lines) - count + 1):
            group = list(lines[start:start + count])
            name_row = count - 1 if name == "TD1" else 0
            # The name line ends in fillers, which OCR often drops: any shortfall there is padded.
            if all(abs(len(ln) - width) <= 4 or (i == name_row and 10 <= len(ln) < width)
                   for i, ln in enumerate(group)):
                fixed = []
                for ln in group:
                    if len(ln) < width:
                        ln = ln + "<" * (width - len(ln))
                    elif len(ln) > width and set(ln[width:]) <= {"<"}:
                        ln = ln[:width]
                    fixed.append(ln)
                if all(len(ln) == width for ln in fixed):
                    out.append(fixed)
    return out
