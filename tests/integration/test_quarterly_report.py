"""`livegate report quarterly` against a seeded database with known counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest

from tests.conftest import SECRET
from tests.support.server import cli, server_env
from verification import reviewers
from verification.models import GoLiveDecision, ReviewerDay, Room
from verification.reports import parse_quarter, ratio_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


IN_Q4 = utc(2026, 11, 2, 3)
LAST_MOMENT_OF_Q3 = utc(2026, 9, 30, 15, 59)  # 23:59 on 30 September in Shanghai
FIRST_MOMENT_OF_Q1 = utc(2026, 12, 31, 16, 0)  # midnight on 1 January in Shanghai


def seed(session, svc, *, auditors_in_quarter: list[str]) -> None:
    """51 live rooms of 17 anchors in 2026Q4, plus rooms and reviewers that must not count."""
    created = utc(2026, 9, 1)

    def room(number, anchor, created_at=created, closed_at=None):
        session.add(Room(room_number=number, anchor_id=anchor, category="music", state="closed" if closed_at else
                         "open", created_at=created_at, closed_at=closed_at))

    def go_live(number, anchor, at, decision="allowed"):
        session.add(GoLiveDecision(room_number=number, anchor_id=anchor, category="music", decision=decision,
                                   reason=None if decision == "allowed" else "category_mismatch", at=at))

    for i in range(1, 52):
        anchor = f"a{(i - 1) // 3 + 1}"
        room(f"R{i}", anchor)
        go_live(f"R{i}", anchor, IN_Q4)
    go_live("R1", "a1", utc(2026, 12, 20))  # twice live: one room
    room("R52", "b1")
    go_live("R52", "b1", LAST_MOMENT_OF_Q3)  # live in Q3 only; registered in Q4
    room("R53", "b2", created_at=IN_Q4)
    go_live("R53", "b2", IN_Q4, decision="denied")  # never allowed
    room("R54", "b3", closed_at=utc(2026, 9, 15))  # closed before the quarter
    room("R55", "b4", created_at=FIRST_MOMENT_OF_Q1)  # opened after it
    room("R56", "b5")
    go_live("R56", "b5", FIRST_MOMENT_OF_Q1)  # live on 1 January, local time

    # Auditors: reviewer accounts and their days of activity (the reviewer UI writes these rows).
    def reviewer(login, role, *days):
        account, _ = reviewers.create_reviewer(svc, session, login, role)
        session.flush()
        for day in days:
            session.add(ReviewerDay(day=day, reviewer_id=account.id, first_seen_at=utc(2026, 10, 1),
                                    decisions=2))

    for login in auditors_in_quarter:
        reviewer(login, "reviewer", date(2026, 10, 1), date(2026, 11, 2), date(2026, 12, 31))
    reviewer("bob", "reviewer", date(2026, 9, 30), date(2027, 1, 1))  # the days either side
    reviewer("root", "admin", date(2026, 11, 2))  # manages accounts; not a front-line auditor
    session.commit()


@pytest.fixture
def env(services, tmp_path):
    return server_env(tmp_path, services.db.url, LIVEGATE_SECRET_KEY=SECRET.hex())


def report(env, fmt="json"):
    proc = cli(env, "report", "quarterly", "--quarter", "2026Q4", "--format", fmt)
    return proc


def test_the_report_counts_live_rooms_anchors_and_auditors_of_the_quarter_and_warns_at_1_to_51(
        services, env):
    with services.db.uow() as session:
        seed(session, services, auditors_in_quarter=["alice"])
    proc = report(env)
    data = json.loads(proc.stdout)
    assert data["quarter"] == "2026Q4"
    assert data["period_start"] == "2026-09-30T16:00:00Z" and data["period_end"] == "2026-12-31T16:00:00Z"
    assert data["live_rooms"] == 51
    assert data["anchors"] == 17
    assert data["registered_rooms"] == 54  # R1–R51, R52, R53, R56
    assert data["active_auditors"] == 1
    assert data["ratio"] == "1:51" and data["required_auditors"] == 2
    assert "worse than 1:50" in data["warning"]
    assert "warning" in proc.stderr


def test_a_second_active_auditor_brings_the_ratio_within_bounds(services, env):
    with services.db.uow() as session:
        seed(session, services, auditors_in_quarter=["alice", "carol"])
    rows = list(csv.DictReader(io.StringIO(report(env, "csv").stdout)))
    assert len(rows) == 1
    row = rows[0]
    assert row["active_auditors"] == "2" and row["live_rooms"] == "51"
    assert row["ratio"] == "1:25.5" and row["warning"] == ""


@pytest.mark.parametrize("auditors, rooms, warned", [
    (1, 50, False), (1, 51, True), (2, 100, False), (2, 101, True), (0, 0, False), (0, 1, True),
])
def test_the_ratio_warning_starts_beyond_fifty_rooms_per_auditor(auditors, rooms, warned):
    assert (ratio_of(auditors, rooms)[2] is not None) is warned


@pytest.mark.parametrize("label, start, end", [
    ("2026Q1", "2025-12-31T16:00:00+00:00", "2026-03-31T16:00:00+00:00"),
    ("2026q2", "2026-03-31T16:00:00+00:00", "2026-06-30T16:00:00+00:00"),
])
def test_quarters_begin_at_local_midnight(label, start, end):
    q = parse_quarter(label, "Asia/Shanghai")
    assert q.start.isoformat() == start and q.end.isoformat() == end
    assert q.first_day.day == 1 and (q.last_day - q.first_day).days in (89, 90)


def test_a_malformed_quarter_is_one_line_and_exit_2(services, env):
    proc = cli(env, "report", "quarterly", "--quarter", "2026-10", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "2026Q4" in proc.stderr
