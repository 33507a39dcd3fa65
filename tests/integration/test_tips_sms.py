"""Step-up codes through the real twilio SDK against a fake Twilio server on loopback, its
error answers, retries, and the per-phone rate limit; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy import select

from gateway import create_app
from tests.conftest import make_services
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, DROP, FROM, FakeTwilio
from tests.support.tipping import last_code, make_subject, token_for
from verification.models import SmsMessage, TipAccount, TipHold
from verification.sms import OutboxSender, SmsChannel, SmsPolicy, build_sender

PHONE = "+8613800138000"


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def _services(db_url, tmp_path, clock, face_engine, **extra):
    return make_services(db_url, tmp_path, clock, face_engine, limit_per_tip_fen=5_000, limit_day_fen=10_000,
                         limit_month_fen=60_000, **extra)


@pytest.fixture
def twilio_services(db_url, tmp_path, clock, face_engine, fake_twilio):
    svc = _services(db_url, tmp_path, clock, face_engine, sms_backend="twilio", twilio_account_sid=ACCOUNT_SID,
                    twilio_auth_token=AUTH_TOKEN, twilio_from=FROM, twilio_base_url=fake_twilio.url)
    make_subject(svc, "anchor-1")
    make_subject(svc, "fan-1", phone=PHONE)
    yield svc
    svc.db.dispose()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def twilio_client(twilio_services, sleeps):
    app = create_app({"TESTING": True}, services=twilio_services)
    # The real Twilio sender from the settings; only the waiting between retries is recorded, not slept.
    app.extensions["livegate.sms"] = SmsChannel(twilio_services, build_sender(twilio_services),
                                                SmsPolicy(min_interval_seconds=0, max_per_hour=100),
                                                sleep=sleeps.append)
    return app.test_client()


@pytest.fixture
def key(twilio_services):
    from verification.clients import create_client

    with twilio_services.db.uow() as session:
        k = create_client(twilio_services, session, "tipping", ["tips"])
        session.commit()
    return {"Authorization": f"Bearer {k}"}


def authorize(client, headers, svc, amount=5_000, key="tip-1"):
    return client.post("/v1/tips/authorize", headers=headers, json={
        "token": token_for(svc, "fan-1"), "anchor_id": "anchor-1", "room_id": "r1", "amount_fen": amount,
        "idempotency_key": key})


def test_the_code_goes_out_through_twilio_and_confirms_the_tip(twilio_client, key, twilio_services, fake_twilio,
                                                               caplog):
    caplog.set_level(logging.DEBUG)
    resp = authorize(twilio_client, key, twilio_services)
    assert resp.get_json()["decision"] == "step_up_required"
    [sent] = fake_twilio.requests
    assert sent["form"]["To"] == PHONE and sent["form"]["From"] == FROM
    code = sent["form"]["Body"].split("LiveGate: ", 1)[1][:6]
    assert "daily cap" in sent["form"]["Body"]
    assert code not in caplog.text  # neither our logs nor the SDK's (at any level) carry the code
    step = resp.get_json()["step_up_id"]
    assert twilio_client.post(f"/v1/step-ups/{step}/confirm", headers=key, json={"code": code}).get_json() == \
        {"confirmed": True}
    assert authorize(twilio_client, key, twilio_services).get_json()["decision"] == "approved"
    with twilio_services.db.uow() as session:
        [message] = session.scalars(select(SmsMessage)).all()
        assert (message.status, message.backend, message.body_enc) == ("sent", "twilio", None)
        assert message.provider_id.startswith("SM")


@pytest.mark.parametrize("twilio_code", [21211, 21614])
def test_an_invalid_number_fails_at_once_without_retry_and_the_tip_stays_pending(
        twilio_client, key, twilio_services, fake_twilio, sleeps, twilio_code):
    fake_twilio.script = [(400, twilio_code)]
    resp = authorize(twilio_client, key, twilio_services)
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "sms_undeliverable" and str(twilio_code) in resp.get_json()["message"]
    assert len(fake_twilio.requests) == 1 and sleeps == []
    with twilio_services.db.uow() as session:  # nothing counted, nothing held: no way around the code
        assert session.scalar(select(TipAccount.day_spent_fen)) == 0
        assert session.scalars(select(TipHold)).all() == []
        assert session.scalar(select(SmsMessage.status)) == "failed"
    # Once the number works, the same key gets a fresh code.
    retry = authorize(twilio_client, key, twilio_services)
    assert retry.get_json()["decision"] == "step_up_required" and len(fake_twilio.requests) == 2


@pytest.mark.parametrize("failures", [[(503, 20500), (503, 20500)], [(429, 20429)], [DROP, (500, 20500)]])
def test_transient_errors_are_retried_with_growing_backoff(twilio_client, key, twilio_services, fake_twilio,
                                                           sleeps, failures):
    fake_twilio.script = list(failures)
    resp = authorize(twilio_client, key, twilio_services)
    assert resp.get_json()["decision"] == "step_up_required"
    assert len(fake_twilio.requests) == len(failures) + 1
    assert len(sleeps) == len(failures)
    assert all(0 < s <= 2.0 for s in sleeps)
    with twilio_services.db.uow() as session:
        assert session.scalar(select(SmsMessage.attempts)) == len(failures) + 1


def test_a_provider_that_keeps_failing_gives_up_after_three_tries(twilio_client, key, twilio_services,
                                                                   fake_twilio, sleeps):
    fake_twilio.script = [(500, 20500)] * 5
    resp = authorize(twilio_client, key, twilio_services)
    assert resp.status_code == 503 and resp.get_json()["error"] == "sms_unavailable"
    assert "Retry-After" in resp.headers
    assert len(fake_twilio.requests) == 3 and len(sleeps) == 2
    with twilio_services.db.uow() as session:
        assert session.scalar(select(TipAccount.day_spent_fen)) == 0


def test_an_unreachable_provider_is_a_transient_failure(db_url, tmp_path, clock, face_engine):
    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    svc = _services(db_url, tmp_path, clock, face_engine, sms_backend="twilio", twilio_account_sid=ACCOUNT_SID,
                    twilio_auth_token=AUTH_TOKEN, twilio_from=FROM, twilio_base_url=f"http://127.0.0.1:{port}")
    try:
        slept = []
        channel = SmsChannel(svc, build_sender(svc), SmsPolicy(min_interval_seconds=0), sleep=slept.append)
        from verification.errors import SmsUnavailable

        with pytest.raises(SmsUnavailable):
            channel.send(PHONE, "hello", "test")
        assert len(slept) == 2
    finally:
        svc.db.dispose()


def test_sends_to_one_phone_are_rate_limited(db_url, tmp_path, clock, face_engine):
    svc = _services(db_url, tmp_path, clock, face_engine)
    try:
        make_subject(svc, "anchor-1")
        make_subject(svc, "fan-1", phone=PHONE)
        app = create_app({"TESTING": True}, services=svc)
        app.extensions["livegate.sms"] = SmsChannel(svc, OutboxSender(), SmsPolicy(max_per_hour=3,
                                                                                    min_interval_seconds=30))
        client = app.test_client()
        from verification.clients import create_client

        with svc.db.uow() as session:
            headers = {"Authorization": f"Bearer {create_client(svc, session, 't', ['tips'])}"}
            session.commit()
        assert authorize(client, headers, svc, key="a").get_json()["decision"] == "step_up_required"
        too_soon = authorize(client, headers, svc, key="b")
        assert too_soon.status_code == 429 and too_soon.get_json()["error"] == "sms_rate_limited"
        assert "Retry-After" in too_soon.headers
        for k in ("c", "d"):
            clock.advance(seconds=31)
            assert authorize(client, headers, svc, key=k).get_json()["decision"] == "step_up_required"
        clock.advance(seconds=31)
        hourly = authorize(client, headers, svc, key="e")
        assert hourly.status_code == 429 and "hour" in hourly.get_json()["message"]
        clock.advance(hours=1)
        assert authorize(client, headers, svc, key="e").get_json()["decision"] == "step_up_required"
        last_code(svc, PHONE)  # the outbox shows the newest code for the phone
    finally:
        svc.db.dispose()
