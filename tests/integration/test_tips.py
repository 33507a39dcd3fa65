"""Tip limits, step-ups, holds and refunds through the HTTP API, on SQLite and PostgreSQL,
with a fixed clock. Platform caps here: 50 yuan a tip, 200 a day, 600 a month."""

from __future__ import annotations

import itertools
import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from gateway import create_app
from tests.conftest import make_services
from tests.support.tipping import blacklist, last_code, make_subject, token_for
from verification import ledger
from verification.models import LedgerPosting, StepUp, TipAccount, TipHold
from verification.sms import OutboxSender, SmsChannel, SmsPolicy

PER_TIP, DAY, MONTH = 5_000, 20_000, 60_000
_keys = itertools.count(1)


@pytest.fixture
def services(db_url, tmp_path, clock, face_engine):
    svc = make_services(db_url, tmp_path, clock, face_engine, limit_per_tip_fen=PER_TIP, limit_day_fen=DAY,
                        limit_month_fen=MONTH, settlement_days=7)
    yield svc
    svc.db.dispose()


@pytest.fixture
def app(services):
    app = create_app({"TESTING": True}, services=services)
    # No per-phone spacing in these tests (the rate limit has its own test below).
    app.extensions["livegate.sms"] = SmsChannel(services, OutboxSender(),
                                                SmsPolicy(max_per_hour=10_000, min_interval_seconds=0))
    return app


@pytest.fixture
def people(services):
    make_subject(services, "anchor-1")
    make_subject(services, "anchor-2")
    make_subject(services, "fan-1")
    return services


def tip(client, auth, svc, amount, *, who="fan-1", key=None, anchor="anchor-1", room="room-9", status=200):
    key = key or f"k{next(_keys)}"
    resp = client.post("/v1/tips/authorize", headers=auth, json={
        "token": token_for(svc, who), "anchor_id": anchor, "room_id": room, "amount_fen": amount,
        "idempotency_key": key})
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    body["_key"] = key
    return body


def confirm(client, auth, step_up_id, code, status=200):
    resp = client.post(f"/v1/step-ups/{step_up_id}/confirm", headers=auth, json={"code": code})
    assert resp.status_code == status, resp.get_json()
    return resp.get_json()


def tip_through(client, auth, svc, amount, **kw):
    """Tip, and if a step-up is asked, confirm it with the code from the outbox and tip again."""
    body = tip(client, auth, svc, amount, **kw)
    if body["decision"] == "step_up_required":
        assert confirm(client, auth, body["step_up_id"], last_code(svc)) == {"confirmed": True}
        kw["key"] = body["_key"]
        body = tip(client, auth, svc, amount, **kw)
    return body


def at(clock, text):
    clock.set(datetime.fromisoformat(text).astimezone(timezone.utc))


# --- per-tip cap, half-cap step-up ---------------------------------------------------------

def test_a_tip_above_the_per_tip_cap_is_denied_and_one_at_the_cap_is_approved(client, auth, people):
    over = tip(client, auth, people, PER_TIP + 1)
    assert (over["decision"], over["reason"]) == ("denied", "per_tip_limit_exceeded")
    assert over["limits"] == {"per_tip": PER_TIP, "day": DAY, "month": MONTH}
    ok = tip(client, auth, people, PER_TIP)
    assert ok["decision"] == "approved" and ok["hold_id"]
    assert ok["spent"] == {"day": PER_TIP, "month": PER_TIP}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'livegate_tip_decisions_total{decision="denied",reason="per_tip_limit_exceeded"}' in metrics


def test_just_below_half_the_daily_cap_needs_no_code_and_exactly_half_does(client, auth, people):
    assert tip(client, auth, people, 5_000)["decision"] == "approved"
    below = tip(client, auth, people, 4_999)  # 9_999: one fen under half of 20_000
    assert below["decision"] == "approved"
    half = tip(client, auth, people, 1)  # 10_000: exactly half
    assert half["decision"] == "step_up_required"
    assert half["reason"] == "half_daily_limit" and half["step_up_id"] and half["hold_id"] is None
    assert "daily cap" in half["reminder"]
    assert half["spent"] == {"day": 9_999, "month": 9_999}  # the pending tip is not counted


def test_confirming_the_code_lets_the_same_key_through_and_the_threshold_is_not_asked_again(
        client, auth, people):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    assert pending["decision"] == "step_up_required"
    again = tip(client, auth, people, 5_000, key=pending["_key"])  # retry before confirming
    assert again["step_up_id"] == pending["step_up_id"] and again["decision"] == "step_up_required"
    assert confirm(client, auth, pending["step_up_id"], last_code(people)) == {"confirmed": True}
    done = tip(client, auth, people, 5_000, key=pending["_key"])
    assert done["decision"] == "approved" and done["spent"]["day"] == 10_000
    assert tip(client, auth, people, 5_000)["decision"] == "approved"  # same day: no second code
    # Replaying the confirmed key answers the approval again without counting it twice.
    assert tip(client, auth, people, 5_000, key=pending["_key"])["hold_id"] == done["hold_id"]
    with people.db.uow() as session:
        assert session.get(TipAccount, 3).day_spent_fen == 15_000


def test_half_the_monthly_cap_asks_for_its_own_code_on_another_day(client, auth, people, clock):
    at(clock, "2026-06-01T10:00:00+08:00")
    for _ in range(4):
        assert tip_through(client, auth, people, 5_000)["decision"] == "approved"  # day 1: 20_000
    at(clock, "2026-06-02T10:00:00+08:00")
    assert tip(client, auth, people, 5_000)["decision"] == "approved"  # 25_000 this month
    crossing = tip(client, auth, people, 5_000)  # 30_000: half of 60_000, and half the day too
    assert crossing["decision"] == "step_up_required" and crossing["reason"] == "half_monthly_limit"
    assert "monthly cap" in crossing["reminder"] and "daily cap" in crossing["reminder"]
    confirm(client, auth, crossing["step_up_id"], last_code(people))
    assert tip(client, auth, people, 5_000, key=crossing["_key"])["decision"] == "approved"
    assert tip(client, auth, people, 5_000)["decision"] == "approved"  # both thresholds confirmed


def test_five_wrong_codes_end_the_step_up_and_the_tip_is_denied(client, auth, people):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    good = last_code(people)
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1):
        assert confirm(client, auth, pending["step_up_id"], wrong) == {"confirmed": False, "attempts_left": left}
    ended = confirm(client, auth, pending["step_up_id"], wrong, status=410)
    assert ended["error"] == "step_up_locked"
    assert confirm(client, auth, pending["step_up_id"], good, status=410)["error"] == "step_up_locked"
    denied = tip(client, auth, people, 5_000, key=pending["_key"])
    assert (denied["decision"], denied["reason"]) == ("denied", "step_up_locked")


def test_an_expired_code_cannot_confirm(client, auth, people, clock):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    clock.advance(minutes=5)
    assert confirm(client, auth, pending["step_up_id"], last_code(people), status=410)["error"] == \
        "step_up_expired"
    assert tip(client, auth, people, 5_000, key=pending["_key"])["reason"] == "step_up_expired"


def test_a_step_up_left_sending_by_a_dead_process_gets_a_new_code_on_retry(client, auth, people, clock):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    with people.db.uow() as session:  # as if the process died between storing and sending the code
        session.get(StepUp, pending["step_up_id"]).state = "sending"
        session.commit()
    assert tip(client, auth, people, 5_000, key=pending["_key"])["step_up_id"] == pending["step_up_id"]
    clock.advance(seconds=61)
    retried = tip(client, auth, people, 5_000, key=pending["_key"])
    assert retried["decision"] == "step_up_required" and retried["step_up_id"] != pending["step_up_id"]
    with people.db.uow() as session:
        assert session.get(StepUp, pending["step_up_id"]).state == "send_failed"
    confirm(client, auth, retried["step_up_id"], last_code(people))
    assert tip(client, auth, people, 5_000, key=pending["_key"])["decision"] == "approved"


def test_a_confirmed_tip_is_still_denied_if_the_cap_filled_up_meanwhile(client, auth, people):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    confirm(client, auth, pending["step_up_id"], last_code(people))
    for _ in range(3):  # other tips use the confirmed threshold and fill the day
        assert tip(client, auth, people, 5_000)["decision"] == "approved"
    late = tip(client, auth, people, 5_000, key=pending["_key"])
    assert (late["decision"], late["reason"]) == ("denied", "daily_limit_reached")


def test_a_malformed_code_or_unknown_step_up_is_a_clear_error(client, auth, people):
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    assert confirm(client, auth, pending["step_up_id"], "12ab", status=400)["error"] == "invalid_request"
    assert confirm(client, auth, "not-a-step-up", "123456", status=404)["error"] == "step_up_not_found"


def test_the_code_is_not_stored_in_plaintext_nor_logged(client, auth, people, caplog):
    caplog.set_level(logging.DEBUG)
    tip(client, auth, people, 5_000)
    pending = tip(client, auth, people, 5_000)
    code = last_code(people)
    with people.db.uow() as session:
        step = session.get(StepUp, pending["step_up_id"])
        assert code.encode() not in step.secret_enc
        from verification.models import SmsMessage

        for message in session.scalars(select(SmsMessage)):
            assert code.encode() not in (message.body_enc or b"")
            assert b"8613800138000" not in message.phone_enc
    assert code not in caplog.text


# --- the caps and the calendar ---------------------------------------------------------------

def test_at_the_daily_cap_tipping_is_suspended_until_midnight_in_shanghai(client, auth, people, clock):
    at(clock, "2026-06-15T15:30:00+00:00")  # 23:30 in Shanghai
    for _ in range(4):
        assert tip_through(client, auth, people, 5_000)["decision"] == "approved"
    clock.set(datetime(2026, 6, 15, 15, 59, 59, tzinfo=timezone.utc))
    denied = tip(client, auth, people, 100)
    assert (denied["decision"], denied["reason"]) == ("denied", "daily_limit_reached")
    assert denied["resets_at"] == "2026-06-15T16:00:00Z"
    resp = client.post("/v1/tips/authorize", headers=auth, json={
        "token": token_for(people, "fan-1"), "anchor_id": "anchor-1", "room_id": "r", "amount_fen": 100,
        "idempotency_key": "retry-after-check"})
    assert int(resp.headers["Retry-After"]) >= 1
    clock.set(datetime(2026, 6, 15, 16, 0, 0, tzinfo=timezone.utc))  # 00:00 on the 16th in Shanghai
    fresh = tip(client, auth, people, 100)
    assert fresh["decision"] == "approved" and fresh["spent"]["day"] == 100


def test_a_tip_that_would_go_over_the_daily_cap_is_denied_without_suspending(client, auth, people):
    for amount in (5_000, 5_000, 5_000, 4_000):
        tip_through(client, auth, people, amount)
    over = tip(client, auth, people, 1_001)  # 19_000 + 1_001 > 20_000
    assert (over["decision"], over["reason"], over["remaining_fen"]) == ("denied", "exceeds_daily_limit", 1_000)
    assert tip(client, auth, people, 1_000)["decision"] == "approved"


def test_the_day_does_not_turn_at_utc_midnight(client, auth, people, clock):
    at(clock, "2026-06-15T23:00:00+00:00")  # 07:00 on the 16th in Shanghai
    for _ in range(4):
        tip_through(client, auth, people, 5_000)
    at(clock, "2026-06-16T00:30:00+00:00")  # UTC has a new day, Shanghai does not
    assert tip(client, auth, people, 100)["reason"] == "daily_limit_reached"


def test_the_monthly_cap_suspends_until_the_first_of_march_local_time(client, auth, people, clock):
    for day in (26, 27, 28):  # February 2027 has 28 days
        at(clock, f"2027-02-{day}T09:00:00+08:00")
        for _ in range(4):
            assert tip_through(client, auth, people, 5_000)["decision"] == "approved"
    at(clock, "2027-02-28T23:59:00+08:00")
    denied = tip(client, auth, people, 100)
    assert (denied["reason"], denied["resets_at"]) == ("monthly_limit_reached", "2027-02-28T16:00:00Z")
    at(clock, "2027-03-01T00:00:00+08:00")
    fresh = tip(client, auth, people, 100)
    assert fresh["decision"] == "approved" and fresh["spent"] == {"day": 100, "month": 100}


def test_in_a_leap_year_february_has_a_29th_inside_the_month(client, auth, people, clock):
    at(clock, "2028-02-01T09:00:00+08:00")
    make_subject(people, "fan-2028", phone="+8613800138028")
    for day in (27, 28, 29):
        at(clock, f"2028-02-{day}T09:00:00+08:00")
        for _ in range(4):
            assert tip_through(client, auth, people, 5_000, who="fan-2028")["decision"] == "approved"
    at(clock, "2028-02-29T12:00:00+08:00")
    denied = tip(client, auth, people, 100, who="fan-2028")
    assert (denied["reason"], denied["resets_at"]) == ("monthly_limit_reached", "2028-02-29T16:00:00Z")


# --- who may tip whom ---------------------------------------------------------------------------

def test_a_minor_may_not_tip(client, auth, people, clock):
    today = clock.now().date()
    make_subject(people, "teen", birth_date=date(today.year - 17, 1, 1), phone="+8613800138001")
    denied = tip(client, auth, people, 100, who="teen")
    assert (denied["decision"], denied["reason"]) == ("denied", "minor")


def test_a_subject_whose_verification_lapsed_is_denied_as_not_verified(client, auth, people, clock):
    make_subject(people, "lapsing", approval_days=1 / 24, phone="+8613800138002")
    clock.advance(minutes=50)
    token = token_for(people, "lapsing")  # still verified; the token lives 15 minutes
    clock.advance(minutes=10)  # the approval lapses at the hour, the token is still alive
    resp = client.post("/v1/tips/authorize", headers=auth, json={
        "token": token, "anchor_id": "anchor-1", "room_id": "r", "amount_fen": 100, "idempotency_key": "lapse"})
    assert resp.status_code == 200
    assert (resp.get_json()["decision"], resp.get_json()["reason"]) == ("denied", "not_verified")


def test_an_unverified_subject_cannot_get_a_tipping_token(client, auth, people):
    make_subject(people, "nobody", verified=False, phone="+8613800138003")
    resp = client.post("/v1/tokens", headers=auth, json={"subject_id": "nobody", "audience": "tipping"})
    assert (resp.status_code, resp.get_json()["error"]) == (403, "not_verified")


def test_a_blacklisted_anchor_gets_no_tips(client, auth, people):
    blacklist(people, "anchor-2")
    denied = tip(client, auth, people, 100, anchor="anchor-2")
    assert (denied["decision"], denied["reason"]) == ("denied", "anchor_blacklisted")
    assert tip(client, auth, people, 100, anchor="someone-unknown")["reason"] == "anchor_unknown"


def test_a_token_for_another_audience_or_garbage_is_refused(client, auth, people):
    for token in ("garbage", token_for(people, "fan-1", "broadcasting")):
        resp = client.post("/v1/tips/authorize", headers=auth, json={
            "token": token, "anchor_id": "anchor-1", "room_id": "r", "amount_fen": 100, "idempotency_key": "x"})
        assert resp.status_code == 401 and resp.get_json()["error"].startswith("token")


@pytest.mark.parametrize("body, field", [
    ({"amount_fen": 0}, "amount_fen"), ({"amount_fen": 1.5}, "amount_fen"), ({"amount_fen": True}, "amount_fen"),
    ({"idempotency_key": ""}, "idempotency_key"), ({"idempotency_key": "has space"}, "idempotency_key"),
    ({"anchor_id": None}, "anchor_id"), ({"room_id": "x" * 129}, "room_id"),
])
def test_bad_tip_requests_get_a_400_naming_the_field(client, auth, people, body, field):
    base = {"token": token_for(people, "fan-1"), "anchor_id": "anchor-1", "room_id": "r", "amount_fen": 100,
            "idempotency_key": "k"}
    base.update(body)
    resp = client.post("/v1/tips/authorize", headers=auth, json=base)
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_tipping_needs_the_tips_scope(client, people):
    from verification.clients import create_client

    with people.db.uow() as session:
        key = create_client(people, session, "cases-only", ["cases"])
        session.commit()
    resp = client.post("/v1/tips/authorize", headers={"Authorization": f"Bearer {key}"}, json={})
    assert resp.status_code == 403


# --- idempotency ----------------------------------------------------------------------------------

def test_a_retried_key_gets_the_first_answer_and_counts_once(client, auth, people):
    first = tip(client, auth, people, 3_000, key="same")
    second = tip(client, auth, people, 3_000, key="same")
    assert {k: v for k, v in first.items() if k != "_key"} == {k: v for k, v in second.items() if k != "_key"}
    with people.db.uow() as session:
        assert session.scalar(select(TipAccount.day_spent_fen)) == 3_000
        assert len(session.scalars(select(TipHold)).all()) == 1


def test_a_key_reused_for_a_different_tip_is_a_conflict(client, auth, people):
    tip(client, auth, people, 3_000, key="dup")
    assert tip(client, auth, people, 3_001, key="dup", status=409)["error"] == "idempotency_key_reused"


# --- self-limits ------------------------------------------------------------------------------------

def test_a_stricter_self_limit_applies_at_once_and_a_looser_one_next_day(client, auth, people, clock):
    resp = client.put("/v1/subjects/fan-1/tip-limits", headers=auth, json={"day_fen": 6_000})
    assert resp.status_code == 200 and resp.get_json()["limits"]["day"] == 6_000
    assert tip(client, auth, people, 2_000)["decision"] == "approved"
    pending = tip(client, auth, people, 1_000)  # 3_000: half of the own cap
    assert pending["decision"] == "step_up_required"
    confirm(client, auth, pending["step_up_id"], last_code(people))
    tip(client, auth, people, 1_000, key=pending["_key"])
    assert tip(client, auth, people, 3_000)["decision"] == "approved"
    assert tip(client, auth, people, 1)["reason"] == "daily_limit_reached"
    raised = client.put("/v1/subjects/fan-1/tip-limits", headers=auth, json={"day_fen": None}).get_json()
    assert raised["limits"]["day"] == 6_000 and raised["pending"]["changes"] == {"day": None}
    at(clock, "2026-06-16T00:00:00+08:00")
    assert tip(client, auth, people, 100)["limits"]["day"] == DAY


def test_a_self_limit_above_the_platform_cap_is_refused(client, auth, people):
    resp = client.put("/v1/subjects/fan-1/tip-limits", headers=auth, json={"per_tip_fen": PER_TIP + 1})
    assert resp.status_code == 400 and resp.get_json()["field"] == "per_tip_fen"


# --- holds, settlement, refunds, the books -------------------------------------------------------------

def test_holds_settle_after_the_settlement_period_and_not_before(client, auth, people, clock):
    hold = tip(client, auth, people, 4_000)["hold_id"]
    clock.advance(days=6, hours=23)
    assert ledger.settle_due(people, clock.now()).holds == 0
    clock.advance(hours=1)
    report = ledger.settle_due(people, clock.now())
    assert (report.holds, report.fen) == (1, 4_000)
    with people.db.uow() as session:
        assert session.get(TipHold, hold).state == "settled"
        balances = dict(session.execute(select(LedgerPosting.account, LedgerPosting.amount_fen)
                                        .where(LedgerPosting.account == "payable:anchor-1")).all())
        assert balances == {"payable:anchor-1": 4_000}
        assert ledger.check(session).balanced


def test_unlawful_conduct_refunds_each_sender_exactly_what_they_sent(client, auth, people, clock):
    make_subject(people, "fan-2", phone="+8613800138005")
    make_subject(people, "fan-3", phone="+8613800138006")
    sent = {"fan-1": [1_234, 2_000], "fan-2": [777], "fan-3": [4_999, 1]}
    for who, amounts in sent.items():
        for amount in amounts:
            assert tip(client, auth, people, amount, who=who)["decision"] == "approved"
    other = tip(client, auth, people, 500, who="fan-2", anchor="anchor-2")["hold_id"]
    settled_early = tip(client, auth, people, 300, who="fan-3")["hold_id"]
    with people.db.uow() as session:  # one older hold was already settled: it is not refunded
        session.get(TipHold, settled_early).settle_after = clock.now()
        session.commit()
    assert ledger.settle_due(people, clock.now()).holds == 1

    resp = client.post("/v1/anchors/anchor-1/violations", headers=auth,
                       json={"kind": "unlawful_conduct", "note": "fraudulent gift campaign"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["refunded_holds"] == 5 and body["refunded_fen"] == sum(map(sum, sent.values()))
    assert {r["subject_id"]: r["refunded_fen"] for r in body["refunds"]} == \
        {who: sum(amounts) for who, amounts in sent.items()}
    with people.db.uow() as session:
        assert session.get(TipHold, other).state == "held"
        assert ledger.check(session).balanced
    again = client.post("/v1/anchors/anchor-1/violations", headers=auth, json={"kind": "unlawful_conduct"})
    assert again.get_json()["refunded_fen"] == 0


def test_a_violation_that_is_not_unlawful_refunds_nothing(client, auth, people):
    tip(client, auth, people, 1_000)
    body = client.post("/v1/anchors/anchor-1/violations", headers=auth, json={"kind": "vulgar_content"}).get_json()
    assert (body["refund"], body["refunded_holds"], body["refunded_fen"]) == (False, 0, 0)
    resp = client.post("/v1/anchors/anchor-1/violations", headers=auth, json={"kind": "bad"})
    assert resp.status_code == 400 and resp.get_json()["field"] == "kind"


def test_the_ledger_check_finds_a_tampered_posting(client, auth, people):
    tip(client, auth, people, 1_000)
    with people.db.uow() as session:
        assert ledger.check(session).balanced
        posting = session.scalars(select(LedgerPosting).where(LedgerPosting.amount_fen > 0)).first()
        posting.amount_fen += 1
        session.commit()
    with people.db.uow() as session:
        report = ledger.check(session)
    assert not report.balanced and any("sums to" in p for p in report.problems)


def test_threads_tipping_at_once_in_one_process_never_pass_the_daily_cap(app, auth, people):
    client = app.test_client()
    tip_through(client, auth, people, 5_000)
    tip_through(client, auth, people, 5_000)  # 10_000: the half-cap code is behind us
    token = token_for(people, "fan-1")

    def fire(n):
        c = app.test_client()
        amount = random.Random(n).randint(500, 5_000)
        resp = c.post("/v1/tips/authorize", headers=auth, json={
            "token": token, "anchor_id": "anchor-1", "room_id": "r", "amount_fen": amount,
            "idempotency_key": f"thread-{n}"})
        return resp.status_code, resp.get_json(), amount

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(fire, range(48)))
    assert all(status == 200 for status, _, _ in results)
    approved = sum(amount for _, body, amount in results if body["decision"] == "approved")
    with people.db.uow() as session:
        spent = session.scalar(select(TipAccount.day_spent_fen))
        held = sum(session.scalars(select(TipHold.amount_fen)))
        assert ledger.check(session).balanced
    assert spent == held == 10_000 + approved and spent <= DAY
