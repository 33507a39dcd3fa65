"""The one typed settings object; built from the environment by ``gateway.config``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Face distance thresholds (face_recognition's 128-d embedding, Euclidean distance).
# Chosen from the measured genuine/impostor distances on ../shared/faces: see the
# README's calibration table. At or below ACCEPT the faces match; at or above REJECT
# they do not; the band between goes to a reviewer.
DEFAULT_FACE_ACCEPT = 0.45
DEFAULT_FACE_REJECT = 0.65


@dataclass(frozen=True)
class Settings:
    """Everything the gateway and the domain need to know about their deployment."""

    instance_path: Path
    database_url: str
    secret_key: bytes
    timezone: str = "Asia/Shanghai"
    issuer: str = "livegate"
    limit_per_tip_fen: int = 100_000
    limit_day_fen: int = 500_000
    limit_month_fen: int = 2_000_000
    settlement_days: int = 7
    sms_backend: str = "outbox"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_base_url: str | None = None
    liveness: str = "required"
    face_accept: float = DEFAULT_FACE_ACCEPT
    face_reject: float = DEFAULT_FACE_REJECT
    token_ttl_seconds: int = 900
    case_ttl_seconds: int = 3600
    approval_valid_days: int = 365
    image_retention_days: int = 30
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 30_000_000
    min_image_side: int = 120
    review_secure_cookie: bool = False  # set when the reviewer UI is served over HTTPS
    extra: dict[str, str] = field(default_factory=dict)
