"""Reviewer account helpers without a database: TOTP steps, the QR code, roles."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pyotp

from gateway.review_ui import fmt_age
from verification import reviewers

NOW = datetime(2026, 6, 15, 4, 0, 10, tzinfo=timezone.utc)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_code_of_this_or_a_neighbouring_time_step_matches_and_names_its_step():
    totp = pyotp.TOTP(SECRET)
    step = int(NOW.timestamp()) // 30
    assert reviewers._match_totp(SECRET, totp.at(NOW), NOW, None) == step
    assert reviewers._match_totp(SECRET, totp.at(NOW - timedelta(seconds=30)), NOW, None) == step - 1
    assert reviewers._match_totp(SECRET, totp.at(NOW + timedelta(seconds=30)), NOW, None) == step + 1
    assert reviewers._match_totp(SECRET, totp.at(NOW - timedelta(seconds=90)), NOW, None) is None


def test_a_code_at_or_before_the_last_used_step_is_refused():
    code = pyotp.TOTP(SECRET).at(NOW)
    step = int(NOW.timestamp()) // 30
    assert reviewers._match_totp(SECRET, code, NOW, step) is None
    assert reviewers._match_totp(SECRET, code, NOW, step - 1) == step


def test_malformed_codes_never_match():
    for code in ("", "12345", "1234567", "abcdef", None):
        assert reviewers._match_totp(SECRET, code, NOW, None) is None
    spaced = pyotp.TOTP(SECRET).at(NOW)
    assert reviewers._match_totp(SECRET, spaced[:3] + " " + spaced[3:], NOW, None) is not None


def test_the_qr_code_is_an_inline_svg():
    uri = reviewers.qr_svg_data_uri("otpauth://totp/LiveGate:alice?secret=" + SECRET)
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert "<svg" in svg and "<path" in svg


def test_roles_rank_reviewer_below_supervisor_below_admin():
    assert reviewers.has_rank("admin", "supervisor") and reviewers.has_rank("supervisor", "reviewer")
    assert not reviewers.has_rank("reviewer", "supervisor") and not reviewers.has_rank("nobody", "reviewer")


def test_waiting_times_read_naturally():
    assert fmt_age(timedelta(minutes=5)) == "5 min"
    assert fmt_age(timedelta(hours=3, minutes=20)) == "3 h 20 min"
    assert fmt_age(timedelta(days=3, hours=2)) == "3 d 2 h"
