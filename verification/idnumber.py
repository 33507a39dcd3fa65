"""Chinese resident identity numbers (GB 11643-1999).

Eighteen characters: a six-digit administrative region code, the birth date as
YYYYMMDD, a three-digit sequence (odd for men, even for women) and a check
character computed with ISO 7064 MOD 11-2, where 10 is written ``X``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .age import local_today

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")

# First two digits: provinces, autonomous regions, municipalities (GB/T 2260),
# with 71 Taiwan and 81/82 Hong Kong and Macao as used on residence permits.
PROVINCES: dict[str, str] = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang",
    "31": "Shanghai", "32": "Jiangsu", "33": "Zhejiang", "34": "Anhui", "35": "Fujian",
    "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi", "46": "Hainan",
    "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan", "54": "Tibet",
    "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang",
    "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}


@dataclass(frozen=True)
class ResidentId:
    """A valid resident identity number and what it says."""

    number: str
    region: str
    birth_date: date
    sequence: int

    @property
    def sex(self) -> str:
        """``M`` or ``F`` from the parity of the sequence (odd: male)."""
        return "M" if self.sequence % 2 else "F"


class InvalidResidentId(ValueError):
    """The number fails one of the GB 11643 rules; ``rule`` names which."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def normalize(number: str) -> str:
    """Strip spaces and upper-case the check character (``x`` → ``X``)."""
    return re.sub(r"\s+", "", number or "").upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first seventeen digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse(number: str, today: date | None = None) -> ResidentId:
    """Validate ``number`` and return its parts, or raise InvalidResidentId."""
    value = normalize(number)
    if not _SHAPE.match(value):
        raise InvalidResidentId("format", "a resident ID number has 17 digits and a digit or X")
    region = value[:6]
    if region[:2] not in PROVINCES or region[2:] == "0000":
        raise InvalidResidentId("region", f"unknown region code {region}")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidResidentId("birth_date", "the birth date in the number is not a real date") from None
    today = today or local_today()
    if born > today or born.year < 1890:
        raise InvalidResidentId("birth_date", "the birth date in the number is not plausible")
    if check_character(value[:17]) != value[17]:
        raise InvalidResidentId("check_character", "the check character does not match")
    return ResidentId(number=value, region=region, birth_date=born, sequence=int(value[14:17]))


def make(region: str, born: date, sequence: int) -> str:
    """Build a valid number from its parts (used by the fixture generator and tests)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask(number: str | None) -> str:
    """Show the first four and last four characters only: ``1101**********123X``."""
    if not number:
        return ""
    value = normalize(number)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
