"""`livegate create-reviewer` and `livegate audit verify` as a user runs them (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select, text

from tests.conftest import SECRET
from tests.support.review_seed import seed_case
from verification import review, reviewers
from verification.models import AuditEntry, Reviewer


def livegate(services, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIVEGATE_DATABASE_URL": services.settings.database_url,
           "LIVEGATE_SECRET_KEY": SECRET.hex(), "LIVEGATE_INSTANCE": str(services.settings.instance_path)}
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_create_reviewer_prints_a_one_time_password_that_logs_in(services):
    done = livegate(services, "create-reviewer", "Rita", "--role", "supervisor")
    assert done.returncode == 0, done.stderr
    password = done.stdout.strip()
    assert len(password) >= 16 and "\n" not in password
    step = reviewers.check_password(services, "rita", password)
    assert step.needs_enrollment
    with services.db.uow() as s:
        assert s.scalar(select(Reviewer.role).where(Reviewer.login == "rita")) == "supervisor"

    again = livegate(services, "create-reviewer", "rita", "--role", "reviewer")
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and "already exists" in again.stderr
    bad = livegate(services, "create-reviewer", "x y", "--role", "reviewer")
    assert bad.returncode == 2 and "login:" in bad.stderr and "Traceback" not in bad.stderr
    worse = livegate(services, "create-reviewer", "sam", "--role", "boss")
    assert worse.returncode == 2 and "Traceback" not in worse.stderr


def _history(services):
    """A few real entries: a reviewer created, a case sent to review, claimed, revealed, approved."""
    with services.db.uow() as s:
        r, _ = reviewers.create_reviewer(services, s, "una", "reviewer")
        case = seed_case(services, s, subject_id="user-1", with_images=False)
        s.commit()
        s.expunge(r)
    with services.db.uow() as s:
        review.claim(services, s, case.id, r)
        review.reveal_number(services, s, case.id, r)
        review.decide(services, s, case.id, r, decision="approved", reason="face_matches", note="fine")
        s.commit()
    with services.db.uow() as s:
        return s.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()


def test_editing_an_audit_row_makes_audit_verify_fail_and_name_it(services):
    ids = _history(services)
    ok = livegate(services, "audit", "verify")
    assert ok.returncode == 0 and f"intact: {len(ids)} entries" in ok.stdout
    victim = ids[len(ids) // 2]
    with services.db.engine.begin() as conn:  # what someone with database access might do
        conn.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = :id"), {"id": victim})
    broken = livegate(services, "audit", "verify")
    assert broken.returncode == 1
    assert f"broken at entry {victim}:" in broken.stdout and "content does not match" in broken.stdout


def test_deleting_an_audit_row_makes_audit_verify_name_the_entry_after_it(services):
    ids = _history(services)
    victim = ids[2]
    with services.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": victim})
    broken = livegate(services, "audit", "verify")
    assert broken.returncode == 1
    assert f"broken at entry {ids[3]}:" in broken.stdout and "prev_hash" in broken.stdout


def test_the_history_page_data_flags_an_altered_entry(services):
    ids = _history(services)
    with services.db.uow() as s:
        case_id = s.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "review.approved")).one()
        target = s.scalars(select(AuditEntry.id).where(AuditEntry.action == "review.approved")).one()
    with services.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET action = 'review.rejected' WHERE id = :id"), {"id": target})
    with services.db.uow() as s:
        entries = review.history(s, case_id)
    assert [e["intact"] for e in entries if e["id"] == target] == [False]
    assert all(e["intact"] for e in entries if e["id"] != target) and ids
