"""Live rooms and their program categories; category changes wait for a reviewer (R12)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .clock import as_utc
from .context import Services
from .errors import ConflictingState, Forbidden, InvalidInput, RequestNotFound, RoomNotFound
from .models import CategoryChange, Room, Subject

# The eight program categories of the notice, as stable codes, with their labels.
CATEGORIES: dict[str, str] = {
    "music": "Music", "dance": "Dance", "singing": "Singing", "fitness": "Fitness", "game": "Game",
    "tourism": "Tourism", "food": "Food", "life_service": "Life service",
}
REVIEWER_ROLES = ("reviewer", "supervisor", "admin")
_ROOM_NUMBER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def normalize_category(value: Any) -> str | None:
    """The category code for ``value`` (``"Life service"`` → ``life_service``), or None if unknown."""
    if not isinstance(value, str):
        return None
    code = "_".join(value.strip().lower().replace("-", " ").split())
    return code if code in CATEGORIES else None


def require_category(value: Any, field: str = "category") -> str:
    code = normalize_category(value)
    if code is None:
        raise InvalidInput(f"{field} must be one of {', '.join(CATEGORIES)}", field)
    return code


def require_room_number(value: Any) -> str:
    if not isinstance(value, str) or not _ROOM_NUMBER.match(value.strip()):
        raise InvalidInput("room_id: 1 to 64 letters, digits or _.:-", "room_id")
    return value.strip()


def register_room(svc: Services, session: Session, *, room_id: str, anchor_id: str, category: str,
                  title: str | None = None, actor: str = "platform") -> Room:
    """A new room for a verified anchor, with its category label."""
    number = require_room_number(room_id)
    code = require_category(category)
    if not isinstance(anchor_id, str) or not anchor_id.strip():
        raise InvalidInput("anchor_id is required", "anchor_id")
    if title is not None and (not isinstance(title, str) or len(title) > 200):
        raise InvalidInput("title: text of at most 200 characters", "title")
    if session.scalar(select(Subject.id).where(Subject.external_id == anchor_id)) is None:
        raise InvalidInput("the anchor has never been verified here", "anchor_id")
    if session.scalar(select(Room.id).where(Room.room_number == number)) is not None:
        raise ConflictingState(f"room {number} exists already")
    now = svc.clock.now()
    room = Room(room_number=number, anchor_id=anchor_id, title=title, category=code, state="open",
                created_at=now)
    session.add(room)
    session.flush()
    audit.append(session, at=now, actor=actor, action="room.registered", object_type="room", object_id=number,
                 data={"anchor": anchor_id, "category": code})
    return room


def get_room(session: Session, room_id: str) -> Room:
    room = session.scalar(select(Room).where(Room.room_number == str(room_id)))
    if room is None:
        raise RoomNotFound(f"no room {room_id}")
    return room


def pending_change(session: Session, room: Room) -> CategoryChange | None:
    return session.scalar(select(CategoryChange).where(CategoryChange.room_id == room.id,
                                                       CategoryChange.state == "pending"))


def room_view(session: Session, room: Room) -> dict[str, Any]:
    """The room as the platform shows it: number, category label, state, any pending change."""
    pending = pending_change(session, room)
    return {
        "room_id": room.room_number, "anchor_id": room.anchor_id, "title": room.title,
        "category": room.category, "category_label": CATEGORIES[room.category], "state": room.state,
        "pending_category_change": change_view(pending) if pending else None,
    }


def change_view(change: CategoryChange) -> dict[str, Any]:
    return {
        "id": change.id, "room_id": change.room.room_number, "from_category": change.from_category,
        "to_category": change.to_category, "reason": change.reason, "state": change.state,
        "requested_at": _iso(change.requested_at), "decided_by": change.decided_by,
        "decided_at": _iso(change.decided_at),
    }


def request_category_change(svc: Services, session: Session, room_id: str, category: str,
                            reason: str | None = None, actor: str = "platform") -> CategoryChange:
    """Ask to change a room's category; the current category stands until a reviewer approves."""
    room = get_room(session, room_id)
    code = require_category(category)
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise InvalidInput("reason: text of at most 2000 characters", "reason")
    if room.state != "open":
        raise ConflictingState("the room is closed")
    if code == room.category:
        raise InvalidInput(f"the room's category is {code} already", "category")
    if pending_change(session, room) is not None:
        raise ConflictingState("a category change for this room is waiting for review already")
    now = svc.clock.now()
    change = CategoryChange(room=room, from_category=room.category, to_category=code, reason=reason or None,
                            state="pending", requested_by=actor, requested_at=now)
    session.add(change)
    session.flush()
    audit.append(session, at=now, actor=actor, action="room.category_change_requested", object_type="room",
                 object_id=room.room_number, data={"from": room.category, "to": code, "request": change.id})
    return change


def pending_changes(session: Session, limit: int = 100) -> list[CategoryChange]:
    """Category changes waiting for a reviewer, oldest first."""
    return list(session.scalars(select(CategoryChange).where(CategoryChange.state == "pending")
                                .order_by(CategoryChange.requested_at, CategoryChange.id).limit(limit)))


def count_pending_changes(session: Session) -> int:
    return int(session.scalar(select(func.count(CategoryChange.id))
                              .where(CategoryChange.state == "pending")) or 0)


def decide_category_change(svc: Services, session: Session, change_id: int, *, reviewer: str, role: str,
                           approve: bool, note: str = "") -> CategoryChange:
    """A reviewer approves (the room takes the new category) or rejects (the old one stays)."""
    if role not in REVIEWER_ROLES:
        raise Forbidden("deciding category changes needs a reviewer")
    if len(note or "") > 2000:
        raise InvalidInput("note is longer than 2000 characters", "note")
    change = session.get(CategoryChange, change_id) if isinstance(change_id, int) else None
    if change is None:
        raise RequestNotFound(f"no category change {change_id}")
    if change.state != "pending":
        raise ConflictingState(f"the request is {change.state} already")
    now = svc.clock.now()
    change.state = "approved" if approve else "rejected"
    change.decided_by, change.decided_at, change.decision_note = reviewer, now, note or None
    if approve:
        change.room.category = change.to_category
    audit.append(session, at=now, actor=reviewer, action=f"room.category_change_{change.state}",
                 object_type="room", object_id=change.room.room_number,
                 data={"request": change.id, "from": change.from_category, "to": change.to_category})
    return change


def close_room(svc: Services, session: Session, room: Room, reason: str, actor: str) -> None:
    if room.state == "closed":
        return
    now = svc.clock.now()
    room.state, room.closed_reason, room.closed_at = "closed", reason, now
    audit.append(session, at=now, actor=actor, action="room.closed", object_type="room",
                 object_id=room.room_number, data={"reason": reason})


def _iso(value) -> str | None:
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None
