"""The one table from domain errors to HTTP answers: status, stable code, extra fields."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from verification import errors as e

log = logging.getLogger("livegate.gateway")


class ApiError(Exception):
    """An HTTP-level refusal raised by the views (auth, body shape)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


# (domain error, HTTP status, stable code or None to take the error's own reason)
ERROR_TABLE: list[tuple[type[e.DomainError], int, str | None]] = [
    # tips (issue 6)
    (e.IdempotencyConflict, 409, "idempotency_key_reused"),
    (e.StepUpNotFound, 404, "step_up_not_found"),
    (e.StepUpEnded, 410, None),
    (e.SmsUndeliverable, 422, "sms_undeliverable"),
    (e.SmsRateLimited, 429, "sms_rate_limited"),
    (e.SmsUnavailable, 503, "sms_unavailable"),
    (e.ImageTooLarge, 413, "image_too_large"),
    (e.InvalidImage, 422, None),
    (e.InvalidInput, 400, "invalid_request"),
    (e.CaseNotFound, 404, "case_not_found"),
    (e.SubjectNotFound, 404, "subject_not_found"),
    (e.RoomNotFound, 404, "room_not_found"),
    (e.RequestNotFound, 404, "request_not_found"),
    (e.CaseExpired, 410, "case_expired"),
    (e.CaseNotOpen, 409, "case_not_open"),
    (e.CaseIncomplete, 409, "case_incomplete"),
    (e.ConflictingState, 409, "conflict"),
    (e.NotVerified, 403, "not_verified"),
    (e.Forbidden, 403, "forbidden"),
    (e.TokenInvalid, 401, None),
    (e.RetryLater, 429, "retry_later"),
    (e.LoginFailed, 401, "login_failed"),
    (e.AccountLocked, 423, "account_locked"),
    (e.CaseClaimed, 409, "case_claimed"),
    (e.LeaseNotHeld, 409, "lease_not_held"),
]

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
              415: "unsupported_media_type", 429: "too_many_requests"}


def lookup(exc: e.DomainError) -> tuple[int, str]:
    for kind, status, code in ERROR_TABLE:
        if isinstance(exc, kind):
            return status, code or getattr(exc, "reason", None) or "error"
    return 400, "error"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body = {"error": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        resp = jsonify(error_body(exc.code, exc.message, **exc.extra))
        resp.status_code = exc.status
        if exc.status == 401:
            resp.headers["WWW-Authenticate"] = 'Bearer realm="livegate"'
        return resp

    @app.errorhandler(e.DomainError)
    def _domain_error(exc: e.DomainError):
        status, code = lookup(exc)
        extra = {k: v for k, v in exc.data.items() if k != "reason"}
        resp = jsonify(error_body(code, exc.message, **extra))
        resp.status_code = status
        retry = getattr(exc, "retry_at", None)
        if retry is not None:
            from datetime import datetime, timezone

            resp.headers["Retry-After"] = str(max(1, int((retry - datetime.now(timezone.utc)).total_seconds())))
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = HTTP_CODES.get(status, "error")
        resp = jsonify(error_body(code, exc.description or exc.name))
        resp.status_code = status
        return resp

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def _overflow(exc: Exception):
        # An id or number too large for the database's integer columns (SQLite raises
        # OverflowError, PostgreSQL a DataError): the caller's mistake, and nothing was written.
        resp = jsonify(error_body("invalid_request", "a number in the request is out of range"))
        resp.status_code = 400
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never echo the exception to the client: it may carry personal data.
        log.exception("unhandled error")
        resp = jsonify(error_body("internal_error", "the gateway failed to handle this request"))
        resp.status_code = 500
        return resp
