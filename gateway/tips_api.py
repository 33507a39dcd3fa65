"""Tips over HTTP: authorize a tip, confirm a step-up code, record an anchor's violation,
and the tipper's own limits. The rules live in ``verification.limits`` and ``verification.ledger``."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, current_app, jsonify
from prometheus_client import Counter
from sqlalchemy import select

from verification import ledger, limits
from verification.models import Subject
from verification.sms import SmsChannel, build_sender

from .api import json_body, services
from .auth import require_client
from .metrics import REGISTRY

bp = Blueprint("tips", __name__, url_prefix="/v1")
TIP_DECISIONS = Counter("livegate_tip_decisions_total", "Tip authorization answers", ["decision", "reason"],
                        registry=REGISTRY)
SMS_EXTENSION = "livegate.sms"


def init_app(app: Flask) -> None:
    """Register the blueprint and build the SMS channel once (tests may swap it)."""
    svc = app.extensions["livegate"]
    app.extensions.setdefault(SMS_EXTENSION, SmsChannel(svc, build_sender(svc)))
    app.register_blueprint(bp)


def sms_channel() -> SmsChannel:
    return current_app.extensions[SMS_EXTENSION]


def _client_id(scope: str) -> tuple[int, str]:
    with services().db.uow() as session:
        client = require_client(session, scope)
        return client.id, client.name


@bp.post("/tips/authorize")
def authorize_tip():
    """Approve, hold for an SMS step-up, or deny one tip (idempotent per idempotency_key)."""
    answer = limits.authorize_tip(services(), sms_channel(), lambda session: require_client(session, "tips").id,
                                  json_body())
    TIP_DECISIONS.labels(answer.get("decision") or "none", answer.get("reason") or "none").inc()
    resp = jsonify(answer)
    resets = answer.get("resets_at")
    if answer.get("decision") == "denied" and resets:
        wait = datetime.fromisoformat(resets.replace("Z", "+00:00")) - datetime.now(timezone.utc)
        resp.headers["Retry-After"] = str(max(1, int(wait.total_seconds())))
    return resp


@bp.post("/step-ups/<step_up_id>/confirm")
def confirm_step_up(step_up_id: str):
    """Check the SMS code of a step-up."""
    client_id, _ = _client_id("tips")
    body = json_body()
    return jsonify(limits.confirm_step_up(services(), client_id, step_up_id, body.get("code")))


@bp.post("/anchors/<anchor_id>/violations")
def record_violation(anchor_id: str):
    """Record an anchor's violation; unlawful conduct refunds the anchor's unsettled tips."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "anchors")
        result = ledger.record_violation(svc, session, anchor_id, body.get("kind"), body.get("note"),
                                         actor=f"client:{client.name}")
        session.commit()
        names = {sid: ext for sid, ext in session.execute(
            select(Subject.id, Subject.external_id).where(Subject.id.in_(result.per_sender)))}
        refunds = [{"subject_id": names.get(sid, str(sid)), "refunded_fen": fen}
                   for sid, fen in sorted(result.per_sender.items())]
    return jsonify({"violation_id": result.violation_id, "kind": result.kind, "refund": result.refund,
                    "refunded_holds": result.refunded_holds, "refunded_fen": result.refunded_fen,
                    "refunds": refunds}), 201


@bp.put("/subjects/<subject_id>/tip-limits")
def set_tip_limits(subject_id: str):
    """Set the tipper's own caps (stricter than the platform's)."""
    svc = services()
    body = json_body()
    with svc.db.uow() as session:
        client = require_client(session, "tips")
        view = limits.set_self_limits(svc, session, subject_id, body, actor=f"client:{client.name}")
        session.commit()
    return jsonify(view)
