from datetime import date, datetime, timezone

from verification.age import age_on, is_adult, local_today


def test_someone_17_years_and_364_days_old_is_a_minor():
    today = date(2026, 6, 15)
    assert not is_adult(date(2008, 6, 16), today)


def test_someone_turning_18_today_is_an_adult():
    assert is_adult(date(2008, 6, 15), date(2026, 6, 15))


def test_a_leap_day_birthday_counts_from_the_first_of_march_in_common_years():
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_the_day_turns_at_midnight_in_shanghai_not_utc():
    assert local_today(datetime(2026, 6, 14, 15, 59, tzinfo=timezone.utc)) == date(2026, 6, 14)
    assert local_today(datetime(2026, 6, 14, 16, 0, tzinfo=timezone.utc)) == date(2026, 6, 15)
