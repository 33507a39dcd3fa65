"""Blacklisting and the tips ledger, violations in the rating file, and the concern rules over real tips
(through the HTTP API, on SQLite and PostgreSQL, with a fixed clock)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.integration.test_tips import tip
from tests.support.tipping import make_subject
from verification import anchors, ledger
from verification.models import LedgerPosting, Subject, TipHold


@pytest.fixture
def people(services):
    for name, phone in (("anchor-1", "+8613800138001"), ("anchor-2", "+8613800138002"),
                        ("fan-1", "+8613800138011"), ("fan-2", "+8613800138012"), ("fan-3", "+8613800138013")):
        make_subject(services, name, phone=phone)
    return services


def second_account_of(svc, account: str, other: str) -> None:
    """``other`` is a second platform account of the person behind ``account`` (same identity)."""
    make_subject(svc, other)
    with svc.db.uow() as session:
        first = session.scalar(select(Subject).where(Subject.external_id == account))
        session.scalar(select(Subject).where(Subject.external_id == other)).identity_id = first.identity_id
        session.commit()


def tipper_balance(svc, who: str) -> int:
    with svc.db.uow() as session:
        row_id = session.scalar(select(Subject.id).where(Subject.external_id == who))
        return int(session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0))
                                  .where(LedgerPosting.account == f"tipper:{row_id}")))


def test_blacklisting_for_unlawful_conduct_refunds_every_unsettled_hold_of_every_account_of_the_person(
        client, auth, people):
    second_account_of(people, "anchor-1", "anchor-1-alt")
    tip(client, auth, people, 1_000, who="fan-1")
    tip(client, auth, people, 2_000, who="fan-2")
    tip(client, auth, people, 500, who="fan-1", anchor="anchor-1-alt")
    other = tip(client, auth, people, 700, who="fan-3", anchor="anchor-2")["hold_id"]

    resp = client.post("/v1/anchors/anchor-1/blacklist", json={"kind": "fraud", "note": "fake lottery"},
                       headers=auth)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["accounts_blocked"] == ["anchor-1", "anchor-1-alt"]
    assert (body["refunded_holds"], body["refunded_fen"], body["frozen_holds"]) == (3, 3_500, 0)
    assert tipper_balance(people, "fan-1") == 0 and tipper_balance(people, "fan-2") == 0
    assert tipper_balance(people, "fan-3") == -700
    with people.db.uow() as session:
        assert session.get(TipHold, other).state == "held"
        states = session.scalars(select(TipHold.state).where(TipHold.anchor_id.in_(["anchor-1", "anchor-1-alt"])))
        assert set(states) == {"refunded"}
        assert ledger.check(session).balanced


def test_blacklisting_for_another_kind_freezes_the_holds_and_settlement_pays_nothing_out(
        client, auth, people, clock):
    frozen = tip(client, auth, people, 1_000, who="fan-1")["hold_id"]
    other = tip(client, auth, people, 700, who="fan-2", anchor="anchor-2")["hold_id"]
    body = client.post("/v1/anchors/anchor-1/blacklist", json={"kind": "vulgar_content"}, headers=auth).get_json()
    assert (body["refunded_fen"], body["frozen_holds"], body["frozen_fen"]) == (0, 1, 1_000)

    clock.advance(days=people.settings.settlement_days + 1)
    report = ledger.settle_due(people, clock.now())
    assert (report.holds, report.fen) == (1, 700)
    with people.db.uow() as session:
        assert session.get(TipHold, frozen).state == "held" and session.get(TipHold, other).state == "settled"
        assert ledger.check(session).balanced
    # Found unlawful later: the frozen money goes back to the sender.
    later = client.post("/v1/anchors/anchor-1/violations", json={"kind": "unlawful_conduct"}, headers=auth)
    assert later.get_json()["refunded_fen"] == 1_000
    assert tipper_balance(people, "fan-1") == 0


def test_a_violation_recorded_through_the_tips_flow_is_in_the_anchors_rating_file(client, auth, people):
    client.post("/v1/anchors/anchor-1/violations", json={"kind": "vulgar_content"}, headers=auth)
    file = client.get("/v1/anchors/anchor-1/rating", headers=auth).get_json()
    assert [(v["kind"], v["severity"], v["source"]) for v in file["violations"]] == [
        ("vulgar_content", "moderate", "tips")]
    assert file["points"] == 3 and file["measures"] == ["stop_recommending"]
    client.post("/v1/anchors/anchor-1/violations", json={"kind": "luring_minors"}, headers=auth)
    file = client.get("/v1/anchors/anchor-1/rating", headers=auth).get_json()
    assert "close_and_blacklist" in file["measures"]


def test_the_monitoring_rules_flag_large_tips_from_new_accounts_their_agent_and_minors_attempts(
        client, auth, people):
    with people.db.uow() as session:
        anchors.set_profile(people, session, "anchor-1", agent="StarAgency")
        session.commit()
    for who in ("fan-1", "fan-2", "fan-3"):  # new accounts: 3 × ¥700 = ¥2,100 within the day
        assert tip(client, auth, people, 70_000, who=who)["decision"] == "approved"
    make_subject(people, "kid-1", birth_date=date(2012, 3, 1), phone="+8613800138099")
    for _ in range(3):
        assert tip(client, auth, people, 100, who="kid-1", anchor="anchor-2")["reason"] == "minor"

    resp = client.post("/v1/concerns/scan", json={}, headers=auth)
    assert resp.status_code == 200
    found = {(f["target_type"], f["target_id"], f["rule"]) for f in resp.get_json()["flags"]}
    assert found == {("anchor", "anchor-1", "large_tips_from_new_accounts"),
                     ("agent", "StarAgency", "large_tips_from_new_accounts"),
                     ("anchor", "anchor-2", "minors_attempts")}
    listed = client.get("/v1/concerns", headers=auth).get_json()["flags"]
    big = next(f for f in listed if f["target_id"] == "anchor-1")
    assert big["list"] == "concern" and big["details"]["total_fen"] == 210_000
    # Scanning again refreshes the same flags instead of adding new ones.
    client.post("/v1/concerns/scan", json={}, headers=auth)
    assert len(client.get("/v1/concerns", headers=auth).get_json()["flags"]) == 3
