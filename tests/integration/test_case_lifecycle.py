"""Case lifecycle: images purged on schedule (decision and audit stay); stale submissions recover."""

from datetime import timedelta

from sqlalchemy import select

from tests.support import badfiles
from verification import cases
from verification.audit import verify_chain
from verification.models import AuditEntry, Case, CaseImage
from verification.retention import purge_images


def _case_with_images(services):
    with services.db.uow() as session:
        case, _ = cases.create_case(services, session, subject_id="u1", role="viewer", declared_name="张三",
                                    document_type="cn_resident_id", document_number="11010519491231002X")
        cases.attach_document(services, session, case.id, badfiles.good_jpeg())
        cases.attach_selfie(services, session, case.id, [badfiles.good_jpeg()])
        session.commit()
        return case.id


def test_images_older_than_the_retention_period_are_erased_and_the_case_remains(services, clock):
    case_id = _case_with_images(services)
    with services.db.uow() as session:
        assert purge_images(services, session).cases == 0  # too young
    clock.advance(days=services.settings.image_retention_days + 1)
    with services.db.uow() as session:
        report = purge_images(services, session)
        session.commit()
    assert report.cases == 1 and report.images == 2
    with services.db.uow() as session:
        case = session.get(Case, case_id)
        assert case.images_purged_at is not None
        assert all(i.data_enc is None for i in session.scalars(select(CaseImage)))
        assert len(case.images) == 2  # the metadata (hash, size) stays for the record
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert entries[-1].action == "images.purged" and verify_chain(entries).broken_at is None
    with services.db.uow() as session:
        assert purge_images(services, session, clock.now() + timedelta(days=1)).cases == 0


def test_a_case_left_processing_by_a_dead_worker_can_be_submitted_again_later(services, clock):
    import pytest

    from verification.errors import CaseNotOpen

    case_id = _case_with_images(services)
    with services.db.uow() as session:
        cases.begin_submit(services, session, case_id)
        session.commit()  # the worker then dies before recording an outcome
    with services.db.uow() as session, pytest.raises(CaseNotOpen):
        cases.begin_submit(services, session, case_id)
    clock.advance(minutes=11)
    with services.db.uow() as session:
        cases.begin_submit(services, session, case_id)
        session.commit()
        assert session.get(Case, case_id).state == "processing"
