"""Who may call the anchors and rooms API: (scopes held, method, path, expected status)."""

from __future__ import annotations

import pytest

from verification.clients import create_client

CALLS = [
    ("POST", "/v1/broadcasts/authorize", "broadcasts"),
    ("POST", "/v1/rooms", "broadcasts"),
    ("GET", "/v1/rooms/R1", "broadcasts"),
    ("POST", "/v1/rooms/R1/category-changes", "broadcasts"),
    ("GET", "/v1/review/category-changes", "review"),
    ("POST", "/v1/review/category-changes/1/decision", "review"),
    ("PUT", "/v1/anchors/a1/profile", "anchors"),
    ("POST", "/v1/anchors/a1/prior-reports", "anchors"),
    ("GET", "/v1/review/prior-reports", "review"),
    ("POST", "/v1/review/prior-reports/1/decision", "review"),
    ("POST", "/v1/anchors/a1/blacklist", "anchors"),
    ("POST", "/v1/ratings/violations", "anchors"),
    ("POST", "/v1/rooms/R1/quality", "anchors"),
    ("GET", "/v1/rooms/R1/rating", "anchors"),
    ("GET", "/v1/anchors/a1/rating", "anchors"),
    ("POST", "/v1/concerns", "anchors"),
    ("GET", "/v1/concerns/report", "anchors"),
    ("POST", "/v1/review/concerns/1/clear", "review"),
]


@pytest.fixture
def db_url(tmp_path):
    """Access rules do not depend on the database: SQLite only (the other tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'livegate.db'}"


@pytest.fixture
def keys(services):
    with services.db.uow() as session:
        out = {scope: create_client(services, session, f"only-{scope}", [scope])
               for scope in ("broadcasts", "anchors", "review", "cases")}
        session.commit()
    return out


@pytest.mark.parametrize("method, path, scope", CALLS)
def test_without_a_key_every_call_is_401(client, method, path, scope):
    resp = client.open(path, method=method, json={})
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("method, path, scope", CALLS)
def test_a_client_without_the_scope_is_refused_with_403(client, keys, method, path, scope):
    resp = client.open(path, method=method, json={}, headers={"Authorization": f"Bearer {keys['cases']}"})
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


@pytest.mark.parametrize("method, path, scope", CALLS)
def test_a_client_with_the_scope_gets_past_authorization(client, keys, method, path, scope):
    resp = client.open(path, method=method, json={}, headers={"Authorization": f"Bearer {keys[scope]}"})
    assert resp.status_code not in (401, 403, 500), (resp.status_code, resp.get_json())
