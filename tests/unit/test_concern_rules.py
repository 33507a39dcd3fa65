"""The concern and key-monitoring rules over tip events, at and just below each threshold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from verification.concerns import ConcernPolicy, TipEvent, evaluate

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=400)


def tip(minutes_ago: float, tipper: int, amount: int, *, anchor="a1", room="R1", new=True, status="approved",
        reason=None) -> TipEvent:
    at = NOW - timedelta(minutes=minutes_ago)
    return TipEvent(at, tipper, at - timedelta(days=1) if new else OLD, anchor, room, amount, status, reason)


def rules(events, **kw):
    return {(f.target_type, f.target_id, f.rule) for f in evaluate(events, NOW, ConcernPolicy(), **kw)}


@pytest.mark.parametrize("amounts, flagged", [([100_000, 100_000], True), ([100_000, 99_999], False)])
def test_large_tips_from_new_accounts_flag_the_anchor_at_two_thousand_yuan(amounts, flagged):
    events = [tip(60 * (i + 1), 10 + i, a) for i, a in enumerate(amounts)]
    assert (("anchor", "a1", "large_tips_from_new_accounts") in rules(events)) is flagged


def test_large_tips_from_old_accounts_or_outside_the_day_do_not_count():
    events = [tip(60, 1, 150_000, new=False), tip(60 * 25, 2, 150_000), tip(30, 3, 60_000)]
    assert ("anchor", "a1", "large_tips_from_new_accounts") not in rules(events)


@pytest.mark.parametrize("accounts, spread_minutes, flagged", [(10, 9, True), (9, 9, False), (10, 20, False)])
def test_a_burst_of_gifts_from_ten_fresh_accounts_within_ten_minutes_is_flagged(accounts, spread_minutes, flagged):
    step = spread_minutes / max(1, accounts - 1)
    events = [tip(30 + i * step, 100 + i, 100) for i in range(accounts)]
    assert (("anchor", "a1", "gift_burst_from_fresh_accounts") in rules(events)) is flagged


def test_one_account_tipping_many_times_is_not_a_burst():
    events = [tip(30 + i * 0.5, 7, 100) for i in range(20)]
    assert ("anchor", "a1", "gift_burst_from_fresh_accounts") not in rules(events)


@pytest.mark.parametrize("attempts, flagged", [(3, True), (2, False)])
def test_minors_refused_three_times_put_the_anchor_on_the_concern_list(attempts, flagged):
    events = [tip(60 * 24 * i + 5, 50 + i, 500, status="denied", reason="minor") for i in range(attempts)]
    assert (("anchor", "a1", "minors_attempts") in rules(events)) is flagged


def test_a_room_taking_ten_thousand_yuan_in_a_day_goes_under_key_monitoring():
    events = [tip(10, 1, 600_000, new=False), tip(20, 2, 400_000, new=False, anchor="a2", room="R9")]
    events += [tip(30, 3, 400_000, new=False, room="R1")]
    found = {f.target_id: f for f in evaluate(events, NOW) if f.rule == "large_tip_amount"}
    assert set(found) == {"R1"} and found["R1"].list_name == "monitoring"
    assert found["R1"].details["total_fen"] == 1_000_000


def test_an_anchor_on_the_concern_list_brings_their_agent_with_them():
    events = [tip(60, 1, 250_000, anchor="a1"), tip(60, 2, 250_000, anchor="a2"), tip(60, 3, 10, anchor="a3")]
    found = evaluate(events, NOW, agents={"a1": "StarAgency", "a2": "StarAgency", "a3": "StarAgency"})
    agent = [f for f in found if f.target_type == "agent"]
    assert [(f.target_id, f.rule, f.details["anchors"]) for f in agent] == [
        ("StarAgency", "large_tips_from_new_accounts", ["a1", "a2"])]
