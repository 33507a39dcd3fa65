"""The reviewer pages for category changes, prior reports and the concern list in a real headless
Chromium against a real `livegate serve` process (the review UI's browser set-up, issue 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, SECRET, make_services
from tests.support.server import reviewers_and_server
from tests.functional.test_review_browser import ARGS, CHROMIUM, first_login
from tests.support.anchors import seed_verified
from verification import anchors, concerns, rooms
from verification.clock import SystemClock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ROOT / "artifacts" / "anchors"


@pytest.fixture
def db_url(tmp_path):
    """One real server process on one SQLite file (the store tests cover PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'livegate.db'}"


@pytest.fixture
def served(db_url, tmp_path):
    """Rooms, a category change, a prior report and concern flags; then `livegate serve` on loopback."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have Debian's chromium at {CHROMIUM} (scripts/install.sh --test installs it)")
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (scripts/install.sh --test installs it)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    svc = make_services(db_url, tmp_path, SystemClock(), None)
    from verification.clients import create_client

    with svc.db.uow() as s:
        seed_verified(svc, s, "anchor-1")
        seed_verified(svc, s, "star-1")
        rooms.register_room(svc, s, room_id="R1", anchor_id="anchor-1", category="music")
        rooms.request_category_change(svc, s, "R1", "dance", "a new dance show")
        rooms.register_room(svc, s, room_id="R2", anchor_id="star-1", category="game")
        anchors.set_profile(svc, s, "star-1", celebrity=True, agent="StarAgency")
        anchors.file_prior_report(svc, s, "star-1", "celebrity", "film actor, first live show")
        concerns.flag(svc, s, target_type="room", target_id="R77", rule="high_click_through", note="10x median")
        concerns.flag(svc, s, target_type="agent", target_id="StarAgency", rule="manual", note="hired clicks")
        api_key = create_client(svc, s, "platform", ["tokens", "broadcasts"])
        s.commit()
    svc.db.dispose()
    env = {**os.environ, "LIVEGATE_DATABASE_URL": db_url, "LIVEGATE_SECRET_KEY": SECRET.hex(),
           "LIVEGATE_INSTANCE": str(tmp_path / "instance"), "LIVEGATE_LIVENESS": "off"}
    with reviewers_and_server(env) as (base, passwords):
        yield {"base": base, "api": {"Authorization": f"Bearer {api_key}"}, "passwords": passwords, "env": env}


def go_live(served, anchor: str, room: str, category: str) -> dict:
    base, api = served["base"], served["api"]
    token = requests.post(base + "/v1/tokens", json={"subject_id": anchor, "audience": "broadcasting"},
                          headers=api, timeout=10).json()["token"]
    return requests.post(base + "/v1/broadcasts/authorize", json={"token": token, "room_id": room,
                                                                 "category": category},
                         headers=api, timeout=10).json()


def test_reviewers_decide_category_changes_and_prior_reports_and_work_the_concern_list(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    base = served["base"]
    assert go_live(served, "anchor-1", "R1", "dance")["reason"] == "category_mismatch"
    assert go_live(served, "star-1", "R2", "game")["reason"] == "prior_report_required"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            alice = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
            bob = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            first_login(alice, base, "alice", served["passwords"]["alice"])

            # Category changes: the reviewer approves R1's move from music to dance.
            alice.click("#nav-category-changes")
            alice.wait_for_url(base + "/review/category-changes")
            row = alice.locator("#category-changes tr[data-room='R1']")
            assert row.count() == 1 and "Music" in row.inner_text() and "Dance" in row.inner_text()
            alice.screenshot(path=str(SHOTS / "01-category-changes.png"), full_page=True)
            row.locator("input[name=note]").fill("the room shows dance now")
            row.locator("button.approve").click()
            alice.wait_for_url(base + "/review/category-changes")
            assert "R1: change to dance approved" in alice.inner_text(".flash")
            assert alice.locator("#changes-empty").count() == 1
            assert "approved" in alice.inner_text("#recent-changes")
            alice.screenshot(path=str(SHOTS / "02-category-approved.png"), full_page=True)

            # Prior reports: a reviewer sees the report but a supervisor decides it.
            alice.click("#nav-prior-reports")
            alice.wait_for_url(base + "/review/prior-reports")
            row = alice.locator("#prior-reports tr[data-anchor='star-1']")
            assert "film actor" in row.inner_text() and row.locator("button.approve").count() == 0
            assert "a supervisor decides" in row.inner_text()
            first_login(bob, base, "bob", served["passwords"]["bob"])
            bob.click("#nav-prior-reports")
            bob.wait_for_url(base + "/review/prior-reports")
            bob.screenshot(path=str(SHOTS / "03-prior-reports.png"), full_page=True)
            bob.locator("#prior-reports tr[data-anchor='star-1'] button.approve").click()
            bob.wait_for_url(base + "/review/prior-reports")
            assert "celebrity report of star-1 is approved" in bob.inner_text(".flash")
            assert bob.locator("#reports-empty").count() == 1

            # The concern list: both lists, the written report as a download, clearing a flag.
            alice.click("#nav-concerns")
            alice.wait_for_url(base + "/review/concerns")
            assert alice.locator("#concern-list tr[data-target='agent:StarAgency']").count() == 1
            assert alice.locator("#monitoring-list tr[data-target='room:R77']").count() == 1
            assert alice.locator("#scan").count() == 0  # running the rules is a supervisor's button
            alice.screenshot(path=str(SHOTS / "04-concerns.png"), full_page=True)
            with alice.expect_download() as info:
                alice.click("#download-report")
            text = Path(info.value.path()).read_text(encoding="utf-8")
            assert "agent StarAgency: manual" in text and "room R77: high click through" in text
            assert text.rstrip().endswith("2 open flag(s).")
            row = alice.locator("#monitoring-list tr[data-target='room:R77']")
            row.locator("input[name=note]").fill("a festival sale: expected")
            row.locator("button.clear").click()
            alice.wait_for_url(base + "/review/concerns")
            assert "Room R77 is off the list" in alice.inner_text(".flash")
            assert alice.locator("#monitoring-list tr[data-target='room:R77']").count() == 0
            alice.screenshot(path=str(SHOTS / "05-concern-cleared.png"), full_page=True)
        finally:
            browser.close()

    # What the pages decided is what the gate now does.
    assert go_live(served, "anchor-1", "R1", "dance")["decision"] == "allowed"
    assert go_live(served, "star-1", "R2", "game")["decision"] == "allowed"
    verify = subprocess.run([sys.executable, "-m", "gateway.cli", "audit", "verify"], env=served["env"],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr
