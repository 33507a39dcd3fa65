"""Public endpoints: the JWKS, liveness of the process."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from verification.keys import published_keys
from verification.tokens import jwks_document

bp = Blueprint("wellknown", __name__)


@bp.get("/.well-known/jwks.json")
def jwks():
    """The public keys downstream services verify tokens with."""
    svc = current_app.extensions["livegate"]
    with svc.db.uow() as session:
        doc = jwks_document(published_keys(svc, session))
    resp = jsonify(doc)
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/healthz")
def healthz():
    """Alive, and the database answers."""
    svc = current_app.extensions["livegate"]
    try:
        with svc.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "ok"})
