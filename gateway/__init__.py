"""LiveGate's HTTP gateway: ``create_app`` wires the domain to Flask."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from verification.context import Services


def build_services(settings, clock=None, face_engine=None) -> Services:
    """The domain's dependencies for these settings (shared by the app and the CLI)."""
    from verification.adapters.face_dlib import DlibFaceEngine
    from verification.clock import SystemClock
    from verification.pipeline import Verifier
    from verification.store import Database

    from .engines import document_reader, face_quality, liveness_detector

    verifier = Verifier(faces=face_engine or DlibFaceEngine(), liveness=liveness_detector(),
                        reader=document_reader(), quality=face_quality())
    return Services(settings=settings, db=Database(settings.database_url), verifier=verifier,
                    clock=clock or SystemClock())


def create_app(test_config: Mapping[str, Any] | None = None, *, services: Services | None = None) -> Flask:
    """The application factory: settings are read here, once; nothing is built at import time."""
    from . import api, errors, metrics, wellknown
    from .config import load_settings

    app = Flask(__name__, instance_relative_config=False)
    if services is None:
        settings = load_settings(overrides=(test_config or {}).get("LIVEGATE_OVERRIDES"))
        services = build_services(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=services.settings.max_upload_bytes * 11 + 64 * 1024,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k != "LIVEGATE_OVERRIDES"})
    app.extensions["livegate"] = services
    logging.getLogger("livegate").setLevel(logging.INFO)

    errors.init_app(app)

    @app.before_request
    def _refuse_oversized_bodies():
        # Answer 413 before anything reads the body, whatever its content type.
        limit = app.config["MAX_CONTENT_LENGTH"]
        from flask import request
        from werkzeug.exceptions import RequestEntityTooLarge

        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()

    metrics.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(wellknown.bp)
    from . import tips_api

    tips_api.init_app(app)
    from . import review_ui

    review_ui.init_app(app)
    from . import anchors_api, anchors_ui

    app.register_blueprint(anchors_api.bp)
    anchors_ui.init_app(app)
    return app
