"""Retention: uploaded images are purged after the retention period; decisions and audit stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit
from .context import Services
from .models import Case, CaseImage

FINAL_STATES = ("approved", "rejected", "expired")


@dataclass(frozen=True)
class PurgeReport:
    cases: int
    images: int


def purge_images(svc: Services, session: Session, now: datetime | None = None, batch: int = 500) -> PurgeReport:
    """Erase the image bytes of decided cases older than the retention period, and of expired open cases."""
    now = now or svc.clock.now()
    cutoff = now - timedelta(days=svc.settings.image_retention_days)
    decided = select(Case.id).where(Case.images_purged_at.is_(None), Case.updated_at < cutoff,
                                    Case.state.in_(FINAL_STATES + ("created", "collecting")))
    ids = list(session.scalars(decided.limit(batch)))
    if not ids:
        return PurgeReport(0, 0)
    result = session.execute(update(CaseImage).where(CaseImage.case_id.in_(ids), CaseImage.data_enc.is_not(None))
                             .values(data_enc=None))
    session.execute(update(Case).where(Case.id.in_(ids)).values(images_purged_at=now))
    images = int(getattr(result, "rowcount", 0) or 0)
    audit.append(session, at=now, actor="retention", action="images.purged", object_type="cases",
                 object_id=f"{len(ids)} cases", data={"cases": ids, "images": images, "cutoff": cutoff.isoformat()})
    return PurgeReport(len(ids), images)
