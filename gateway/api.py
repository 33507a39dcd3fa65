"""The JSON API under /v1: verification cases, tokens and the minimal review endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from verification import access, cases, review
from verification.context import Services

from .auth import require_case_access, require_client
from .errors import ApiError
from .metrics import observe_decision

bp = Blueprint("api", __name__, url_prefix="/v1")

MAX_JSON_BYTES = 256 * 1024  # JSON bodies are small; only image uploads need the large request cap


def services() -> Services:
    return current_app.extensions["livegate"]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiError(413, "payload_too_large", f"a JSON body is at most {MAX_JSON_BYTES // 1024} KiB")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # deeply nested arrays or objects
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body is not a JSON object")
    return body


def files(field: str) -> list[bytes]:
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "upload images as multipart/form-data")
    return [f.read() for f in request.files.getlist(field)]


@bp.post("/cases")
def create_case():
    """Open a verification case for a platform user."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "cases")
        case, secret = cases.create_case(
            svc, session, subject_id=body.get("subject_id"), role=body.get("role", "viewer"),
            declared_name=body.get("declared_name"), document_type=body.get("document_type", "cn_resident_id"),
            document_number=body.get("document_number"), phone=body.get("phone"), actor=f"client:{client.name}",
        )
        session.commit()
        view = {"id": case.id, "state": case.state, "client_secret": secret, "challenge": case.challenge,
                "expires_at": cases._iso(case.expires_at)}
    return jsonify(view), 201


@bp.put("/cases/<case_id>/document")
def upload_document(case_id: str):
    """Upload the document image (``front``, optional ``back``)."""
    svc = services()
    front = files("front")
    back = request.files.getlist("back")
    if len(front) != 1:
        raise ApiError(400, "invalid_request", "send exactly one file in the 'front' field", field="front")
    with svc.db.uow() as session:
        require_case_access(session, case_id)
        case = cases.attach_document(svc, session, case_id, front[0], back[0].read() if back else None)
        session.commit()
        return jsonify(cases.case_view(svc, case))


@bp.put("/cases/<case_id>/selfie")
def upload_selfie(case_id: str):
    """Upload the selfie frames, in the order of the challenge."""
    svc = services()
    frames = files("frames")
    with svc.db.uow() as session:
        require_case_access(session, case_id)
        case = cases.attach_selfie(svc, session, case_id, frames)
        session.commit()
        return jsonify(cases.case_view(svc, case))


@bp.post("/cases/<case_id>/submit")
def submit(case_id: str):
    """Run the automatic checks and answer with the decision."""
    svc = services()
    with svc.db.uow() as session:
        _, actor = require_case_access(session, case_id)
    case = cases.submit_case(svc, case_id, actor=actor)
    observe_decision(case.decision)
    with svc.db.uow() as session:
        view = cases.case_view(svc, cases.get_case(session, case_id))
    return jsonify({k: view[k] for k in ("id", "state", "decision", "reasons", "checks", "adult", "level")})


@bp.get("/cases/<case_id>")
def get_case(case_id: str):
    """The case as the client may see it."""
    svc = services()
    with svc.db.uow() as session:
        require_case_access(session, case_id)
        return jsonify(cases.case_view(svc, cases.get_case(session, case_id)))


@bp.post("/tokens")
def issue_token():
    """A short-lived signed token for a verified subject."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        require_client(session, "tokens")
        token, expires = access.issue_token(svc, session, body.get("subject_id"), body.get("audience", ""))
    return jsonify({"token": token, "expires_at": expires.isoformat().replace("+00:00", "Z")}), 201


@bp.post("/tokens/introspect")
def introspect():
    """The gateway's own check of a token (signature, expiry, audience, revocation)."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        require_client(session, "tokens")
        checked = access.check_token(svc, session, body.get("token", ""), body.get("audience", ""))
        return jsonify({"active": True, "claims": checked.claims})


@bp.get("/review/cases")
def review_queue():
    """Cases waiting for manual review, oldest first."""
    svc = services()
    try:
        limit = min(200, max(1, int(request.args.get("limit", 50))))
        offset = min(10**9, max(0, int(request.args.get("offset", 0))))
    except ValueError:
        raise ApiError(400, "invalid_request", "limit and offset are whole numbers") from None
    with svc.db.uow() as session:
        require_client(session, "review")
        rows, total = cases.review_queue(session, limit, offset)
        return jsonify({"total": total, "cases": [cases.case_view(svc, c) for c in rows]})


@bp.post("/review/cases/<case_id>/decision")
def review_decide(case_id: str):
    """A supervisor's decision on a case in review."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "review")
        review.ensure_not_claimed(svc, session, case_id, f"client:{client.name}")
        case = cases.decide_review(
            svc, session, case_id, reviewer=f"client:{client.name}", role="supervisor",
            decision=body.get("decision", ""), reason=body.get("reason", ""), note=body.get("note") or "",
        )
        session.commit()
        return jsonify(cases.case_view(svc, case))
