"""`livegate settle`, `livegate outbox` and `livegate ledger check` on a real store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.cli import main
from tests.conftest import SECRET, make_services
from tests.support.tipping import make_subject, token_for
from verification import limits
from verification.models import LedgerPosting, TipHold
from verification.sms import OutboxSender, SmsChannel, SmsPolicy

PHONE = "+8613800138000"


@pytest.fixture
def svc(db_url, tmp_path, clock, face_engine, monkeypatch):
    svc = make_services(db_url, tmp_path, clock, face_engine, limit_day_fen=20_000, settlement_days=7)
    monkeypatch.setenv("LIVEGATE_DATABASE_URL", db_url)
    monkeypatch.setenv("LIVEGATE_SECRET_KEY", SECRET.hex())
    monkeypatch.setenv("LIVEGATE_INSTANCE", str(tmp_path / "instance"))
    make_subject(svc, "anchor-1")
    make_subject(svc, "fan-1", phone=PHONE)
    yield svc
    svc.db.dispose()


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def tip(svc, amount, key):
    from verification.clients import create_client

    with svc.db.uow() as session:
        client = create_client(svc, session, f"c-{key}", ["tips"])
        session.commit()
    from verification.clients import authenticate

    with svc.db.uow() as session:
        client_id = authenticate(session, client).id
    channel = SmsChannel(svc, OutboxSender(), SmsPolicy(min_interval_seconds=0))
    return limits.authorize_tip(svc, channel, client_id, limits.TipRequest(
        token_for(svc, "fan-1"), "anchor-1", "room-1", amount, key))


def test_settle_releases_only_the_holds_whose_time_has_come(svc, clock, capsys):
    tip(svc, 1_500, "a")
    clock.advance(days=2)
    tip(svc, 2_500, "b")
    at = (clock.now() + timedelta(days=6)).isoformat()  # 8 days after the first, 6 after the second
    code, out, _ = run(capsys, "settle", "--now", at)
    assert code == 0 and out.startswith("settled 1 hold(s), 1500 fen")
    with svc.db.uow() as session:
        assert sorted(session.scalars(select(TipHold.state))) == ["held", "settled"]
    assert run(capsys, "settle", "--now", at)[1].startswith("settled 0 hold(s)")


@pytest.mark.parametrize("bad", ["yesterday", "2026-07-01T00:00:00"])
def test_settle_with_a_bad_time_says_so_in_one_line(svc, capsys, bad):
    code, out, err = run(capsys, "settle", "--now", bad)
    assert code == 2 and err.count("\n") == 1 and "--now" in err and "Traceback" not in err


def test_outbox_shows_the_step_up_message_newest_first(svc, capsys):
    tip(svc, 5_000, "a")
    answer = tip(svc, 5_000, "b")
    assert answer["decision"] == "step_up_required"
    code, out, _ = run(capsys, "outbox", "--to", PHONE, "--last", "5", "--json")
    assert code == 0
    [message] = [json.loads(line) for line in out.splitlines()]
    assert message["to"] == PHONE and message["purpose"] == "tip_step_up"
    assert "LiveGate: " in message["body"] and "daily cap" in message["body"]
    code, out, _ = run(capsys, "outbox")
    assert code == 0 and PHONE in out
    code, out, err = run(capsys, "outbox", "--to", "+8613900000000")
    assert code == 0 and out == "" and "no messages" in err


def test_ledger_check_passes_on_good_books_and_fails_naming_the_problem(svc, capsys):
    tip(svc, 1_000, "a")
    code, out, _ = run(capsys, "ledger", "check")
    assert code == 0 and "ledger balanced" in out and "held 1000 fen" in out
    with svc.db.uow() as session:
        session.scalars(select(LedgerPosting)).first().amount_fen += 7
        session.commit()
    code, out, _ = run(capsys, "ledger", "check")
    assert code == 1 and "ledger problem" in out
