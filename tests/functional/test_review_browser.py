"""The reviewer UI in a real headless Chromium against a real `livegate serve` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
import requests

from tests.conftest import ROOT, SECRET, make_services
from tests.support.server import reviewers_and_server
from tests.support.review_seed import seed_case
from verification.clock import SystemClock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "review"
NEW_PASSWORD = "reviewers choose long passwords"



@pytest.fixture
def db_url(tmp_path):
    """One real server process on one SQLite file (the store tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'livegate.db'}"


@pytest.fixture
def served(db_url, tmp_path):
    """Seed the store, then run `livegate serve` on a free loopback port until the test ends."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have Debian's chromium at {CHROMIUM} (scripts/install.sh --test installs it)")
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (scripts/install.sh --test installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    svc = make_services(db_url, tmp_path, SystemClock(), None)
    from verification.clients import create_client

    with svc.db.uow() as s:
        case = seed_case(svc, s, subject_id="viewer-42", role="viewer")
        api_key = create_client(svc, s, "platform", ["tokens"])
        s.commit()
        case_id = case.id
    svc.db.dispose()
    env = {**os.environ, "LIVEGATE_DATABASE_URL": db_url, "LIVEGATE_SECRET_KEY": SECRET.hex(),
           "LIVEGATE_INSTANCE": str(tmp_path / "instance"), "LIVEGATE_LIVENESS": "off"}
    with reviewers_and_server(env) as (base, passwords):
        yield {"base": base, "case_id": case_id, "api_key": api_key, "passwords": passwords, "env": env}


def first_login(page, base: str, login: str, password: str) -> None:
    """Password, then the first-login page: read the TOTP key, choose a password, enter the code."""
    page.goto(base + "/review/")
    assert page.url.startswith(base + "/review/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/review/enroll")
    qr_ok = page.eval_on_selector("#totp-qr", "img => img.complete && img.naturalWidth > 100")
    assert qr_ok, "the QR code did not render"
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(base + "/review/")
    assert page.inner_text("#whoami").startswith(login)


def test_a_reviewer_logs_in_claims_compares_and_approves_in_a_real_browser(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    base, case_id = served["base"], served["case_id"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            alice = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            bob = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

            first_login(alice, base, "alice", served["passwords"]["alice"])
            assert alice.locator(f"tr[data-case='{case_id}']").count() == 1
            alice.screenshot(path=str(SHOTS / "01-queue.png"), full_page=True)

            first_login(bob, base, "bob", served["passwords"]["bob"])  # bob's queue shows the case too
            assert bob.locator(f"tr[data-case='{case_id}']").count() == 1

            alice.click(f"tr[data-case='{case_id}'] button.claim")
            alice.wait_for_url(f"{base}/review/cases/{case_id}")
            alice.wait_for_load_state("networkidle")
            loaded = alice.eval_on_selector_all(
                "img.case-image", "imgs => imgs.map(i => [i.id, i.complete && i.naturalWidth > 0])")
            loaded = dict(loaded)
            assert loaded.get("img-document_front") and loaded.get("img-selfie-0") and loaded.get("img-portrait"), loaded
            assert "*" in alice.inner_text("#declared-number")
            assert "face_match" in alice.inner_text("#checks")
            alice.screenshot(path=str(SHOTS / "02-case.png"), full_page=True)

            # bob's page still offers the claim: the server refuses it
            bob.click(f"tr[data-case='{case_id}'] button.claim")
            bob.wait_for_load_state()
            assert "claimed by alice" in bob.inner_text("#error-message")
            bob.screenshot(path=str(SHOTS / "03-second-reviewer-refused.png"), full_page=True)
            bob.goto(base + "/review/")
            assert bob.locator(f"tr[data-case='{case_id}']").count() == 0

            alice.check("#decision-approve")
            alice.select_option("#reason", "face_matches")
            alice.fill("#note", "the portrait and the selfie show the same person")
            alice.click("#decide")
            alice.wait_for_url(base + "/review/")
            assert "approved" in alice.inner_text(".flash")
            assert alice.locator(f"tr[data-case='{case_id}']").count() == 0
            alice.screenshot(path=str(SHOTS / "04-after-approval.png"), full_page=True)

            alice.goto(f"{base}/review/cases/{case_id}/history")
            history = alice.inner_text("#history")
            assert "review.claimed" in history and "review.approved" in history and "altered" not in history
            alice.screenshot(path=str(SHOTS / "05-history.png"), full_page=True)
        finally:
            browser.close()

    token = requests.post(base + "/v1/tokens", json={"subject_id": "viewer-42", "audience": "tipping"},
                          headers={"Authorization": f"Bearer {served['api_key']}"}, timeout=10)
    assert token.status_code == 201, token.text
    assert token.json()["token"].count(".") == 2
    verify = subprocess.run([sys.executable, "-m", "gateway.cli", "audit", "verify"], env=served["env"],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
