"""Rating files per room and per anchor: violations and quality scores, and the measures of R14
they call for, for the platform's recommender to read (R13, R14).

Points: each violation scores by severity (minor 1, moderate 3, serious 6, unlawful 12);
only violations inside the rolling window (180 days by default) count. The measures are
cumulative thresholds on those points:

| points | measure                  | what the platform does                          |
|-------:|--------------------------|-------------------------------------------------|
| ≥ 2    | stop_recommending        | leave the room out of recommendations           |
| ≥ 4    | limit_broadcast_length   | cap each broadcast (120 minutes by default)     |
| ≥ 6    | lower_ranking            | rank the room lower                             |
| ≥ 9    | rectify_by_deadline      | rectify within 15 days of the last violation    |
| ≥ 12   | close_and_blacklist      | close the room and blacklist the anchor         |

Any unlawful violation alone reaches 12. A quality average below 60 (of the last three
scores, 0–100) also stops recommendation. The go-live gate refuses a room whose file, or
whose anchor's file, has reached ``close_and_blacklist``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .age import local_today
from .clock import as_utc
from .context import Services
from .errors import InvalidInput
from .models import AnchorViolation, QualityScore, RatingViolation, Room, Subject
from .rooms import get_room

UNLAWFUL_KINDS = ("unlawful_conduct", "fraud", "luring_minors", "illegal_content")
OTHER_KINDS = ("vulgar_content", "induced_tipping", "fake_traffic", "false_advertising",
               "category_mismatch", "other")
VIOLATION_KINDS = UNLAWFUL_KINDS + OTHER_KINDS
SEVERITY_POINTS = {"minor": 1, "moderate": 3, "serious": 6, "unlawful": 12}
MEASURES = ("stop_recommending", "limit_broadcast_length", "lower_ranking", "rectify_by_deadline",
            "close_and_blacklist")


@dataclass(frozen=True)
class RatingPolicy:
    """The thresholds that turn points into measures."""

    window_days: int = 180
    stop_recommending: int = 2
    limit_broadcast_length: int = 4
    lower_ranking: int = 6
    rectify_by_deadline: int = 9
    close_and_blacklist: int = 12
    max_broadcast_minutes: int = 120
    rectify_days: int = 15
    quality_floor: int = 60
    quality_samples: int = 3

    def public(self) -> dict[str, Any]:
        return {**asdict(self), "severity_points": SEVERITY_POINTS}


DEFAULT_POLICY = RatingPolicy()


def record_violation(svc: Services, session: Session, *, anchor_id: str, kind: str, severity: str | None = None,
                     room_id: str | None = None, occurred_on: str | date | None = None, note: str | None = None,
                     actor: str = "platform") -> RatingViolation:
    """Add a violation to the anchor's file (and the room's, when given)."""
    if not isinstance(anchor_id, str) or not anchor_id.strip():
        raise InvalidInput("anchor_id is required", "anchor_id")
    if kind not in VIOLATION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(VIOLATION_KINDS)}", "kind")
    if kind in UNLAWFUL_KINDS:
        severity = "unlawful"
    if severity not in SEVERITY_POINTS:
        raise InvalidInput(f"severity must be one of {', '.join(SEVERITY_POINTS)}", "severity")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note: text of at most 2000 characters", "note")
    today = local_today(svc.clock.now(), svc.settings.timezone)
    day = _date(occurred_on, "occurred_on") if occurred_on is not None else today
    if day > today:
        raise InvalidInput("occurred_on is in the future", "occurred_on")
    room_number = None
    if room_id is not None:
        room = get_room(session, room_id)
        if room.anchor_id != anchor_id:
            raise InvalidInput("the room belongs to another anchor", "room_id")
        room_number = room.room_number
    elif session.scalar(select(Subject.id).where(Subject.external_id == anchor_id)) is None:
        raise InvalidInput("no such anchor", "anchor_id")
    now = svc.clock.now()
    row = RatingViolation(anchor_id=anchor_id, room_number=room_number, kind=kind, severity=severity,
                          points=SEVERITY_POINTS[severity], occurred_on=day, note=note, recorded_by=actor,
                          recorded_at=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, actor=actor, action="rating.violation", object_type="anchor",
                 object_id=anchor_id, data={"kind": kind, "severity": severity, "room": room_number,
                                            "occurred_on": day.isoformat(), "violation": row.id})
    return row


def record_quality(svc: Services, session: Session, *, room_id: str, score: Any, scored_on: str | date | None = None,
                   actor: str = "platform") -> QualityScore:
    """A program-quality score (0–100) for a room; it counts in the room's and its anchor's file."""
    room = get_room(session, room_id)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise InvalidInput("score must be a whole number from 0 to 100", "score")
    today = local_today(svc.clock.now(), svc.settings.timezone)
    day = _date(scored_on, "scored_on") if scored_on is not None else today
    now = svc.clock.now()
    row = QualityScore(room_number=room.room_number, anchor_id=room.anchor_id, score=score, scored_on=day,
                       recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class _Entry:
    """A violation as the file counts it, from either source."""

    id: int
    kind: str
    severity: str
    points: int
    occurred_on: date
    room_number: str | None
    source: str  # rating | tips


# A violation recorded through the tips flow (POST /v1/anchors/{id}/violations, issue 6) carries no
# severity: unlawful kinds count as unlawful, the others as moderate.
TIPS_FLOW_SEVERITY = "moderate"


def _entries(svc: Services, session: Session, anchor_id: str | None, room_number: str | None) -> list[_Entry]:
    q = select(RatingViolation)
    q = q.where(RatingViolation.room_number == room_number) if room_number else \
        q.where(RatingViolation.anchor_id == anchor_id)
    out = [_Entry(v.id, v.kind, v.severity, v.points, v.occurred_on, v.room_number, "rating")
           for v in session.scalars(q)]
    if room_number is None:
        tz = svc.settings.timezone
        for v in session.scalars(select(AnchorViolation).where(AnchorViolation.anchor_id == anchor_id)):
            severity = "unlawful" if v.kind in UNLAWFUL_KINDS else TIPS_FLOW_SEVERITY
            out.append(_Entry(v.id, v.kind, severity, SEVERITY_POINTS[severity], local_today(as_utc(v.created_at), tz),
                              None, "tips"))
    return sorted(out, key=lambda e: (e.occurred_on, e.source, e.id), reverse=True)


def anchor_file(svc: Services, session: Session, anchor_id: str,
                policy: RatingPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """The anchor's rating file: every violation of theirs, in any room (and any recorded through the
    tips flow), and their rooms' quality."""
    violations = _entries(svc, session, anchor_id, None)
    scores = list(session.scalars(select(QualityScore).where(QualityScore.anchor_id == anchor_id)
                                  .order_by(QualityScore.scored_on.desc(), QualityScore.id.desc())))
    return {"anchor_id": anchor_id, **_file(svc, violations, scores, policy)}


def room_file(svc: Services, session: Session, room_id: str,
              policy: RatingPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """The room's rating file: violations recorded against the room, and its quality scores."""
    room = get_room(session, room_id)
    violations = _entries(svc, session, None, room.room_number)
    scores = list(session.scalars(select(QualityScore).where(QualityScore.room_number == room.room_number)
                                  .order_by(QualityScore.scored_on.desc(), QualityScore.id.desc())))
    return {"room_id": room.room_number, "anchor_id": room.anchor_id, "category": room.category,
            "state": room.state, **_file(svc, violations, scores, policy)}


def measures_for(points: int, quality_average: float | None, policy: RatingPolicy = DEFAULT_POLICY) -> list[str]:
    """The measures a file's points and quality call for, mildest first."""
    out = [m for m in MEASURES if points >= getattr(policy, m)]
    if quality_average is not None and quality_average < policy.quality_floor and "stop_recommending" not in out:
        out.insert(0, "stop_recommending")
    return out


def _file(svc: Services, violations: list[_Entry], scores: list[QualityScore],
          policy: RatingPolicy) -> dict[str, Any]:
    today = local_today(svc.clock.now(), svc.settings.timezone)
    since = today - timedelta(days=policy.window_days)
    counted = [v for v in violations if v.occurred_on > since]
    points = sum(v.points for v in counted)
    recent = [s.score for s in scores[:policy.quality_samples]]
    average = round(sum(recent) / len(recent), 1) if recent else None
    measures = measures_for(points, average, policy)
    rectify_by = None
    if "rectify_by_deadline" in measures and counted:
        rectify_by = (max(v.occurred_on for v in counted) + timedelta(days=policy.rectify_days)).isoformat()
    return {
        "points": points,
        "window_days": policy.window_days,
        "measures": measures,
        "recommend": "stop_recommending" not in measures,
        "max_broadcast_minutes": policy.max_broadcast_minutes if "limit_broadcast_length" in measures else None,
        "rectify_by": rectify_by,
        "quality": {"average": average, "latest": scores[0].score if scores else None, "count": len(scores)},
        "violations": [
            {"id": v.id, "kind": v.kind, "severity": v.severity, "points": v.points,
             "occurred_on": v.occurred_on.isoformat(), "room_id": v.room_number,
             "counted": v.occurred_on > since, "source": v.source}
            for v in violations
        ],
    }


def rooms_with_measure(svc: Services, session: Session, measure: str) -> list[str]:
    """Room numbers whose own or anchor's file currently calls for ``measure`` (for the recommender)."""
    if measure not in MEASURES:
        raise InvalidInput(f"measure must be one of {', '.join(MEASURES)}", "measure")
    out = []
    for room in session.scalars(select(Room).where(Room.state == "open").order_by(Room.room_number)):
        if measure in room_file(svc, session, room.room_number)["measures"] or \
                measure in anchor_file(svc, session, room.anchor_id)["measures"]:
            out.append(room.room_number)
    return out


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-06-15", field) from None
