"""Reviewer pages for anchors and rooms: category changes, prior reports, the concern list.

They live beside the review queue under /review/ and share its login, roles, CSRF check,
security headers and error pages (gateway.review_ui)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from verification import anchors, concerns, reviewers, rooms
from verification.context import Services
from verification.errors import DomainError, InvalidInput
from verification.models import CategoryChange, PriorReport

from . import review_ui
from .review_ui import login_required, services

bp = Blueprint("anchors_ui", __name__, url_prefix="/review", template_folder="templates")

# Which role each page and action needs (added to the review UI's access table at registration).
NEEDS = {"category_changes": "reviewer", "decide_category": "reviewer", "prior_reports": "reviewer",
         "decide_prior_report": "supervisor", "concerns": "reviewer", "clear_concern": "reviewer",
         "scan_concerns": "supervisor"}

bp.before_request(review_ui._check_csrf)
bp.after_request(review_ui._headers)
bp.register_error_handler(DomainError, review_ui._domain_error)
bp.register_error_handler(HTTPException, review_ui._http_error)


def init_app(app: Flask) -> None:
    """Register the pages; call after review_ui.init_app (its session key and access table)."""
    review_ui.NEEDS.update(NEEDS)
    app.register_blueprint(bp)


def _approve() -> bool:
    value = request.form.get("decision", "")
    if value not in ("approved", "rejected"):
        raise InvalidInput("choose approve or reject", "decision")
    return value == "approved"


def _form_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("not a request number", "id") from None


def _recent(db, model, limit: int = 20):
    from sqlalchemy import select

    return list(db.scalars(select(model).where(model.state != "pending")
                           .order_by(model.decided_at.desc(), model.id.desc()).limit(limit)))


# --- category changes --------------------------------------------------------------------------------

@bp.get("/category-changes")
@login_required("category_changes")
def category_changes():
    """Rooms asking for a new category, oldest first; the old category stands until decided."""
    svc: Services = services()
    with svc.db.uow() as db:
        pending = [rooms.change_view(c) for c in rooms.pending_changes(db)]
        recent = [rooms.change_view(c) for c in _recent(db, CategoryChange)]
    return render_template("review/category_changes.html", pending=pending, recent=recent,
                           labels=rooms.CATEGORIES)


@bp.post("/category-changes/<change_id>/decision")
@login_required("decide_category")
def decide_category(change_id: str):
    """Approve (the room takes the new category) or reject (it keeps the old one)."""
    svc = services()
    with svc.db.uow() as db:
        change = rooms.decide_category_change(svc, db, _form_id(change_id), reviewer=g.reviewer.login,
                                              role=g.reviewer.role, approve=_approve(),
                                              note=request.form.get("note", "").strip())
        reviewers.record_activity(svc, db, g.reviewer, decisions=1)
        db.commit()
        flash(f"Room {change.room.room_number}: change to {change.to_category} {change.state}.")
    return redirect(url_for(".category_changes"))


# --- prior reports -------------------------------------------------------------------------------------

@bp.get("/prior-reports")
@login_required("prior_reports")
def prior_reports():
    """Celebrity and overseas anchors' prior reports; a supervisor approves them."""
    svc = services()
    with svc.db.uow() as db:
        pending = [anchors.prior_report_view(r) for r in anchors.pending_prior_reports(db)]
        recent = [anchors.prior_report_view(r) for r in _recent(db, PriorReport)]
    return render_template("review/prior_reports.html", pending=pending, recent=recent,
                           can_decide=reviewers.has_rank(g.reviewer.role, "supervisor"))


@bp.post("/prior-reports/<report_id>/decision")
@login_required("decide_prior_report")
def decide_prior_report(report_id: str):
    """A supervisor's approval or rejection of a prior report."""
    svc = services()
    with svc.db.uow() as db:
        report = anchors.decide_prior_report(svc, db, _form_id(report_id), reviewer=g.reviewer.login,
                                             role=g.reviewer.role, approve=_approve(),
                                             note=request.form.get("note", "").strip())
        reviewers.record_activity(svc, db, g.reviewer, decisions=1)
        db.commit()
        flash(f"The {report.kind} report of {report.anchor_id} is {report.state}.")
    return redirect(url_for(".prior_reports"))


# --- the concern list and key monitoring --------------------------------------------------------------

@bp.get("/concerns")
@login_required("concerns")
def concern_list():
    """Anchors, agents and rooms on the concern list (R11) and under key monitoring (R18)."""
    svc = services()
    with svc.db.uow() as db:
        flags = [concerns.flag_view(r) for r in concerns.open_flags(db)]
    return render_template("review/concerns.html",
                           concern=[f for f in flags if f["list"] == concerns.CONCERN],
                           monitoring=[f for f in flags if f["list"] == concerns.MONITORING],
                           can_scan=reviewers.has_rank(g.reviewer.role, "supervisor"))


@bp.get("/concerns/report.txt")
@login_required("concerns")
def concern_report():
    """The written report of the open flags, as a text file."""
    svc = services()
    with svc.db.uow() as db:
        text = concerns.written_report(svc, db, "text")
    stamp = svc.clock.now().strftime("%Y%m%d-%H%M")
    return Response(text, mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="concern-report-{stamp}.txt"'})


@bp.post("/concerns/<flag_id>/clear")
@login_required("clear_concern")
def clear_concern(flag_id: str):
    """Take a target off the list (the flag stays on record)."""
    svc = services()
    with svc.db.uow() as db:
        row = concerns.clear(svc, db, _form_id(flag_id), reviewer=g.reviewer.login,
                             note=request.form.get("note", "").strip())
        reviewers.record_activity(svc, db, g.reviewer, decisions=1)
        db.commit()
        flash(f"{row.target_type.capitalize()} {row.target_id} is off the list ({row.rule}).")
    return redirect(url_for(".concern_list"))


@bp.post("/concerns/scan")
@login_required("scan_concerns")
def scan_concerns():
    """Run the monitoring rules over recent tips now."""
    svc = services()
    with svc.db.uow() as db:
        found = concerns.scan(svc, db)
        db.commit()
        flash(f"The rules found {len(found)} target(s).")
    return redirect(url_for(".concern_list"))
