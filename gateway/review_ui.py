"""The reviewer UI under /review/: server-rendered pages for login, the queue and the case page.

Security in one place: sessions live in the database (the cookie carries a random
token inside Flask's signed session), every POST carries a CSRF token that must
match the one in the session (else 400), pages and images are never cached, and
the Flask secret is derived from the instance secret with HKDF, never the raw key.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import (
    Blueprint, Flask, Response, abort, current_app, flash, g, redirect, render_template, request, session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from verification import cases, review, reviewers
from verification.clock import as_utc
from verification.context import Services
from verification.errors import DomainError, InvalidInput

from .errors import lookup

bp = Blueprint("review_ui", __name__, url_prefix="/review", template_folder="templates")

# Which role each action needs (the access table the tests walk).
NEEDS = {"queue": "reviewer", "case": "reviewer", "claim": "reviewer", "decide": "reviewer",
         "reveal": "reviewer", "history": "reviewer", "image": "reviewer", "reviewers": "admin",
         "unlock": "admin"}


def init_app(app: Flask) -> None:
    """Register the UI and give Flask a session key derived from (never equal to) the instance secret."""
    svc: Services = app.extensions["livegate"]
    app.config["SECRET_KEY"] = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                    info=b"livegate:flask-session").derive(svc.settings.secret_key)
    app.config.update(SESSION_COOKIE_NAME="livegate_review", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=svc.settings.review_secure_cookie)
    app.register_blueprint(bp)


def services() -> Services:
    """The domain services of this app."""
    return current_app.extensions["livegate"]


# --- request guards -----------------------------------------------------------------------------

def csrf_token() -> str:
    """This browser session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.app_template_global("csrf_token")
def _csrf_token_global() -> str:
    return csrf_token()


@bp.before_request
def _check_csrf() -> None:
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            abort(400, "the form's security token is missing or wrong: reload the page and try again")


@bp.after_request
def _headers(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store, private"
    resp.headers["Pragma"] = "no-cache"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return resp


def login_required(action: str):
    """The view needs a live reviewer session and the role the access table names for ``action``."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            svc = services()
            with svc.db.uow() as db:
                reviewer = reviewers.resume_session(svc, db, session.get("sid"))
                db.commit()
                if reviewer is None:
                    if session.pop("sid", None):
                        flash("Your session has ended: please log in again.")
                    # Absolute endpoints: other blueprints' pages (anchors_ui) use this guard too.
                    target = (request.full_path.rstrip("?") if request.method == "GET"
                              else url_for("review_ui.queue"))
                    return redirect(url_for("review_ui.login", next=target))
                if not reviewers.has_rank(reviewer.role, NEEDS[action]):
                    abort(403, f"this page needs the {NEEDS[action]} role")
                db.expunge(reviewer)
            g.reviewer = reviewer
            return view(*args, **kwargs)

        return inner

    return wrap


# --- errors as pages ------------------------------------------------------------------------------

@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    status, code = lookup(exc)
    return render_template("review/error.html", status=status, code=code, message=exc.message), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    return render_template("review/error.html", status=status, code=exc.name, message=exc.description), status


# --- login -----------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    """Password step of the login."""
    if request.method == "GET":
        csrf_token()
        return render_template("review/login.html", next=_safe_next(request.args.get("next")))
    svc = services()
    try:
        step = reviewers.check_password(svc, request.form.get("login", ""), request.form.get("password", ""))
    except DomainError as exc:
        status, _ = lookup(exc)
        return render_template("review/login.html", error=exc.message, next=_safe_next(request.form.get("next")),
                               login=request.form.get("login", "")), status
    session.pop("sid", None)
    session["pending"] = {"rid": step.reviewer_id, "at": svc.clock.now().timestamp(),
                          "enroll": step.needs_enrollment, "next": _safe_next(request.form.get("next"))}
    return redirect(url_for(".enroll" if step.needs_enrollment else ".code"))


def _pending() -> dict | None:
    pending = session.get("pending")
    if not pending:
        return None
    age = services().clock.now().timestamp() - float(pending.get("at", 0))
    if age > reviewers.PENDING_LOGIN_FOR.total_seconds() or age < -60:
        session.pop("pending", None)
        return None
    return pending


@bp.route("/code", methods=["GET", "POST"])
def code():
    """Second step: the code from the authenticator app."""
    pending = _pending()
    if pending is None or pending.get("enroll"):
        return redirect(url_for(".login"))
    if request.method == "GET":
        return render_template("review/code.html")
    try:
        token = reviewers.check_code(services(), int(pending["rid"]), request.form.get("code", ""))
    except DomainError as exc:
        status, _ = lookup(exc)
        return render_template("review/code.html", error=exc.message), status
    return _logged_in(token, pending)


@bp.route("/enroll", methods=["GET", "POST"])
def enroll():
    """First login: choose a password and enrol an authenticator app from a QR code."""
    pending = _pending()
    if pending is None or not pending.get("enroll"):
        return redirect(url_for(".login"))
    svc = services()
    if request.method == "POST":
        try:
            token = reviewers.complete_enrollment(svc, int(pending["rid"]), request.form.get("new_password", ""),
                                                  request.form.get("confirm", ""), request.form.get("code", ""))
        except DomainError as exc:
            status, _ = lookup(exc)
            return _enroll_page(svc, pending, exc.message), status
        return _logged_in(token, pending)
    return _enroll_page(svc, pending, None)


def _enroll_page(svc: Services, pending: dict, error: str | None):
    secret, uri = reviewers.enrollment_secret(svc, int(pending["rid"]))
    return render_template("review/enroll.html", secret=secret, qr=reviewers.qr_svg_data_uri(uri),
                           min_password=reviewers.MIN_PASSWORD, error=error)


def _logged_in(token: str, pending: dict):
    target = _safe_next(pending.get("next")) or url_for(".queue")
    session.clear()  # a fresh session (and CSRF token) after login: no fixation
    session["sid"] = token
    csrf_token()
    return redirect(target)


@bp.post("/logout")
def logout():
    """End the session at once."""
    svc = services()
    with svc.db.uow() as db:
        reviewers.end_session(svc, db, session.get("sid"))
        db.commit()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for(".login"))


def _safe_next(value: str | None) -> str | None:
    """Only a path inside /review/ (no open redirect)."""
    if value and value.startswith("/review/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


# --- the queue ------------------------------------------------------------------------------------------

@bp.get("/")
@login_required("queue")
def queue():
    """Cases in review, oldest first, with filters and paging."""
    svc = services()
    role = request.args.get("role") or None
    reason = request.args.get("reason") or None
    try:
        limit = int(request.args.get("limit", review.PAGE_SIZES[0]))
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        raise InvalidInput("page and limit are whole numbers", "page") from None
    with svc.db.uow() as db:
        result = review.queue(svc, db, g.reviewer, role=role, reason=reason, limit=limit,
                              offset=(page - 1) * (limit if limit in review.PAGE_SIZES else review.PAGE_SIZES[0]))
    def page_url(n: int) -> str:
        args = {k: v for k, v in (("role", role), ("reason", reason), ("limit", result.limit), ("page", n)) if v}
        return url_for(".queue") + "?" + urlencode(args)

    return render_template("review/queue.html", q=result, roles=cases.ROLES, reasons=review.QUEUE_REASONS,
                           page_sizes=review.PAGE_SIZES, page_url=page_url)


@bp.get("/open")
@login_required("case")
def open_case():
    """Jump to a case by its id (for example a rejected one a supervisor may overturn)."""
    case_id = (request.args.get("case_id") or "").strip()
    with services().db.uow() as db:
        cases.get_case(db, case_id)
    return redirect(url_for(".case", case_id=case_id))


@bp.post("/cases/<case_id>/claim")
@login_required("claim")
def claim(case_id: str):
    """Take the lease on a case, then show it."""
    svc = services()
    with svc.db.uow() as db:
        review.claim(svc, db, case_id, g.reviewer)
        db.commit()
    return redirect(url_for(".case", case_id=case_id))


@bp.post("/cases/<case_id>/release")
@login_required("claim")
def release(case_id: str):
    """Give the case back to the queue."""
    svc = services()
    with svc.db.uow() as db:
        review.release(svc, db, case_id, g.reviewer)
        db.commit()
    flash("The case is back in the queue.")
    return redirect(url_for(".queue"))


# --- the case page ----------------------------------------------------------------------------------------

@bp.get("/cases/<case_id>")
@login_required("case")
def case(case_id: str):
    """Document, portrait and selfie side by side; fields, checks, same identity; the decision form."""
    return _case_page(case_id, reveal=False)


@bp.post("/cases/<case_id>/reveal")
@login_required("reveal")
def reveal(case_id: str):
    """Show the full number and name; the reveal is recorded in the audit trail."""
    return _case_page(case_id, reveal=True)


def _case_page(case_id: str, reveal: bool):
    svc = services()
    with svc.db.uow() as db:
        revealed = review.reveal_number(svc, db, case_id, g.reviewer) if reveal else None
        detail = review.case_detail(svc, db, case_id, g.reviewer, revealed=revealed)
        db.commit()
        return render_template("review/case.html", d=detail, reasons=cases.REVIEW_REASONS,
                               can_blacklist=reviewers.has_rank(g.reviewer.role, "supervisor"),
                               fmt_age=fmt_age)


@bp.post("/cases/<case_id>/decision")
@login_required("decide")
def decide(case_id: str):
    """Approve or reject the claimed case with a reason code and a note."""
    svc = services()
    with svc.db.uow() as db:
        case = review.decide(svc, db, case_id, g.reviewer, decision=request.form.get("decision", ""),
                             reason=request.form.get("reason", ""), note=request.form.get("note", "").strip(),
                             blacklist=request.form.get("blacklist") == "yes")
        db.commit()
        flash(f"Case {case.id[:8]} {case.state}.")
    return redirect(url_for(".queue"))


@bp.get("/cases/<case_id>/history")
@login_required("history")
def history(case_id: str):
    """The case's audit trail."""
    with services().db.uow() as db:
        entries = review.history(db, case_id)
    return render_template("review/history.html", case_id=case_id, entries=entries)


@bp.get("/cases/<case_id>/images/<int:image_id>.jpg")
@login_required("image")
def image(case_id: str, image_id: int):
    """One uploaded image, decrypted on the fly; never cached."""
    svc = services()
    with svc.db.uow() as db:
        data = review.image_jpeg(svc, db, case_id, image_id)
    return Response(data, mimetype="image/jpeg")


@bp.get("/cases/<case_id>/portrait.jpg")
@login_required("image")
def portrait(case_id: str):
    """The portrait cut from the document where the face check found it."""
    svc = services()
    with svc.db.uow() as db:
        data = review.portrait_jpeg(svc, db, case_id)
    return Response(data, mimetype="image/jpeg")


# --- admin ------------------------------------------------------------------------------------------------

@bp.get("/reviewers")
@login_required("reviewers")
def reviewer_list():
    """Accounts, lockouts and the active-reviewer counts of the last 30 days."""
    svc = services()
    with svc.db.uow() as db:
        people = reviewers.list_reviewers(db)
        today = svc.clock.now().date()
        days = reviewers.active_reviewers_per_day(db, today - timedelta(days=30), today + timedelta(days=1))
        now = svc.clock.now()
        rows = [{"login": r.login, "role": r.role, "active": r.active, "enrolled": r.totp_enrolled_at is not None,
                 "locked": bool(r.locked_until and as_utc(r.locked_until) > now),
                 "last_login_at": as_utc(r.last_login_at) if r.last_login_at else None} for r in people]
    return render_template("review/reviewers.html", people=rows, days=days)


@bp.post("/reviewers/<login>/unlock")
@login_required("unlock")
def unlock(login: str):
    """Lift a lockout."""
    svc = services()
    with svc.db.uow() as db:
        reviewers.unlock(svc, db, login, actor=g.reviewer.login)
        db.commit()
    flash(f"{login} is unlocked.")
    return redirect(url_for(".reviewer_list"))


def fmt_age(delta: timedelta) -> str:
    """A waiting time as people say it: 5 min, 3 h 20 min, 2 d 4 h."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d {hours % 24} h"


@bp.app_template_filter("utc")
def _utc(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else ""


bp.add_app_template_global(fmt_age, "fmt_age")
