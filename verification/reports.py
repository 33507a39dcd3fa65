"""The quarterly report to the regulator (R16, R17): live rooms, anchors, active auditors and the
auditor-to-room ratio, with a warning when one auditor has more than 50 rooms (1:51 and worse).

Counting rules (documented in docs/anchors.md):
- a *live room* broadcast at least once in the quarter (an allowed go-live decision);
- an *anchor* went live at least once in the quarter;
- an *active auditor* is a reviewer or supervisor account that worked on at least one day of
  the quarter (logged in, claimed or decided: the reviewer-activity table ``reviewer_days``),
  counted once however many days; admins (account managers) are not counted;
- *registered rooms* were open at some moment of the quarter, live or not.
Quarters are calendar quarters in the platform's time zone.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from .context import Services
from .errors import InvalidInput
from .models import GoLiveDecision, Reviewer, ReviewerDay, Room

MAX_ROOMS_PER_AUDITOR = 50
_QUARTER = re.compile(r"^(\d{4})[-_ ]?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Quarter:
    label: str
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    timezone: str
    first_day: date  # local
    last_day: date  # local, inclusive


def parse_quarter(value: str, tz: str) -> Quarter:
    """``2026Q4`` → the quarter's bounds, from local midnight on its first day to the next quarter's."""
    m = _QUARTER.match((value or "").strip())
    if not m:
        raise InvalidInput("the quarter is written like 2026Q4", "quarter")
    year, q = int(m.group(1)), int(m.group(2))
    zone = ZoneInfo(tz)
    first = date(year, 3 * q - 2, 1)
    nxt = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(timezone.utc)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=zone).astimezone(timezone.utc)
    return Quarter(f"{year}Q{q}", start, end, tz, first, nxt - timedelta(days=1))


@dataclass(frozen=True)
class QuarterlyReport:
    quarter: str
    period_start: str
    period_end: str
    timezone: str
    live_rooms: int
    registered_rooms: int
    anchors: int
    active_auditors: int
    ratio: str
    rooms_per_auditor: float | None
    required_auditors: int
    warning: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        buf = io.StringIO()
        data = self.as_dict()
        writer = csv.DictWriter(buf, fieldnames=list(data), lineterminator="\n")
        writer.writeheader()
        writer.writerow({k: ("" if v is None else v) for k, v in data.items()})
        return buf.getvalue()


AUDITOR_ROLES = ("reviewer", "supervisor")


def active_auditors(session: Session, first_day: date, last_day: date) -> int:
    """Reviewer and supervisor accounts with at least one day of activity in [first_day, last_day]."""
    return int(session.scalar(
        select(func.count(distinct(ReviewerDay.reviewer_id)))
        .join(Reviewer, Reviewer.id == ReviewerDay.reviewer_id)
        .where(ReviewerDay.day >= first_day, ReviewerDay.day <= last_day, Reviewer.role.in_(AUDITOR_ROLES))
    ) or 0)


def ratio_of(auditors: int, rooms: int) -> tuple[str, float | None, str | None]:
    """The ratio as ``1:N``, rooms per auditor, and a warning when worse than 1:50."""
    if auditors == 0:
        warning = f"no active auditor for {rooms} live rooms (at least 1:{MAX_ROOMS_PER_AUDITOR} required)" \
            if rooms else None
        return f"0:{rooms}", None, warning
    per = rooms / auditors
    shown = f"{per:.2f}".rstrip("0").rstrip(".")
    warning = None
    if rooms > MAX_ROOMS_PER_AUDITOR * auditors:
        warning = (f"auditor-to-room ratio 1:{shown} is worse than 1:{MAX_ROOMS_PER_AUDITOR}; "
                   f"{math.ceil(rooms / MAX_ROOMS_PER_AUDITOR)} auditors are needed")
    return f"1:{shown}", round(per, 2), warning


def quarterly_report(svc: Services, session: Session, quarter: str) -> QuarterlyReport:
    """The quarter's counts as defined above."""
    q = parse_quarter(quarter, svc.settings.timezone)
    allowed = (GoLiveDecision.decision == "allowed", GoLiveDecision.at >= q.start, GoLiveDecision.at < q.end)
    live_rooms = int(session.scalar(select(func.count(distinct(GoLiveDecision.room_number))).where(*allowed)) or 0)
    anchors = int(session.scalar(select(func.count(distinct(GoLiveDecision.anchor_id))).where(*allowed)) or 0)
    registered = int(session.scalar(select(func.count(Room.id)).where(
        Room.created_at < q.end, or_(Room.closed_at.is_(None), Room.closed_at >= q.start))) or 0)
    auditors = active_auditors(session, q.first_day, q.last_day)
    ratio, per, warning = ratio_of(auditors, live_rooms)
    return QuarterlyReport(
        quarter=q.label, period_start=_iso(q.start), period_end=_iso(q.end), timezone=q.timezone,
        live_rooms=live_rooms, registered_rooms=registered, anchors=anchors, active_auditors=auditors,
        ratio=ratio, rooms_per_auditor=per, required_auditors=math.ceil(live_rooms / MAX_ROOMS_PER_AUDITOR),
        warning=warning,
    )


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
