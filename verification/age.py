"""Ages in the platform's time zone: a birthday starts at local midnight."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
ADULT_AGE = 18


def local_today(now: datetime | None = None, tz: str = DEFAULT_TZ) -> date:
    """The calendar date in ``tz`` at ``now`` (default: the wall clock)."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(ZoneInfo(tz)).date()


def age_on(born: date, day: date) -> int:
    """Completed years on ``day``; someone born on 29 February turns a year older on 1 March."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def is_adult(born: date, day: date) -> bool:
    """18 or older on ``day``."""
    return age_on(born, day) >= ADULT_AGE
