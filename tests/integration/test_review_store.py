"""Reviewer accounts, leases and decisions against real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from tests.support.review_seed import PASSWORD, enrolled_reviewer, seed_case, session_token
from verification import audit, cases, review, reviewers
from verification.errors import (
    AccountLocked, CaseClaimed, ConflictingState, Forbidden, InvalidInput, LeaseNotHeld, LoginFailed,
)
from verification.models import AuditEntry, Case, Decision, Identity, Reviewer, ReviewLease


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Real argon2id, with small costs: these tests hash dozens of passwords on a shared machine."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(reviewers, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _reviewer(svc, login) -> Reviewer:
    with svc.db.uow() as s:
        r = s.scalar(select(Reviewer).where(Reviewer.login == login))
        s.expunge(r)
        return r


def _case(svc, **kw) -> str:
    with svc.db.uow() as s:
        c = seed_case(svc, s, **kw)
        s.commit()
        return c.id


# --- accounts -----------------------------------------------------------------------------------

def test_a_new_reviewer_logs_in_with_the_one_time_password_then_must_enrol(services):
    with services.db.uow() as s:
        r, once = reviewers.create_reviewer(services, s, "Alice", "reviewer")
        s.commit()
    assert r.login == "alice" and len(once) >= 16
    with services.db.uow() as s:
        stored = s.scalar(select(Reviewer.password_hash).where(Reviewer.login == "alice"))
    assert stored.startswith("$argon2id$") and once not in stored
    step = reviewers.check_password(services, "alice", once)
    assert step.needs_enrollment
    with pytest.raises(ConflictingState):
        reviewers.check_code(services, step.reviewer_id, "123456")


def test_enrolment_needs_a_new_password_and_a_working_code(services):
    with services.db.uow() as s:
        _, once = reviewers.create_reviewer(services, s, "bob", "reviewer")
        s.commit()
    step = reviewers.check_password(services, "bob", once)
    secret, uri = reviewers.enrollment_secret(services, step.reviewer_id)
    assert uri.startswith("otpauth://totp/") and "bob" in uri
    code = pyotp.TOTP(secret).at(services.clock.now())
    with pytest.raises(InvalidInput):
        reviewers.complete_enrollment(services, step.reviewer_id, "short", "short", code)
    with pytest.raises(InvalidInput):
        reviewers.complete_enrollment(services, step.reviewer_id, once, once, code)
    with pytest.raises(LoginFailed):
        reviewers.complete_enrollment(services, step.reviewer_id, PASSWORD, PASSWORD, "000000")
    assert reviewers.complete_enrollment(services, step.reviewer_id, PASSWORD, PASSWORD, code)
    with pytest.raises(LoginFailed):  # the one-time password is spent
        reviewers.check_password(services, "bob", once)
    assert not reviewers.check_password(services, "bob", PASSWORD).needs_enrollment


def test_a_reviewer_login_is_unique(services):
    enrolled_reviewer(services, "carol")
    with services.db.uow() as s, pytest.raises(ConflictingState):
        reviewers.create_reviewer(services, s, "carol", "supervisor")


def test_a_code_works_only_once(services):
    secret = enrolled_reviewer(services, "dave")
    services.clock.advance(seconds=60)
    rid = reviewers.check_password(services, "dave", PASSWORD).reviewer_id
    code = pyotp.TOTP(secret).at(services.clock.now())
    assert reviewers.check_code(services, rid, code)
    with pytest.raises(LoginFailed):
        reviewers.check_code(services, rid, code)


def test_five_wrong_passwords_lock_the_account_for_a_while(services):
    enrolled_reviewer(services, "erin")
    for _ in range(reviewers.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            reviewers.check_password(services, "erin", "wrong password!")
    with pytest.raises(AccountLocked):
        reviewers.check_password(services, "erin", PASSWORD)  # even the right one
    with services.db.uow() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "erin")).all()
    assert "reviewer.locked" in actions
    services.clock.advance(seconds=reviewers.LOCK_FOR.total_seconds() + 1)
    assert reviewers.check_password(services, "erin", PASSWORD)


def test_wrong_codes_count_toward_the_lockout_too(services):
    enrolled_reviewer(services, "frank")
    rid = reviewers.check_password(services, "frank", PASSWORD).reviewer_id
    for _ in range(reviewers.MAX_FAILURES):
        with pytest.raises(LoginFailed):
            reviewers.check_code(services, rid, "000000")
    with pytest.raises(AccountLocked):
        reviewers.check_password(services, "frank", PASSWORD)


def test_a_session_ends_after_idle_time_its_limit_or_logout(services):
    secret = enrolled_reviewer(services, "gina")
    token = session_token(services, "gina", secret)
    with services.db.uow() as s:
        assert reviewers.resume_session(services, s, token).login == "gina"
        s.commit()
    services.clock.advance(seconds=reviewers.SESSION_IDLE.total_seconds() - 60)
    with services.db.uow() as s:
        assert reviewers.resume_session(services, s, token) is not None  # activity keeps it alive
        s.commit()
    services.clock.advance(seconds=reviewers.SESSION_IDLE.total_seconds() + 1)
    with services.db.uow() as s:
        assert reviewers.resume_session(services, s, token) is None

    token = session_token(services, "gina", secret)
    for _ in range(int(reviewers.SESSION_MAX / timedelta(minutes=10)) + 1):
        services.clock.advance(minutes=10)
        with services.db.uow() as s:
            alive = reviewers.resume_session(services, s, token)
            s.commit()
    assert alive is None  # the absolute limit, however active

    token = session_token(services, "gina", secret)
    with services.db.uow() as s:
        reviewers.end_session(services, s, token)
        s.commit()
    with services.db.uow() as s:
        assert reviewers.resume_session(services, s, token) is None


# --- leases -----------------------------------------------------------------------------------------

def test_two_reviewers_never_hold_the_same_case_and_a_lease_expires(services):
    enrolled_reviewer(services, "ann")
    enrolled_reviewer(services, "ben")
    ann, ben = _reviewer(services, "ann"), _reviewer(services, "ben")
    case_id = _case(services, subject_id="user-1")
    with services.db.uow() as s:
        review.claim(services, s, case_id, ann)
        s.commit()
    with services.db.uow() as s, pytest.raises(CaseClaimed) as err:
        review.claim(services, s, case_id, ben)
    assert err.value.data["holder"] == "ann"
    with services.db.uow() as s:
        page = review.queue(services, s, ben)
    assert page.total == 0  # held by someone else: not in ben's queue
    services.clock.advance(seconds=review.LEASE_FOR.total_seconds() + 1)
    with services.db.uow() as s:
        assert review.queue(services, s, ben).total == 1  # back in the queue
        review.claim(services, s, case_id, ben)
        s.commit()
    with services.db.uow() as s, pytest.raises(LeaseNotHeld):
        review.decide(services, s, case_id, ann, decision="approved", reason="face_matches")


def test_concurrent_claims_give_the_case_to_exactly_one_reviewer(services):
    logins = [f"r{i}" for i in range(6)]
    for login in logins:
        enrolled_reviewer(services, login)
    people = [_reviewer(services, login) for login in logins]
    case_id = _case(services, subject_id="user-2")
    barrier = threading.Barrier(len(people))
    results: list[str] = []

    def attempt(r):
        barrier.wait()
        try:
            with services.db.uow() as s:
                review.claim(services, s, case_id, r)
                s.commit()
            results.append("won")
        except CaseClaimed:
            results.append("claimed")

    threads = [threading.Thread(target=attempt, args=(r,)) for r in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["claimed"] * (len(people) - 1) + ["won"]
    with services.db.uow() as s:
        assert s.scalar(select(func.count()).select_from(ReviewLease)) == 1


# --- decisions ---------------------------------------------------------------------------------------

def _claimed(services, login, role="reviewer", subject=None, **case_kw):
    enrolled_reviewer(services, login, role, subject)
    r = _reviewer(services, login)
    case_id = _case(services, **case_kw)
    return r, case_id


def test_an_approval_updates_the_case_subject_and_audit_together(services):
    r, case_id = _claimed(services, "hana", subject_id="user-3")
    with services.db.uow() as s:
        review.claim(services, s, case_id, r)
        review.decide(services, s, case_id, r, decision="approved", reason="face_matches", note="same person")
        s.commit()
    with services.db.uow() as s:
        case = s.get(Case, case_id)
        assert case.state == "approved" and case.level.endswith("+review")
        assert case.subject.verified_case_id == case_id
        assert s.scalar(select(ReviewLease).where(ReviewLease.case_id == case_id)) is None
        d = s.scalars(select(Decision).where(Decision.case_id == case_id).order_by(Decision.id)).all()[-1]
        assert (d.source, d.actor, d.decision, d.note) == ("reviewer", "hana", "approved", "same person")
        report = audit.verify_chain(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert report.broken_at is None
        counts = reviewers.active_reviewers_per_day(s, date(2026, 1, 1), date(2026, 12, 31))
    assert sum(counts.values()) == 1


def test_a_refused_decision_leaves_no_trace(services):
    r, case_id = _claimed(services, "ivan", subject_id="user-4")
    with services.db.uow() as s:
        review.claim(services, s, case_id, r)
        s.commit()
    with services.db.uow() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    with services.db.uow() as s, pytest.raises(InvalidInput):
        review.decide(services, s, case_id, r, decision="approved", reason="not-a-reason")
    with services.db.uow() as s, pytest.raises(Forbidden):
        review.decide(services, s, case_id, r, decision="rejected", reason="document_forged", blacklist=True)
    with services.db.uow() as s:
        assert s.get(Case, case_id).state == "in_review"
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert s.scalar(select(func.count()).select_from(Identity)) == 0


def test_a_reviewer_cannot_decide_a_case_about_their_own_account(services):
    r, case_id = _claimed(services, "jo", subject="user-5", subject_id="user-5")
    with services.db.uow() as s, pytest.raises(Forbidden):
        review.claim(services, s, case_id, r)
    with services.db.uow() as s, pytest.raises(Forbidden):
        cases.decide_review(services, s, case_id, reviewer="jo", role="supervisor", decision="approved",
                            reason="face_matches", reviewer_subject="user-5")


def test_overturning_a_machine_rejection_needs_a_supervisor(services):
    enrolled_reviewer(services, "kim", "reviewer")
    enrolled_reviewer(services, "lee", "supervisor")
    kim, lee = _reviewer(services, "kim"), _reviewer(services, "lee")
    case_id = _case(services, subject_id="user-6")
    with services.db.uow() as s:
        c = s.get(Case, case_id)
        c.state, c.decision, c.reasons = "rejected", "rejected", ["face_mismatch"]
        s.commit()
    with services.db.uow() as s, pytest.raises(Forbidden):
        review.claim(services, s, case_id, kim)
    with services.db.uow() as s, pytest.raises(Forbidden):
        cases.decide_review(services, s, case_id, reviewer="kim", role="reviewer", decision="approved",
                            reason="face_matches")
    with services.db.uow() as s:
        review.claim(services, s, case_id, lee)
        review.decide(services, s, case_id, lee, decision="approved", reason="face_matches", note="twin photo")
        s.commit()
    with services.db.uow() as s:
        assert s.get(Case, case_id).state == "approved"
        last = s.scalars(select(AuditEntry).where(AuditEntry.object_id == case_id).order_by(AuditEntry.id)).all()[-1]
        assert last.action == "review.approved" and last.data["overturned"] == "rejected"


def test_a_supervisor_rejection_can_blacklist_the_identity(services):
    enrolled_reviewer(services, "max", "supervisor")
    sup = _reviewer(services, "max")
    case_id = _case(services, subject_id="user-7")
    with services.db.uow() as s:
        review.claim(services, s, case_id, sup)
        review.decide(services, s, case_id, sup, decision="rejected", reason="document_forged", blacklist=True)
        s.commit()
    with services.db.uow() as s:
        case = s.get(Case, case_id)
        identity = s.scalar(select(Identity).where(Identity.number_hash == case.number_hash))
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert identity.blacklisted and identity.blacklist_reason == "document_forged"
    assert "identity.blacklisted" in actions


def test_revealing_the_number_is_recorded(services):
    enrolled_reviewer(services, "nia")
    nia = _reviewer(services, "nia")
    case_id = _case(services, subject_id="user-8")
    with services.db.uow() as s:
        masked = review.case_detail(services, s, case_id, nia)
        number, name = review.reveal_number(services, s, case_id, nia)
        s.commit()
    assert "*" in masked.number and masked.number[:4] == number[:4] and masked.number[-4:] == number[-4:]
    with services.db.uow() as s:
        entries = review.history(s, case_id)
    assert [e["action"] for e in entries][-1] == "case.number_revealed"
    assert entries[-1]["actor"] == "nia" and all(e["intact"] for e in entries)


# --- the queue -------------------------------------------------------------------------------------------

def test_the_queue_is_oldest_first_with_filters_and_pages(services):
    enrolled_reviewer(services, "oz")
    oz = _reviewer(services, "oz")
    start = services.clock.now() - timedelta(days=1)
    made = []
    with services.db.uow() as s:
        for i in range(30):
            role = ("viewer", "anchor", "merchant")[i % 3]
            reasons = ("identity_in_use",) if i % 5 == 0 else ("face_uncertain",)
            made.append(seed_case(services, s, subject_id=f"q-{i}", role=role, reasons=reasons,
                                  created_at=start + timedelta(minutes=30 - i), with_images=False).id)
        s.commit()
    with services.db.uow() as s:
        first = review.queue(services, s, oz, limit=25)
        second = review.queue(services, s, oz, limit=25, offset=25)
        anchors = review.queue(services, s, oz, role="anchor", limit=50)
        in_use = review.queue(services, s, oz, reason="identity_in_use", limit=50)
        nothing = review.queue(services, s, oz, reason="face_", limit=50)
    assert first.total == 30 and len(first.rows) == 25 and len(second.rows) == 5
    assert [r.case_id for r in first.rows + second.rows] == list(reversed(made))
    assert anchors.total == 10 and {r.role for r in anchors.rows} == {"anchor"}
    assert in_use.total == 6 and all("identity_in_use" in r.reasons for r in in_use.rows)
    assert nothing.total == 0  # reason codes match whole, '_' is not a wildcard
