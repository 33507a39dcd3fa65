"""Shared fixtures: real SQLite and PostgreSQL stores, a fixed clock, the real face engine."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from verification.clock import FixedClock

ROOT = Path(__file__).resolve().parent.parent
FACES_DIR = Path(os.environ.get("LIVEGATE_FACES_DIR", ROOT.parent / "shared" / "faces"))
PG_ADMIN_URL = os.environ.get("LIVEGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = bytes(range(32))


def pytest_report_header(config):
    return [f"faces: {FACES_DIR} ({'present' if FACES_DIR.exists() else 'absent'})", f"postgres: {PG_ADMIN_URL}"]


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The shared labelled face photos; tests that need them skip when the folder is absent."""
    if not (FACES_DIR / "LABELS.tsv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared face photos at {FACES_DIR}")
        pytest.skip(f"the shared face photos are not at {FACES_DIR} (set LIVEGATE_FACES_DIR)")
    return FACES_DIR


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def face_engine():
    """The real face_recognition engine, loaded once per test run."""
    from verification.adapters.face_dlib import DlibFaceEngine

    return DlibFaceEngine()


def _postgres_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # the reason goes into the skip message
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {problem}")
    name = f"lg_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Each store test runs on a fresh SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'livegate.db'}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


def _reset_postgres(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


def make_services(db_url: str, tmp_path: Path, clock, face_engine, **overrides):
    """Services on a migrated store with a signing key, as `livegate init-db` leaves them."""
    from gateway import build_services
    from gateway.config import load_settings
    from verification.keys import ensure_signing_key
    from verification.store import upgrade

    base = dict(instance_path=tmp_path / "instance", database_url=db_url, secret_key=SECRET, liveness="off")
    base.update(overrides)
    settings = load_settings(env={}, overrides=base)
    svc = build_services(settings, clock=clock, face_engine=face_engine)
    upgrade(svc.db)
    ensure_signing_key(svc)
    return svc


@pytest.fixture
def services(db_url, tmp_path, clock, face_engine):
    svc = make_services(db_url, tmp_path, clock, face_engine)
    yield svc
    svc.db.dispose()


@pytest.fixture
def app(services):
    from gateway import create_app

    return create_app({"TESTING": True}, services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_key(services):
    """A platform client holding every scope."""
    from verification.clients import SCOPES, create_client

    with services.db.uow() as session:
        key = create_client(services, session, "platform", list(SCOPES))
        session.commit()
    return key


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key}"}
