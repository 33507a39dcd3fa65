"""Settings from the environment, read once; secrets generated into the instance folder."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT, Settings


class ConfigError(ValueError):
    """A setting has a value the gateway cannot use."""


def default_instance_path() -> Path:
    return Path(os.environ.get("LIVEGATE_INSTANCE", Path.cwd() / "instance")).resolve()


def load_settings(env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from ``env`` (default ``os.environ``) plus explicit overrides (tests)."""
    env = dict(os.environ if env is None else env)
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("instance_path", None) or env.get("LIVEGATE_INSTANCE") or
                    default_instance_path()).resolve()
    instance.mkdir(parents=True, exist_ok=True)

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else default

    def integer(name: str, default: int, minimum: int = 0) -> int:
        raw = get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}")
        return value

    def number(name: str, default: float) -> float:
        raw = get(name)
        try:
            return float(raw) if raw is not None else default
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None

    values: dict[str, Any] = dict(
        instance_path=instance,
        database_url=get("LIVEGATE_DATABASE_URL", f"sqlite:///{instance / 'livegate.db'}"),
        secret_key=_secret(get("LIVEGATE_SECRET_KEY"), instance),
        timezone=get("LIVEGATE_TIMEZONE", "Asia/Shanghai"),
        issuer=get("LIVEGATE_ISSUER", "livegate"),
        limit_per_tip_fen=integer("LIVEGATE_LIMIT_PER_TIP_FEN", 100_000, 1),
        limit_day_fen=integer("LIVEGATE_LIMIT_DAY_FEN", 500_000, 1),
        limit_month_fen=integer("LIVEGATE_LIMIT_MONTH_FEN", 2_000_000, 1),
        settlement_days=integer("LIVEGATE_SETTLEMENT_DAYS", 7),
        sms_backend=get("LIVEGATE_SMS_BACKEND", "outbox"),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_from=get("TWILIO_FROM"),
        twilio_base_url=get("LIVEGATE_TWILIO_BASE_URL"),
        liveness=get("LIVEGATE_LIVENESS", "required"),
        face_accept=number("LIVEGATE_FACE_ACCEPT", DEFAULT_FACE_ACCEPT),
        face_reject=number("LIVEGATE_FACE_REJECT", DEFAULT_FACE_REJECT),
        token_ttl_seconds=integer("LIVEGATE_TOKEN_TTL_SECONDS", 900, 30),
        case_ttl_seconds=integer("LIVEGATE_CASE_TTL_SECONDS", 3600, 60),
        approval_valid_days=integer("LIVEGATE_APPROVAL_VALID_DAYS", 365, 1),
        image_retention_days=integer("LIVEGATE_IMAGE_RETENTION_DAYS", 30),
        max_upload_bytes=integer("LIVEGATE_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024),
        max_image_pixels=integer("LIVEGATE_MAX_IMAGE_PIXELS", 30_000_000, 10_000),
        review_secure_cookie=(get("LIVEGATE_REVIEW_SECURE_COOKIE", "0") or "0").lower() in ("1", "true", "yes"),
    )
    values.update(overrides)
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"LIVEGATE_TIMEZONE: unknown time zone {s.timezone!r}") from None
    if s.liveness not in ("required", "off"):
        raise ConfigError("LIVEGATE_LIVENESS must be 'required' or 'off'")
    if s.sms_backend not in ("outbox", "twilio"):
        raise ConfigError("LIVEGATE_SMS_BACKEND must be 'outbox' or 'twilio'")
    if s.sms_backend == "twilio" and not (s.twilio_account_sid and s.twilio_auth_token and s.twilio_from):
        raise ConfigError("the twilio SMS backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
    if not 0 < s.face_accept < s.face_reject:
        raise ConfigError("LIVEGATE_FACE_ACCEPT must be above 0 and below LIVEGATE_FACE_REJECT")


def _secret(given: str | None, instance: Path) -> bytes:
    """The master secret: LIVEGATE_SECRET_KEY (64 hex chars or base64), else instance/secret.key."""
    if given:
        for decode in (bytes.fromhex, base64.b64decode):
            try:
                key = decode(given)
            except (ValueError, binascii.Error):
                continue
            if len(key) >= 32:
                return key
        raise ConfigError("LIVEGATE_SECRET_KEY must be 32 or more bytes, as hex or base64")
    path = instance / "secret.key"
    if not path.exists():
        tmp = instance / f".secret.key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # atomic: of two first runs at once, one key wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return bytes.fromhex(path.read_text().strip())
