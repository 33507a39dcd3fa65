"""A double-entry ledger in integer fen: tips go from the tipper to a hold, then to the anchor's
payable at settlement, or back to the tipper when the anchor broke the law.

Accounts are named strings: ``tipper:<subject row id>``, ``held:<anchor id>``,
``payable:<anchor id>``. Every transaction's postings sum to zero, so the books balance by
construction; ``check`` proves it from the stored rows and cross-checks the holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import audit
from .context import Services
from .errors import InvalidInput
from .models import AnchorViolation, LedgerPosting, LedgerTransaction, TipAuthorization, TipHold

# Violation kinds: the first set is unlawful conduct and refunds the anchor's unsettled holds.
UNLAWFUL_KINDS = ("unlawful_conduct", "fraud", "luring_minors", "illegal_content")
OTHER_KINDS = ("vulgar_content", "induced_tipping", "fake_traffic", "other")
VIOLATION_KINDS = UNLAWFUL_KINDS + OTHER_KINDS


def tipper_account(subject_row_id: int) -> str:
    return f"tipper:{subject_row_id}"


def held_account(anchor_id: str) -> str:
    return f"held:{anchor_id}"


def payable_account(anchor_id: str) -> str:
    return f"payable:{anchor_id}"


def post(session: Session, kind: str, hold_id: str, at: datetime, legs: list[tuple[str, int]]) -> None:
    """Record one balanced transaction (its legs must sum to zero)."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError("a ledger transaction must balance")
    txn = LedgerTransaction(kind=kind, hold_id=hold_id, at=at)
    session.add(txn)
    session.flush()
    session.add_all(LedgerPosting(transaction_id=txn.id, account=account, amount_fen=amount)
                    for account, amount in legs)


def open_hold(svc: Services, session: Session, auth: TipAuthorization, now: datetime,
              hold_id: str | None = None) -> TipHold:
    """Move an approved tip's amount from the tipper to a hold for its anchor."""
    hold = TipHold(id=hold_id or str(uuid.uuid4()), authorization_id=auth.id, tipper_subject_id=auth.subject_id,
                   anchor_id=auth.anchor_id, room_id=auth.room_id, amount_fen=auth.amount_fen, state="held",
                   created_at=now, settle_after=now + timedelta(days=svc.settings.settlement_days))
    session.add(hold)
    post(session, "hold", hold.id, now, [(tipper_account(auth.subject_id), -auth.amount_fen),
                                         (held_account(auth.anchor_id), auth.amount_fen)])
    return hold


@dataclass(frozen=True)
class SettleReport:
    holds: int
    fen: int


def settle_due(svc: Services, now: datetime, batch: int = 500) -> SettleReport:
    """Release every hold whose settlement time has come to its anchor's payable account.

    Works in batches, one transaction each; a hold refunded meanwhile is skipped (the state
    change is conditional), so running two settlers at once pays nothing twice. Holds of an
    anchor whose identity is blacklisted are frozen: they stay held, never paid out (issue 7)."""
    from .models import Identity, Subject

    frozen = (select(Subject.external_id).join(Identity, Identity.id == Subject.identity_id)
              .where(Identity.blacklisted.is_(True)))
    count = total = 0
    while True:
        with svc.db.uow() as session:
            due = session.execute(
                select(TipHold.id, TipHold.anchor_id, TipHold.amount_fen)
                .where(TipHold.state == "held", TipHold.settle_after <= now,
                       TipHold.anchor_id.not_in(frozen))
                .order_by(TipHold.settle_after).limit(batch)
            ).all()
            if not due:
                break
            for hold_id, anchor_id, amount in due:
                if not _close(session, hold_id, "settled", now):
                    continue
                post(session, "settle", hold_id, now, [(held_account(anchor_id), -amount),
                                                       (payable_account(anchor_id), amount)])
                count += 1
                total += amount
            session.commit()
        if len(due) < batch:
            break
    return SettleReport(count, total)


def _close(session: Session, hold_id: str, state: str, now: datetime, violation_id: int | None = None) -> bool:
    """held → ``state`` if the hold is still held; False if someone else closed it first."""
    result = session.execute(
        update(TipHold).where(TipHold.id == hold_id, TipHold.state == "held")
        .values(state=state, closed_at=now, violation_id=violation_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass
class ViolationResult:
    violation_id: int
    kind: str
    refund: bool
    refunded_holds: int = 0
    refunded_fen: int = 0
    per_sender: dict[int, int] = field(default_factory=dict)


def record_violation(svc: Services, session: Session, anchor_id: str, kind: str, note: str | None,
                     actor: str) -> ViolationResult:
    """Record an anchor's violation; unlawful conduct refunds each unsettled hold to its sender."""
    if not isinstance(anchor_id, str) or not 0 < len(anchor_id) <= 128:
        raise InvalidInput("anchor_id: 1 to 128 characters", "anchor_id")
    if kind not in VIOLATION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(VIOLATION_KINDS)}", "kind")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidInput("note: text of at most 2000 characters", "note")
    now = svc.clock.now()
    violation = AnchorViolation(anchor_id=anchor_id, kind=kind, note=note, actor=actor, created_at=now,
                                refunded_holds=0, refunded_fen=0)
    session.add(violation)
    session.flush()
    result = ViolationResult(violation.id, kind, kind in UNLAWFUL_KINDS)
    if result.refund:
        holds = session.execute(
            select(TipHold.id, TipHold.tipper_subject_id, TipHold.amount_fen)
            .where(TipHold.anchor_id == anchor_id, TipHold.state == "held").order_by(TipHold.created_at)
        ).all()
        per_sender: dict[int, int] = defaultdict(int)
        for hold_id, tipper, amount in holds:
            if not _close(session, hold_id, "refunded", now, violation.id):
                continue  # settled or refunded by someone else in the meantime
            post(session, "refund", hold_id, now, [(held_account(anchor_id), -amount),
                                                   (tipper_account(tipper), amount)])
            result.refunded_holds += 1
            result.refunded_fen += amount
            per_sender[tipper] += amount
        result.per_sender = dict(per_sender)
        violation.refunded_holds, violation.refunded_fen = result.refunded_holds, result.refunded_fen
    audit.append(session, at=now, actor=actor, action="anchor.violation", object_type="anchor",
                 object_id=anchor_id, data={"kind": kind, "violation_id": violation.id,
                                            "refunded_holds": result.refunded_holds,
                                            "refunded_fen": result.refunded_fen})
    return result


@dataclass
class LedgerReport:
    transactions: int
    postings: int
    total_fen: int
    held_fen: int
    payable_fen: int
    problems: list[str]

    @property
    def balanced(self) -> bool:
        return not self.problems


def check(session: Session) -> LedgerReport:
    """Prove the books: every transaction sums to zero, and the balances agree with the holds."""
    problems: list[str] = []
    txns = session.scalar(select(func.count(LedgerTransaction.id))) or 0
    postings = session.scalar(select(func.count(LedgerPosting.id))) or 0
    total = int(session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0))) or 0)
    if total != 0:
        problems.append(f"postings sum to {total} fen, not 0")
    unbalanced = session.execute(
        select(LedgerPosting.transaction_id, func.sum(LedgerPosting.amount_fen))
        .group_by(LedgerPosting.transaction_id).having(func.sum(LedgerPosting.amount_fen) != 0).limit(5)
    ).all()
    for txn_id, amount in unbalanced:
        problems.append(f"transaction {txn_id} sums to {amount} fen")

    balances: dict[str, int] = {
        account: int(amount) for account, amount in session.execute(
            select(LedgerPosting.account, func.sum(LedgerPosting.amount_fen)).group_by(LedgerPosting.account))
    }
    expected: dict[str, int] = defaultdict(int)
    for anchor, tipper, state, amount in session.execute(
            select(TipHold.anchor_id, TipHold.tipper_subject_id, TipHold.state, func.sum(TipHold.amount_fen))
            .group_by(TipHold.anchor_id, TipHold.tipper_subject_id, TipHold.state)):
        amount = int(amount)
        if state == "held":
            expected[held_account(anchor)] += amount
        elif state == "settled":
            expected[payable_account(anchor)] += amount
        if state != "refunded":
            expected[tipper_account(tipper)] -= amount
    for account in sorted(set(balances) | set(expected)):
        if balances.get(account, 0) != expected.get(account, 0):
            problems.append(f"account {account}: books say {balances.get(account, 0)}, "
                            f"holds say {expected.get(account, 0)}")

    # Every hold has exactly the transactions its state implies; every approved tip has a hold.
    kinds_needed = {"held": {"hold"}, "settled": {"hold", "settle"}, "refunded": {"hold", "refund"}}
    seen: dict[str, list[str]] = defaultdict(list)
    for hold_id, kind in session.execute(select(LedgerTransaction.hold_id, LedgerTransaction.kind)):
        seen[hold_id].append(kind)
    for hold_id, state in session.execute(select(TipHold.id, TipHold.state)):
        kinds = seen.pop(hold_id, [])
        if sorted(kinds) != sorted(kinds_needed.get(state, set())):
            problems.append(f"hold {hold_id} ({state}) has transactions {sorted(kinds)}")
    for hold_id in list(seen)[:5]:
        problems.append(f"transactions for unknown hold {hold_id}")
    orphans = session.scalar(
        select(func.count(TipAuthorization.id)).where(
            TipAuthorization.status == "approved",
            ~select(TipHold.id).where(TipHold.authorization_id == TipAuthorization.id).exists())
    ) or 0
    if orphans:
        problems.append(f"{orphans} approved tip(s) without a hold")
    held = sum(v for k, v in balances.items() if k.startswith("held:"))
    payable = sum(v for k, v in balances.items() if k.startswith("payable:"))
    return LedgerReport(txns, postings, total, held, payable, problems[:50])
