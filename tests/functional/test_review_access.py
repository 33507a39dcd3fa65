"""Who may do what in the reviewer UI: the access table, CSRF, sessions (Flask test client, SQLite)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.support.review_seed import enrolled_reviewer, seed_case, session_token
from verification import reviewers
from verification.models import Case

CSRF = "csrf-token-of-this-browser"


@pytest.fixture
def db_url(tmp_path):
    """Access rules do not depend on the database: SQLite only (the store tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'livegate.db'}"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Real argon2id, with small costs: every row of the table logs someone in."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(reviewers, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world(services):
    with services.db.uow() as s:
        in_review = seed_case(services, s, subject_id="user-1", seed=1)
        rejected = seed_case(services, s, subject_id="user-2", seed=2)
        rejected.state, rejected.decision, rejected.reasons = "rejected", "rejected", ["face_mismatch"]
        own = seed_case(services, s, subject_id="user-own", seed=3)
        s.commit()
        image_id = in_review.images[0].id
        ids = {"case": in_review.id, "rejected": rejected.id, "own": own.id, "image": image_id}
    enrolled_reviewer(services, "locked-one")
    with services.db.uow() as s:
        from verification.models import Reviewer

        r = s.scalar(select(Reviewer).where(Reviewer.login == "locked-one"))
        r.locked_until = services.clock.now().replace(year=2030)
        s.commit()
    return ids


def sign_in(client, services, role: str | None) -> None:
    """Put a live session for a fresh reviewer of ``role`` (None: nobody) into the test browser."""
    token = None
    if role:
        secret = enrolled_reviewer(services, f"{role}-x", role, subject="user-own")
        token = session_token(services, f"{role}-x", secret)
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF
        if token:
            sess["sid"] = token


def post(client, url, **form):
    return client.post(url, data={"csrf_token": CSRF, **form})


def _approve(c, w):
    r = post(c, f"/review/cases/{w['case']}/claim")
    if r.status_code != 302 or "/login" in r.location:
        return r
    return post(c, f"/review/cases/{w['case']}/decision", decision="approved", reason="face_matches", note="ok")


def _blacklist(c, w):
    r = post(c, f"/review/cases/{w['case']}/claim")
    if r.status_code != 302 or "/login" in r.location:
        return r
    return post(c, f"/review/cases/{w['case']}/decision", decision="rejected", reason="document_forged",
                blacklist="yes")


def _overturn(c, w):
    r = post(c, f"/review/cases/{w['rejected']}/claim")
    if r.status_code != 302 or "/login" in r.location:
        return r
    return post(c, f"/review/cases/{w['rejected']}/decision", decision="approved", reason="face_matches")


ACTIONS = {
    "see the queue": lambda c, w: c.get("/review/"),
    "open a case": lambda c, w: c.get(f"/review/cases/{w['case']}"),
    "see a case's history": lambda c, w: c.get(f"/review/cases/{w['case']}/history"),
    "see an image": lambda c, w: c.get(f"/review/cases/{w['case']}/images/{w['image']}.jpg"),
    "see the portrait": lambda c, w: c.get(f"/review/cases/{w['case']}/portrait.jpg"),
    "claim a case": lambda c, w: post(c, f"/review/cases/{w['case']}/claim"),
    "reveal the number": lambda c, w: post(c, f"/review/cases/{w['case']}/reveal"),
    "approve a case in review": _approve,
    "reject and blacklist": _blacklist,
    "overturn a machine rejection": _overturn,
    "claim a case about their own account": lambda c, w: post(c, f"/review/cases/{w['own']}/claim"),
    "list reviewers": lambda c, w: c.get("/review/reviewers"),
    "unlock a reviewer": lambda c, w: post(c, "/review/reviewers/locked-one/unlock"),
}

LOGIN = "login page"
#                                          anonymous  reviewer  supervisor  admin
TABLE = {
    "see the queue":                        (LOGIN,     200,      200,        200),
    "open a case":                          (LOGIN,     200,      200,        200),
    "see a case's history":                 (LOGIN,     200,      200,        200),
    "see an image":                         (LOGIN,     200,      200,        200),
    "see the portrait":                     (LOGIN,     200,      200,        200),
    "claim a case":                         (LOGIN,     302,      302,        302),
    "reveal the number":                    (LOGIN,     200,      200,        200),
    "approve a case in review":             (LOGIN,     302,      302,        302),
    "reject and blacklist":                 (LOGIN,     403,      302,        302),
    "overturn a machine rejection":         (LOGIN,     403,      302,        302),
    "claim a case about their own account": (LOGIN,     403,      403,        403),
    "list reviewers":                       (LOGIN,     403,      403,        200),
    "unlock a reviewer":                    (LOGIN,     403,      403,        302),
}
WHO = (None, "reviewer", "supervisor", "admin")


@pytest.mark.parametrize("action,who,expected", [
    pytest.param(action, who, row[i], id=f"{who or 'anonymous'}-{action.replace(' ', '_')}")
    for action, row in TABLE.items() for i, who in enumerate(WHO)
])
def test_access_table(client, services, world, action, who, expected):
    sign_in(client, services, who)
    resp = ACTIONS[action](client, world)
    if expected == LOGIN:
        assert resp.status_code == 302 and "/review/login" in resp.location
        assert "Reviewer login" in client.get(resp.location).text
    else:
        assert resp.status_code == expected, resp.text[:500]
        if expected == 302:
            assert "/review/login" not in resp.location


POSTS = ["/review/cases/{case}/claim", "/review/cases/{case}/reveal", "/review/cases/{case}/decision",
         "/review/cases/{case}/release", "/review/reviewers/locked-one/unlock", "/review/logout", "/review/login"]


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
@pytest.mark.parametrize("url", POSTS)
def test_a_form_without_the_right_csrf_token_is_refused_with_400(client, services, world, url, token):
    sign_in(client, services, "admin")
    form = {"decision": "approved", "reason": "face_matches"}
    if token:
        form["csrf_token"] = token
    resp = client.post(url.format(**world), data=form)
    assert resp.status_code == 400
    assert "security token" in resp.text
    with services.db.uow() as s:
        assert s.get(Case, world["case"]).state == "in_review"


def test_pages_and_images_are_never_cached_and_refuse_framing(client, services, world):
    sign_in(client, services, "reviewer")
    for url in ("/review/", f"/review/cases/{world['case']}", f"/review/cases/{world['case']}/images/{world['image']}.jpg"):
        resp = client.get(url)
        assert resp.status_code == 200
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_the_case_page_masks_the_number_and_marks_a_differing_name(client, services):
    with services.db.uow() as s:
        case = seed_case(services, s, subject_id="user-9", name="王小明", read_name="王晓明")
        s.commit()
        number = services.cipher.decrypt_text(case.declared_number_enc, "document_number")
    sign_in(client, services, "reviewer")
    page = client.get(f"/review/cases/{case.id}").text
    assert number not in page and "王小明" not in page
    assert number[:4] + "*" * 10 + number[-4:] in page
    name_row = re.search(r'<tr class="(\w+)"><td>Name</td>', page)
    assert name_row and name_row.group(1) == "differs"
    assert re.search(r'<tr class="same"><td>Document number</td>', page)
    assert "face_match" in page and "0.5213" in page and "0.45" in page


def test_an_idle_session_sends_the_reviewer_back_to_the_login_page(client, services, world):
    sign_in(client, services, "reviewer")
    assert client.get("/review/").status_code == 200
    services.clock.advance(seconds=reviewers.SESSION_IDLE.total_seconds() + 1)
    resp = client.get("/review/")
    assert resp.status_code == 302 and "/review/login" in resp.location
    assert "session has ended" in client.get(resp.location).text


def test_logging_in_through_the_forms_with_a_wrong_code_says_so(client, services):
    enrolled_reviewer(services, "pat")
    services.clock.advance(seconds=30)
    page = client.get("/review/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/review/login", data={"login": "pat", "password": "nope", "csrf_token": token})
    assert resp.status_code == 401 and "not right" in resp.text
    from tests.support.review_seed import PASSWORD

    resp = client.post("/review/login", data={"login": "pat", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.location.endswith("/review/code")
    resp = client.post("/review/code", data={"code": "000000", "csrf_token": token})
    assert resp.status_code == 401 and "not right" in resp.text


def test_bad_input_on_pages_is_a_clear_4xx_page(client, services, world):
    sign_in(client, services, "reviewer")
    resp = client.get("/review/cases/not-a-case")
    assert resp.status_code == 404 and "no case" in resp.text
    resp = client.get("/review/?role=robot")
    assert resp.status_code == 400 and "role must be one of" in resp.text
    resp = client.get("/review/?page=x")
    assert resp.status_code == 400
    resp = post(client, f"/review/cases/{world['case']}/decision", decision="approved", reason="face_matches")
    assert resp.status_code == 409 and "claim the case first" in resp.text


def test_the_case_page_lists_other_cases_and_accounts_of_the_same_identity(client, services):
    with services.db.uow() as s:
        first = seed_case(services, s, subject_id="first-account", seed=5, with_images=False)
        number = services.cipher.decrypt_text(first.declared_number_enc, "document_number")
        second = seed_case(services, s, subject_id="second-account", number=number, seed=6, with_images=False)
        unrelated = seed_case(services, s, subject_id="someone-else", seed=7, with_images=False)
        s.commit()
    sign_in(client, services, "reviewer")
    page = client.get(f"/review/cases/{second.id}").text
    same = page[page.index('id="same-identity"'):page.index('id="other-accounts"')]
    assert first.id[:8] in same and "first-account" in same
    assert unrelated.id[:8] not in same and "someone-else" not in page


def test_the_json_review_api_cannot_decide_a_case_a_reviewer_holds(client, services, world, auth):
    from verification import review
    from verification.models import Reviewer

    enrolled_reviewer(services, "holder")
    with services.db.uow() as s:
        holder = s.scalar(select(Reviewer).where(Reviewer.login == "holder"))
        review.claim(services, s, world["case"], holder)
        s.commit()
    url = f"/v1/review/cases/{world['case']}/decision"
    body = {"decision": "approved", "reason": "face_matches"}
    resp = client.post(url, json=body, headers=auth)
    assert resp.status_code == 409 and resp.json["error"] == "case_claimed" and resp.json["holder"] == "holder"
    services.clock.advance(seconds=review.LEASE_FOR.total_seconds() + 1)
    resp = client.post(url, json=body, headers=auth)
    assert resp.status_code == 200 and resp.json["state"] == "approved"


def test_a_locked_reviewer_is_told_so_on_the_login_page(client, services, world):
    page = client.get("/review/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    from tests.support.review_seed import PASSWORD

    resp = client.post("/review/login", data={"login": "locked-one", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 423 and "locked" in resp.text


def test_the_session_cookie_is_http_only_same_site_and_secure_when_configured(services, tmp_path):
    from dataclasses import replace

    from gateway import create_app

    plain = create_app({"TESTING": True}, services=services).test_client().get("/review/login")
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    services.settings = replace(services.settings, review_secure_cookie=True)
    secure = create_app({"TESTING": True}, services=services).test_client().get("/review/login")
    assert "Secure" in secure.headers["Set-Cookie"]
    flask_key = create_app({"TESTING": True}, services=services).config["SECRET_KEY"]
    assert len(flask_key) == 32 and flask_key != services.settings.secret_key[:32]  # derived, never the raw key
