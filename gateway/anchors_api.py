"""Anchors and rooms over HTTP: the go-live gate, rooms and category changes, prior reports, the
identity blacklist, rating files for the recommender, the concern list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from verification import anchors, ratings, rooms
from verification.clients import authenticate

from .api import json_body, services
from .auth import bearer, require_client
from .errors import ApiError

bp = Blueprint("anchors_api", __name__, url_prefix="/v1")


def require_any(session, *scopes: str):
    """The calling client, which must hold at least one of ``scopes``."""
    key = bearer()
    client = authenticate(session, key) if key else None
    if client is None:
        return require_client(session, scopes[0])  # raises the usual 401
    if not set(scopes) & set(client.scopes):
        raise ApiError(403, "forbidden", f"this client needs one of the scopes {', '.join(scopes)}")
    g.client_name = client.name
    return client


def _actor(client) -> str:
    return f"client:{client.name}"


def _decision(body: dict[str, Any]) -> bool:
    value = body.get("decision")
    if value not in ("approved", "rejected"):
        raise ApiError(400, "invalid_request", "decision must be approved or rejected", field="decision")
    return value == "approved"


def _int_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(404, "request_not_found", f"no request {value}") from None


# --- the go-live gate -------------------------------------------------------------------

@bp.post("/broadcasts/authorize")
def authorize_broadcast():
    """May this anchor go live in this room under this category? → {decision, reason}."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "broadcasts")
        answer = anchors.authorize_broadcast(svc, session, token=body.get("token"), room_id=body.get("room_id"),
                                             category=body.get("category"), actor=_actor(client))
        session.commit()
    return jsonify(answer.public())


# --- rooms and category changes ---------------------------------------------------------------

@bp.post("/rooms")
def register_room():
    """Register a live room for a verified anchor with its category label."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "broadcasts")
        room = rooms.register_room(svc, session, room_id=body.get("room_id"), anchor_id=body.get("anchor_id"),
                                   category=body.get("category"), title=body.get("title"), actor=_actor(client))
        session.commit()
        return jsonify(rooms.room_view(session, room)), 201


@bp.get("/rooms/<room_id>")
def get_room(room_id: str):
    """The room: number, category and its label, state, any pending category change."""
    svc = services()
    with svc.db.uow() as session:
        require_any(session, "broadcasts", "anchors")
        return jsonify(rooms.room_view(session, rooms.get_room(session, room_id)))


@bp.post("/rooms/<room_id>/category-changes")
def request_category_change(room_id: str):
    """Ask for a new category; the old one stands until a reviewer approves."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "broadcasts")
        change = rooms.request_category_change(svc, session, room_id, body.get("category"), body.get("reason"),
                                               actor=_actor(client))
        session.commit()
        return jsonify(rooms.change_view(change)), 202


@bp.get("/review/category-changes")
def pending_category_changes():
    """Category changes waiting for a reviewer, oldest first."""
    svc = services()
    with svc.db.uow() as session:
        require_client(session, "review")
        return jsonify({"requests": [rooms.change_view(c) for c in rooms.pending_changes(session)]})


@bp.post("/review/category-changes/<change_id>/decision")
def decide_category_change(change_id: str):
    """A reviewer's approval or rejection of a category change."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "review")
        change = rooms.decide_category_change(svc, session, _int_id(change_id), reviewer=_actor(client),
                                              role="reviewer", approve=_decision(body), note=body.get("note") or "")
        session.commit()
        return jsonify(rooms.change_view(change))


# --- anchors: profile, prior reports, blacklist ------------------------------------------------

@bp.put("/anchors/<anchor_id>/profile")
def set_profile(anchor_id: str):
    """Mark an anchor as a social celebrity or overseas personnel, and name their agent."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        p = anchors.set_profile(svc, session, anchor_id, celebrity=body.get("celebrity"),
                                overseas=body.get("overseas"), agent=body.get("agent"), actor=_actor(client))
        session.commit()
        return jsonify({"anchor_id": p.anchor_id, "celebrity": p.celebrity, "overseas": p.overseas,
                        "agent": p.agent})


@bp.post("/anchors/<anchor_id>/prior-reports")
def file_prior_report(anchor_id: str):
    """File a celebrity's or overseas anchor's report before they go live (a supervisor approves it)."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        report = anchors.file_prior_report(svc, session, anchor_id, body.get("kind"), body.get("note"),
                                           actor=_actor(client))
        session.commit()
        return jsonify(anchors.prior_report_view(report)), 201


@bp.get("/review/prior-reports")
def pending_prior_reports():
    """Prior reports waiting for a supervisor."""
    svc = services()
    with svc.db.uow() as session:
        require_client(session, "review")
        return jsonify({"reports": [anchors.prior_report_view(r) for r in anchors.pending_prior_reports(session)]})


@bp.post("/review/prior-reports/<report_id>/decision")
def decide_prior_report(report_id: str):
    """A supervisor's approval or rejection of a prior report."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "review")
        report = anchors.decide_prior_report(svc, session, _int_id(report_id), reviewer=_actor(client),
                                             role="supervisor", approve=_decision(body),
                                             note=body.get("note") or "")
        session.commit()
        return jsonify(anchors.prior_report_view(report))


@bp.post("/anchors/<anchor_id>/blacklist")
def blacklist(anchor_id: str):
    """Blacklist the person behind this anchor account: every account blocked, tokens revoked."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        result = anchors.blacklist_anchor(svc, session, anchor_id, kind=body.get("kind"), note=body.get("note"),
                                          actor=_actor(client))
        session.commit()
    return jsonify(result.public())


# --- rating files ------------------------------------------------------------------------------

@bp.post("/ratings/violations")
def record_violation():
    """Add a violation (kind, severity, date) to an anchor's and optionally a room's rating file."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        row = ratings.record_violation(svc, session, anchor_id=body.get("anchor_id"), kind=body.get("kind"),
                                       severity=body.get("severity"), room_id=body.get("room_id"),
                                       occurred_on=body.get("occurred_on"), note=body.get("note"),
                                       actor=_actor(client))
        session.commit()
        return jsonify({"id": row.id, "anchor_id": row.anchor_id, "room_id": row.room_number, "kind": row.kind,
                        "severity": row.severity, "points": row.points,
                        "occurred_on": row.occurred_on.isoformat()}), 201


@bp.post("/rooms/<room_id>/quality")
def record_quality(room_id: str):
    """Add a program-quality score (0–100) to a room's rating file."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        row = ratings.record_quality(svc, session, room_id=room_id, score=body.get("score"),
                                     scored_on=body.get("scored_on"), actor=_actor(client))
        session.commit()
        return jsonify({"id": row.id, "room_id": row.room_number, "score": row.score,
                        "scored_on": row.scored_on.isoformat()}), 201


@bp.get("/rooms/<room_id>/rating")
def room_rating(room_id: str):
    """The room's rating file and the measures it calls for (for the recommender)."""
    svc = services()
    with svc.db.uow() as session:
        require_any(session, "anchors", "broadcasts")
        return jsonify(ratings.room_file(svc, session, room_id))


@bp.get("/anchors/<anchor_id>/rating")
def anchor_rating(anchor_id: str):
    """The anchor's rating file and the measures it calls for (for the recommender)."""
    svc = services()
    with svc.db.uow() as session:
        require_any(session, "anchors", "broadcasts")
        return jsonify(ratings.anchor_file(svc, session, anchor_id))


@bp.get("/ratings/policy")
def rating_policy():
    """The points per severity and the thresholds that map points to measures."""
    svc = services()
    with svc.db.uow() as session:
        require_any(session, "anchors", "broadcasts")
    return jsonify(ratings.DEFAULT_POLICY.public())


@bp.get("/ratings/rooms")
def rooms_with_measure():
    """Open rooms whose file (or their anchor's) calls for ``?measure=``."""
    svc = services()
    measure = request.args.get("measure", "")
    with svc.db.uow() as session:
        require_any(session, "anchors", "broadcasts")
        return jsonify({"measure": measure, "rooms": ratings.rooms_with_measure(svc, session, measure)})


# --- the concern list and key monitoring (R11, R18) -------------------------------------------

@bp.post("/concerns")
def flag_concern():
    """Put an anchor, agent or room on the concern list or under key monitoring."""
    from verification import concerns

    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        row = concerns.flag(svc, session, target_type=body.get("target_type"), target_id=body.get("target_id"),
                            rule=body.get("rule"), note=body.get("note"), actor=_actor(client))
        session.commit()
        return jsonify(concerns.flag_view(row)), 201


@bp.post("/concerns/scan")
def scan_concerns():
    """Run the monitoring rules over recent tips now (also `livegate concerns scan`)."""
    from verification import concerns

    svc = services()
    with svc.db.uow() as session:
        require_client(session, "anchors")
        rows = concerns.scan(svc, session)
        session.commit()
        return jsonify({"flags": [concerns.flag_view(r) for r in rows]})


@bp.get("/concerns")
def list_concerns():
    """The open flags of both lists."""
    from verification import concerns

    svc = services()
    with svc.db.uow() as session:
        require_any(session, "anchors", "review")
        return jsonify({"flags": [concerns.flag_view(r) for r in concerns.open_flags(session)]})


@bp.get("/concerns/report")
def concern_report():
    """The open flags as a written report: ``?format=text`` (default) or ``json``."""
    from flask import Response

    from verification import concerns

    svc = services()
    fmt = request.args.get("format", "text")
    with svc.db.uow() as session:
        require_any(session, "anchors", "review")
        text = concerns.written_report(svc, session, fmt)
    mimetype = "application/json" if fmt == "json" else "text/plain"
    return Response(text, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="concern-report.{"json" if fmt == "json" else "txt"}"'})


@bp.post("/review/concerns/<flag_id>/clear")
def clear_concern(flag_id: str):
    """A reviewer takes a target off the list."""
    from verification import concerns

    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "review")
        row = concerns.clear(svc, session, _int_id(flag_id), reviewer=_actor(client), note=body.get("note") or "")
        session.commit()
        return jsonify(concerns.flag_view(row))
