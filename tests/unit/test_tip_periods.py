"""Calendar periods of the platform's time zone, and the reminder text (no database)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from verification.limits import Limits, periods, reminder_text


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("now, day, next_day", [
    ("2026-06-15T15:59:59", "2026-06-15", "2026-06-15T16:00:00"),  # 23:59:59 in Shanghai
    ("2026-06-15T16:00:00", "2026-06-16", "2026-06-16T16:00:00"),  # local midnight
    ("2026-06-15T23:30:00", "2026-06-16", "2026-06-16T16:00:00"),  # UTC's new day is not ours
])
def test_the_day_turns_at_midnight_in_shanghai_which_is_1600_utc(now, day, next_day):
    p = periods(utc(now), "Asia/Shanghai")
    assert p.day_key == day and p.next_day == utc(next_day)


@pytest.mark.parametrize("now, month, next_month", [
    ("2027-02-28T15:59:59", "2027-02", "2027-02-28T16:00:00"),  # last second of February 2027
    ("2027-02-28T16:00:00", "2027-03", "2027-03-31T16:00:00"),
    ("2028-02-28T16:00:00", "2028-02", "2028-02-29T16:00:00"),  # leap year: the 29th is still February
    ("2026-12-31T16:00:00", "2027-01", "2027-01-31T16:00:00"),  # new year
    ("2026-12-31T15:00:00", "2026-12", "2026-12-31T16:00:00"),
])
def test_the_month_turns_at_local_midnight_on_the_first_including_february(now, month, next_month):
    p = periods(utc(now), "Asia/Shanghai")
    assert p.month_key == month and p.next_month == utc(next_month)


def test_another_time_zone_turns_at_its_own_midnight():
    assert periods(utc("2026-06-15T03:59:00"), "America/New_York").day_key == "2026-06-14"
    assert periods(utc("2026-06-15T04:00:00"), "America/New_York").day_key == "2026-06-15"


def test_the_reminder_names_the_caps_in_yuan():
    text = reminder_text(["day:2026-06-15", "month:2026-06"], Limits(5_000, 20_000, 60_000),
                         {"day": 9_000, "month": 29_000}, 1_000)
    assert "¥100.00 of your ¥200.00 daily cap" in text and "¥300.00 of your ¥600.00 monthly cap" in text
