"""The tamper-evident audit trail: each entry carries the hash of the one before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import as_utc
from .models import AuditEntry, Counter

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, object_type: str,
               object_id: str, data: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON form of the entry and its predecessor's hash."""
    body = json.dumps(
        [prev_hash, as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), actor, action, object_type,
         object_id, data],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def lock_chain(session: Session) -> None:
    """Serialise appenders: the chain has one head, so writers take turns."""
    row = session.execute(
        select(Counter).where(Counter.name == "audit").with_for_update()
    ).scalar_one_or_none()
    if row is None:
        session.add(Counter(name="audit", value=0))
        session.flush()


def append(session: Session, *, at: datetime, actor: str, action: str, object_type: str,
           object_id: str, data: dict[str, Any] | None = None) -> AuditEntry:
    """Add one entry in the caller's transaction; it commits (or not) with the change it records."""
    lock_chain(session)
    data = data or {}
    last = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
    prev = last.hash if last else GENESIS
    at = as_utc(at)
    entry = AuditEntry(
        at=at, actor=actor, action=action, object_type=object_type, object_id=str(object_id),
        data=data, prev_hash=prev,
        hash=entry_hash(prev, at, actor, action, object_type, str(object_id), data),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    """Result of walking the chain: ``broken_at`` is the first bad entry's id, or None."""

    entries: int
    broken_at: int | None
    problem: str | None


def verify_chain(entries: Iterable[AuditEntry]) -> ChainReport:
    """Recompute every hash in id order and check each link."""
    prev = GENESIS
    count = 0
    for entry in entries:
        count += 1
        if entry.prev_hash != prev:
            return ChainReport(count, entry.id, "its prev_hash does not match the entry before it")
        expected = entry_hash(entry.prev_hash, entry.at, entry.actor, entry.action,
                              entry.object_type, entry.object_id, entry.data)
        if expected != entry.hash:
            return ChainReport(count, entry.id, "its content does not match its hash")
        prev = entry.hash
    return ChainReport(count, None, None)
