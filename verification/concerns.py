"""The concern list (R11) and key monitoring (R18): rules over tip activity flag anchors, their
agents and rooms; the platform may add its own signals; reviewers clear flags; the open flags
export as a written report.

Rules (thresholds in ``ConcernPolicy``):
- ``large_tips_from_new_accounts`` (R11, concern list): approved tips to one anchor from
  accounts first seen less than 7 days before the tip add up to ¥2,000 or more within 24 hours.
- ``gift_burst_from_fresh_accounts`` (R11, concern list; "water armies"): 10 or more distinct
  new accounts tip one anchor within any 10 minutes.
- ``minors_attempts`` (R11, concern list; luring minors): 3 or more tips to one anchor refused
  because the tipper is a minor, within 7 days.
- ``large_tip_amount`` (R18, key monitoring): a room takes ¥10,000 or more in approved tips
  within 24 hours.
An anchor on the concern list puts their agent (from the anchor profile) on it too.
The platform reports what only it can see — ``high_click_through``, ``suspicious_turnover``,
``risky_category`` — through ``flag`` (key monitoring) or ``manual`` (concern list).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .clock import as_utc
from .context import Services
from .errors import ConflictingState, InvalidInput, RequestNotFound
from .models import AnchorProfile, ConcernFlag, Subject, TipAuthorization

CONCERN, MONITORING = "concern", "monitoring"
TIP_RULES = {"large_tips_from_new_accounts": CONCERN, "gift_burst_from_fresh_accounts": CONCERN,
             "minors_attempts": CONCERN, "large_tip_amount": MONITORING}
PLATFORM_RULES = {"high_click_through": MONITORING, "suspicious_turnover": MONITORING,
                  "risky_category": MONITORING, "manual": CONCERN}
TARGET_TYPES = ("anchor", "agent", "room")


@dataclass(frozen=True)
class ConcernPolicy:
    new_account_days: int = 7
    large_tips_fen: int = 200_000
    large_tips_window_hours: int = 24
    burst_accounts: int = 10
    burst_window_minutes: int = 10
    minors_attempts: int = 3
    minors_window_days: int = 7
    room_tips_fen: int = 1_000_000
    room_tips_window_hours: int = 24


DEFAULT_POLICY = ConcernPolicy()


@dataclass(frozen=True)
class TipEvent:
    """One tip request as the rules see it."""

    at: datetime
    tipper: int
    tipper_since: datetime
    anchor_id: str
    room_id: str
    amount_fen: int
    status: str  # approved | denied | pending
    reason: str | None = None


@dataclass
class Finding:
    target_type: str
    target_id: str
    rule: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def list_name(self) -> str:
        return TIP_RULES.get(self.rule) or PLATFORM_RULES.get(self.rule, CONCERN)


# --- the rules: pure functions over tip events -----------------------------------------------

def evaluate(events: Iterable[TipEvent], now: datetime, policy: ConcernPolicy = DEFAULT_POLICY,
             agents: dict[str, str] | None = None) -> list[Finding]:
    """Every finding the tip rules make at ``now``."""
    events = sorted(events, key=lambda e: e.at)
    found = (_large_tips(events, now, policy) + _bursts(events, now, policy) + _minors(events, now, policy)
             + _room_tips(events, now, policy))
    agents = agents or {}
    by_agent: dict[str, list[Finding]] = defaultdict(list)
    for f in found:
        if f.target_type == "anchor" and f.list_name == CONCERN and agents.get(f.target_id):
            by_agent[agents[f.target_id]].append(f)
    for agent, items in sorted(by_agent.items()):
        for rule in sorted({f.rule for f in items}):
            found.append(Finding("agent", agent, rule, {"anchors": sorted({f.target_id for f in items
                                                                           if f.rule == rule})}))
    return found


def _new(e: TipEvent, policy: ConcernPolicy) -> bool:
    return e.at - e.tipper_since < timedelta(days=policy.new_account_days)


def _large_tips(events: list[TipEvent], now: datetime, policy: ConcernPolicy) -> list[Finding]:
    since = now - timedelta(hours=policy.large_tips_window_hours)
    totals: dict[str, int] = defaultdict(int)
    tippers: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.status == "approved" and since <= e.at <= now and _new(e, policy):
            totals[e.anchor_id] += e.amount_fen
            tippers[e.anchor_id].add(e.tipper)
    return [Finding("anchor", a, "large_tips_from_new_accounts",
                    {"total_fen": t, "new_accounts": len(tippers[a]), "window_hours": policy.large_tips_window_hours})
            for a, t in sorted(totals.items()) if t >= policy.large_tips_fen]


def _bursts(events: list[TipEvent], now: datetime, policy: ConcernPolicy) -> list[Finding]:
    since = now - timedelta(hours=policy.large_tips_window_hours)
    window = timedelta(minutes=policy.burst_window_minutes)
    per_anchor: dict[str, list[TipEvent]] = defaultdict(list)
    for e in events:
        if e.status == "approved" and since <= e.at <= now and _new(e, policy):
            per_anchor[e.anchor_id].append(e)
    out = []
    for anchor, items in sorted(per_anchor.items()):
        best, best_at, lo = 0, None, 0
        for hi in range(len(items)):  # sliding window over time-ordered tips
            while items[hi].at - items[lo].at > window:
                lo += 1
            distinct = len({e.tipper for e in items[lo:hi + 1]})
            if distinct > best:
                best, best_at = distinct, items[lo].at
        if best >= policy.burst_accounts:
            out.append(Finding("anchor", anchor, "gift_burst_from_fresh_accounts",
                               {"accounts": best, "window_minutes": policy.burst_window_minutes,
                                "from": _iso(best_at)}))
    return out


def _minors(events: list[TipEvent], now: datetime, policy: ConcernPolicy) -> list[Finding]:
    since = now - timedelta(days=policy.minors_window_days)
    counts: dict[str, int] = defaultdict(int)
    minors: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.status == "denied" and e.reason == "minor" and since <= e.at <= now:
            counts[e.anchor_id] += 1
            minors[e.anchor_id].add(e.tipper)
    return [Finding("anchor", a, "minors_attempts", {"attempts": n, "minors": len(minors[a]),
                                                     "window_days": policy.minors_window_days})
            for a, n in sorted(counts.items()) if n >= policy.minors_attempts]


def _room_tips(events: list[TipEvent], now: datetime, policy: ConcernPolicy) -> list[Finding]:
    since = now - timedelta(hours=policy.room_tips_window_hours)
    totals: dict[str, int] = defaultdict(int)
    for e in events:
        if e.status == "approved" and since <= e.at <= now:
            totals[e.room_id] += e.amount_fen
    return [Finding("room", r, "large_tip_amount", {"total_fen": t, "window_hours": policy.room_tips_window_hours})
            for r, t in sorted(totals.items()) if t >= policy.room_tips_fen]


# --- stored flags --------------------------------------------------------------------------------

def tip_events(session: Session, since: datetime) -> list[TipEvent]:
    """Tip requests since ``since`` from the tips tables (issue 6), with each tipper's first-seen time."""
    rows = session.execute(
        select(TipAuthorization.created_at, TipAuthorization.subject_id, Subject.created_at,
               TipAuthorization.anchor_id, TipAuthorization.room_id, TipAuthorization.amount_fen,
               TipAuthorization.status, TipAuthorization.reason)
        .join(Subject, Subject.id == TipAuthorization.subject_id)
        .where(TipAuthorization.created_at >= since)
    ).all()
    return [TipEvent(as_utc(r[0]), r[1], as_utc(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows]


def scan(svc: Services, session: Session, now: datetime | None = None,
         policy: ConcernPolicy = DEFAULT_POLICY) -> list[ConcernFlag]:
    """Run the tip rules and record what they find (an open flag is refreshed, not repeated)."""
    now = now or svc.clock.now()
    horizon = max(timedelta(hours=policy.large_tips_window_hours), timedelta(days=policy.minors_window_days),
                  timedelta(hours=policy.room_tips_window_hours))
    agents = {a: g for a, g in session.execute(select(AnchorProfile.anchor_id, AnchorProfile.agent)
                                               .where(AnchorProfile.agent.is_not(None))) if g}
    findings = evaluate(tip_events(session, now - horizon), now, policy, agents)
    return [_record(svc, session, f, now, actor="monitor") for f in findings]


def flag(svc: Services, session: Session, *, target_type: Any, target_id: Any, rule: Any, note: Any = None,
         actor: str = "platform") -> ConcernFlag:
    """Put a target on the concern list or under key monitoring for a signal the platform sees."""
    if target_type not in TARGET_TYPES:
        raise InvalidInput(f"target_type must be one of {', '.join(TARGET_TYPES)}", "target_type")
    if not isinstance(target_id, str) or not 0 < len(target_id.strip()) <= 128:
        raise InvalidInput("target_id: 1 to 128 characters", "target_id")
    if rule not in PLATFORM_RULES:
        raise InvalidInput(f"rule must be one of {', '.join(PLATFORM_RULES)}", "rule")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note: text of at most 2000 characters", "note")
    details = {"note": note} if note else {}
    return _record(svc, session, Finding(target_type, target_id.strip(), rule, details), svc.clock.now(), actor)


def clear(svc: Services, session: Session, flag_id: int, *, reviewer: str, note: str = "") -> ConcernFlag:
    """A reviewer takes a target off the list (the flag stays on record as cleared)."""
    row = session.get(ConcernFlag, flag_id) if isinstance(flag_id, int) else None
    if row is None:
        raise RequestNotFound(f"no concern flag {flag_id}")
    if row.state != "open":
        raise ConflictingState("the flag is cleared already")
    if len(note or "") > 2000:
        raise InvalidInput("note is longer than 2000 characters", "note")
    now = svc.clock.now()
    row.state, row.cleared_by, row.cleared_at = "cleared", reviewer, now
    audit.append(session, at=now, actor=reviewer, action="concern.cleared", object_type=row.target_type,
                 object_id=row.target_id, data={"rule": row.rule, "flag": row.id, "note": note or ""})
    return row


def open_flags(session: Session) -> list[ConcernFlag]:
    return list(session.scalars(select(ConcernFlag).where(ConcernFlag.state == "open")
                                .order_by(ConcernFlag.list_name, ConcernFlag.target_type, ConcernFlag.target_id,
                                          ConcernFlag.rule)))


def flag_view(row: ConcernFlag) -> dict[str, Any]:
    return {"id": row.id, "list": row.list_name, "target_type": row.target_type, "target_id": row.target_id,
            "rule": row.rule, "state": row.state, "details": row.details, "first_seen": _iso(row.first_seen),
            "last_seen": _iso(row.last_seen), "cleared_by": row.cleared_by, "cleared_at": _iso(row.cleared_at)}


def written_report(svc: Services, session: Session, fmt: str = "text") -> str:
    """The open concern list and key-monitoring list as a written report (text or JSON)."""
    rows = open_flags(session)
    now = svc.clock.now()
    if fmt == "json":
        return json.dumps({"generated_at": _iso(now), "flags": [flag_view(r) for r in rows]},
                          ensure_ascii=False, indent=2)
    if fmt != "text":
        raise InvalidInput("format must be text or json", "format")
    lines = [f"LiveGate concern list and key monitoring — report of {_iso(now)}", ""]
    for list_name, title in ((CONCERN, "Concern list (R11): anchors and agents inducing irrational tipping"),
                             (MONITORING, "Key monitoring (R18): rooms watched by people and machines")):
        items = [r for r in rows if r.list_name == list_name]
        lines += [title, "=" * len(title)]
        if not items:
            lines += ["(none)", ""]
            continue
        for r in items:
            facts = ", ".join(f"{k} {v}" for k, v in sorted((r.details or {}).items()))
            lines.append(f"- {r.target_type} {r.target_id}: {r.rule.replace('_', ' ')}"
                         f" (since {_iso(r.first_seen)}, last {_iso(r.last_seen)})" + (f"; {facts}" if facts else ""))
        lines.append("")
    lines.append(f"{len(rows)} open flag(s).")
    return "\n".join(lines) + "\n"


def _record(svc: Services, session: Session, finding: Finding, now: datetime, actor: str) -> ConcernFlag:
    row = session.scalar(select(ConcernFlag).where(
        ConcernFlag.target_type == finding.target_type, ConcernFlag.target_id == finding.target_id,
        ConcernFlag.rule == finding.rule, ConcernFlag.state == "open"))
    if row is not None:
        row.last_seen = now
        row.details = finding.details
        return row
    row = ConcernFlag(target_type=finding.target_type, target_id=finding.target_id, rule=finding.rule,
                      list_name=finding.list_name, state="open", details=finding.details, first_seen=now,
                      last_seen=now)
    session.add(row)
    session.flush()
    audit.append(session, at=now, actor=actor, action=f"concern.{finding.list_name}", object_type=finding.target_type,
                 object_id=finding.target_id, data={"rule": finding.rule, "flag": row.id})
    return row


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z") if value else None
