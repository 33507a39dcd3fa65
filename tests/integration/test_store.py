"""The SQL store on SQLite and PostgreSQL: migrations, keys, the audit chain under concurrency."""

from __future__ import annotations

import threading


from sqlalchemy import select, update

from verification import audit
from verification.keys import published_keys, rotate_keys, token_service
from verification.models import AuditEntry
from verification.store import current_revision, upgrade


def test_migrations_reach_head_and_running_them_again_changes_nothing(services):
    rev = current_revision(services.db)
    assert rev is not None
    upgrade(services.db)
    assert current_revision(services.db) == rev


def test_after_rotation_both_keys_are_published_until_old_tokens_expire(services, clock):
    with services.db.uow() as session:
        old_token, _ = token_service(services, session).issue(subject="s", audience="tipping", adult=True,
                                                               level="document+face", now=clock.now())
        rotate_keys(services, session)
        session.commit()
    with services.db.uow() as session:
        kids = [k.kid for k in published_keys(services, session)]
        assert len(kids) == 2
        assert token_service(services, session).verify(old_token, audience="tipping", now=clock.now())["sub"] == "s"
    clock.advance(seconds=services.settings.token_ttl_seconds + 120)
    with services.db.uow() as session:
        assert len(published_keys(services, session)) == 1


def test_concurrent_appends_keep_one_unbroken_chain(services, clock):
    def worker(n: int) -> None:
        for i in range(10):
            with services.db.uow() as session:
                audit.append(session, at=clock.now(), actor=f"t{n}", action="test", object_type="x",
                             object_id=str(i))
                session.commit()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with services.db.uow() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        report = audit.verify_chain(entries)
    assert report.broken_at is None
    assert sum(1 for e in entries if e.action == "test") == 60


def test_editing_an_audit_row_breaks_the_chain_at_that_row(services, clock):
    with services.db.uow() as session:
        ids = [audit.append(session, at=clock.now(), actor="a", action="x", object_type="case",
                            object_id=str(i)).id for i in range(3)]
        session.commit()
    with services.db.uow() as session:
        session.execute(update(AuditEntry).where(AuditEntry.id == ids[1]).values(actor="mallory"))
        session.commit()
    with services.db.uow() as session:
        report = audit.verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert report.broken_at == ids[1]


def test_a_use_case_that_fails_midway_leaves_nothing_behind(services, clock):
    from verification.cases import create_case
    from verification.errors import InvalidInput
    from verification.models import Case

    with services.db.uow() as session:
        create_case(services, session, subject_id="u", role="viewer", declared_name="张三",
                    document_type="cn_resident_id", document_number="11010519491231002X")
        # the caller never commits (as a view that fails afterwards would)
    try:
        with services.db.uow() as session:
            create_case(services, session, subject_id="u", role="viewer", declared_name="张三",
                        document_type="cn_resident_id", document_number="11010519491231002X", phone="bad")
    except InvalidInput:
        pass
    with services.db.uow() as session:
        assert session.scalars(select(Case)).all() == []
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "case.created")).all() == []

