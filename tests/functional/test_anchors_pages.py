"""The reviewer pages for category changes, prior reports and the concern list (Flask test client, SQLite):
who may do what, CSRF, and what each decision changes."""

from __future__ import annotations

import pytest

from tests.support.anchors import seed_verified
from tests.support.review_seed import enrolled_reviewer, session_token
from verification import anchors, concerns, reviewers, rooms
from verification.models import CategoryChange, ConcernFlag, PriorReport, ReviewerDay, Room

CSRF = "csrf-token-of-this-browser"


@pytest.fixture
def db_url(tmp_path):
    """Access rules do not depend on the database: SQLite only (the store tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'livegate.db'}"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Real argon2id, with small costs."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(reviewers, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world(services):
    with services.db.uow() as s:
        seed_verified(services, s, "anchor-1")
        rooms.register_room(services, s, room_id="R1", anchor_id="anchor-1", category="music")
        change = rooms.request_category_change(services, s, "R1", "dance", "new show")
        report = anchors.file_prior_report(services, s, "anchor-1", "celebrity", "film actor")
        flag = concerns.flag(services, s, target_type="room", target_id="R1", rule="high_click_through")
        s.commit()
        return {"change": change.id, "report": report.id, "flag": flag.id}


def sign_in(client, services, role: str | None) -> None:
    token = None
    if role:
        secret = enrolled_reviewer(services, f"{role}-x", role)
        token = session_token(services, f"{role}-x", secret)
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF
        if token:
            sess["sid"] = token


def post(client, url, **form):
    return client.post(url, data={"csrf_token": CSRF, **form})


ACTIONS = {
    "category page": lambda c, w: c.get("/review/category-changes"),
    "decide category": lambda c, w: post(c, f"/review/category-changes/{w['change']}/decision", decision="approved"),
    "prior report page": lambda c, w: c.get("/review/prior-reports"),
    "decide prior report": lambda c, w: post(c, f"/review/prior-reports/{w['report']}/decision",
                                             decision="approved"),
    "concern page": lambda c, w: c.get("/review/concerns"),
    "download report": lambda c, w: c.get("/review/concerns/report.txt"),
    "clear flag": lambda c, w: post(c, f"/review/concerns/{w['flag']}/clear", note="checked"),
    "run rules": lambda c, w: post(c, "/review/concerns/scan"),
}
OK = (200, 302)
TABLE = [
    (None, "category page", "login"), (None, "decide category", "login"), (None, "concern page", "login"),
    ("reviewer", "category page", OK), ("reviewer", "decide category", OK), ("reviewer", "prior report page", OK),
    ("reviewer", "decide prior report", 403), ("reviewer", "concern page", OK), ("reviewer", "download report", OK),
    ("reviewer", "clear flag", OK), ("reviewer", "run rules", 403),
    ("supervisor", "decide prior report", OK), ("supervisor", "run rules", OK),
    ("admin", "decide category", OK), ("admin", "decide prior report", OK),
]


@pytest.mark.parametrize("role, action, expected", TABLE)
def test_the_access_table(client, services, world, role, action, expected):
    sign_in(client, services, role)
    resp = ACTIONS[action](client, world)
    if expected == "login":
        assert resp.status_code == 302 and "/review/login" in resp.location
    elif expected == 403:
        assert resp.status_code == 403 and b"needs the supervisor role" in resp.data
    else:
        assert resp.status_code in expected and "/review/login" not in (resp.location or "")


def test_a_form_without_the_csrf_token_changes_nothing(client, services, world):
    sign_in(client, services, "supervisor")
    resp = client.post(f"/review/category-changes/{world['change']}/decision", data={"decision": "approved"})
    assert resp.status_code == 400
    with services.db.uow() as s:
        assert s.get(CategoryChange, world["change"]).state == "pending"
        assert s.query(Room).one().category == "music"


def test_approving_a_category_change_on_the_page_changes_the_room_and_counts_the_reviewer(client, services, world):
    sign_in(client, services, "reviewer")
    page = client.get("/review/category-changes").get_data(as_text=True)
    assert f'data-request="{world["change"]}"' in page and "Music" in page and "Dance" in page
    resp = post(client, f"/review/category-changes/{world['change']}/decision", decision="approved", note="fits")
    assert resp.status_code == 302
    page = client.get("/review/category-changes").get_data(as_text=True)
    assert "No category change is waiting." in page and "approved" in page
    with services.db.uow() as s:
        assert s.query(Room).one().category == "dance"
        assert s.get(CategoryChange, world["change"]).decided_by == "reviewer-x"
        assert s.query(ReviewerDay).filter(ReviewerDay.decisions >= 1).count() == 1


def test_a_supervisor_rejects_a_prior_report_and_a_reviewer_only_sees_it(client, services, world):
    sign_in(client, services, "reviewer")
    page = client.get("/review/prior-reports").get_data(as_text=True)
    assert "a supervisor decides" in page and "film actor" in page
    sign_in(client, services, "supervisor")
    assert post(client, f"/review/prior-reports/{world['report']}/decision", decision="rejected").status_code == 302
    with services.db.uow() as s:
        assert s.get(PriorReport, world["report"]).state == "rejected"


def test_a_bad_decision_value_is_shown_as_an_error_page(client, services, world):
    sign_in(client, services, "reviewer")
    resp = post(client, f"/review/category-changes/{world['change']}/decision", decision="maybe")
    assert resp.status_code == 400 and b"choose approve or reject" in resp.data
    resp = post(client, "/review/category-changes/abc/decision", decision="approved")
    assert resp.status_code == 400


def test_the_concern_page_lists_and_clears_flags_and_offers_the_written_report(client, services, world):
    sign_in(client, services, "reviewer")
    page = client.get("/review/concerns").get_data(as_text=True)
    assert 'data-target="room:R1"' in page and "high_click_through" in page
    report = client.get("/review/concerns/report.txt")
    assert report.mimetype == "text/plain" and "attachment" in report.headers["Content-Disposition"]
    assert "room R1: high click through" in report.get_data(as_text=True)
    post(client, f"/review/concerns/{world['flag']}/clear", note="a sale event")
    assert 'data-target="room:R1"' not in client.get("/review/concerns").get_data(as_text=True)
    with services.db.uow() as s:
        assert s.get(ConcernFlag, world["flag"]).cleared_by == "reviewer-x"
