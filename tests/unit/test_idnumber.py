from datetime import date

import pytest

from verification import idnumber

VALID = "11010519491231002X"  # the example number of GB 11643-1999


def test_the_standard_example_number_is_valid_and_says_who_it_is():
    parsed = idnumber.parse(VALID, today=date(2026, 1, 1))
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.region == "110105"
    assert parsed.sex == "F"


def test_a_lowercase_x_check_character_is_normalised_to_uppercase():
    assert idnumber.parse(VALID.lower(), today=date(2026, 1, 1)).number == VALID


@pytest.mark.parametrize("number, rule", [
    ("110105194912310021", "check_character"),   # wrong check digit
    ("11010519491231002", "format"),             # 17 characters
    ("1101051949123100211", "format"),           # 19 characters
    ("11010519491231002Y", "format"),
    ("990105194912310025", "region"),            # no province 99
    ("110105194902300029", "birth_date"),        # 30 February
    ("110105203001010011", "birth_date"),        # born in the future
    ("", "format"),
])
def test_numbers_breaking_a_rule_are_refused_naming_the_rule(number, rule):
    with pytest.raises(idnumber.InvalidResidentId) as err:
        idnumber.parse(number, today=date(2026, 1, 1))
    assert err.value.rule == rule


def test_every_check_character_including_x_round_trips_through_make():
    seen = set()
    for seq in range(0, 200):
        number = idnumber.make("440104", date(1990, 5, 17), seq)
        seen.add(number[-1])
        assert idnumber.parse(number, today=date(2026, 1, 1)).sequence == seq
    assert "X" in seen and len(seen) == 11


def test_masking_keeps_only_the_first_and_last_four_characters():
    assert idnumber.mask("11010519491231002x") == "1101**********002X"
