"""ICAO 9303 machine-readable zones: check digits worked by hand, the three formats, years, names."""

from __future__ import annotations

from datetime import date

import pytest

from verification import mrz

TODAY = date(2026, 6, 15)

# The specimens of ICAO Doc 9303 (Utopia, Anna Maria Eriksson).
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
       "D231458907UTO7408122F1204159<<<<<<<6")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_check_digit_of_the_specimen_passport_number_worked_by_hand():
    # L=21 8 9 8 9 0 2 C=12 3, weights 7 3 1 repeating:
    # 147 + 24 + 9 + 56 + 27 + 0 + 14 + 36 + 3 = 316 -> 6
    assert mrz.check_digit("L898902C3") == "6"


def test_check_digit_counts_the_filler_as_zero():
    # A=10, B=11: 70 + 33 + 1 + 14 = 118 -> 8, whatever fillers follow.
    assert mrz.check_digit("AB12") == "8"
    assert mrz.check_digit("AB12<<<<<") == "8"
    assert mrz.check_digit("<<<<<<<<<<<<<<") == "0"


def test_check_digit_of_dates_worked_by_hand():
    # 740812: 49 + 12 + 0 + 56 + 3 + 2 = 122 -> 2 ; 120415: 7 + 6 + 0 + 28 + 3 + 5 = 49 -> 9
    assert mrz.check_digit("740812") == "2"
    assert mrz.check_digit("120415") == "9"


def test_td3_specimen_parses_with_every_field():
    m = mrz.parse(TD3, TODAY)
    assert m.format == "TD3"
    assert m.document_code == "P"
    assert m.issuing_state == "UTO" and m.nationality == "UTO"
    assert m.document_number == "L898902C3"
    assert m.birth_date == date(1974, 8, 12)
    assert m.expiry_date == date(2012, 4, 15)
    assert m.sex == "F"
    assert m.surname == "ERIKSSON"
    assert m.given_names == ("ANNA", "MARIA")
    assert m.optional_data == "ZE184226B"


def test_td2_specimen_parses():
    m = mrz.parse(TD2, TODAY)
    assert (m.format, m.document_number, m.birth_date, m.sex) == ("TD2", "D23145890", date(1974, 8, 12), "F")
    assert m.given_names == ("ANNA", "MARIA")


def test_td1_specimen_parses_with_its_composite_over_three_lines():
    m = mrz.parse(TD1, TODAY)
    assert (m.format, m.document_number, m.nationality) == ("TD1", "D23145890", "UTO")
    assert m.surname == "ERIKSSON" and m.given_names == ("ANNA", "MARIA")
    assert m.expiry_date == date(2012, 4, 15)


def test_td1_long_document_number_continues_in_the_optional_data():
    # 9303 part 5: D23145890734 -> "D23145890<" then "734" and its check digit 9 in the optional data.
    # D=13: 91 + 6 + 3 + 7 + 12 + 5 + 56 + 27 + 0 + 49 + 9 + 4 = 269 -> 9
    assert mrz.check_digit("D23145890734") == "9"
    lines = mrz.build_td1(number="D23145890734", surname="ERIKSSON", given_names=["ANNA", "MARIA"],
                          nationality="UTO", birth=date(1974, 8, 12), sex="F", expiry=date(2032, 4, 15))
    assert lines[0].startswith("I<UTOD23145890<7349<")
    assert mrz.parse(lines, TODAY).document_number == "D23145890734"


def test_document_number_shorter_than_its_field_is_padded_with_fillers():
    top, bottom = mrz.build_td3(number="AB12", surname="LI", given_names=["NA"], nationality="CHN",
                                birth=date(1990, 1, 2), sex="F", expiry=date(2030, 1, 2))
    assert bottom.startswith("AB12<<<<<8CHN")
    assert mrz.parse([top, bottom], TODAY).document_number == "AB12"


@pytest.mark.parametrize("lines, index, field", [
    (TD3, 9, "document_number"),
    (TD3, 19, "birth_date"),
    (TD3, 27, "expiry_date"),
    (TD3, 42, "personal_number"),
    (TD3, 43, "composite"),
    (TD2, 9, "document_number"),
    (TD2, 19, "birth_date"),
    (TD2, 27, "expiry_date"),
    (TD2, 35, "composite"),
])
def test_a_corrupted_check_digit_is_rejected_naming_the_field(lines, index, field):
    last = lines[-1]
    broken = last[:index] + str((int(last[index]) + 1) % 10) + last[index + 1:]
    with pytest.raises(mrz.MrzInvalid) as exc:
        mrz.parse(lines[:-1] + (broken,), TODAY)
    assert exc.value.reason == "mrz_check_digit"
    assert exc.value.field == field


@pytest.mark.parametrize("row, index, field", [
    (0, 14, "document_number"), (1, 6, "birth_date"), (1, 14, "expiry_date"), (1, 29, "composite"),
])
def test_td1_corrupted_check_digits_name_their_field(row, index, field):
    lines = list(TD1)
    line = lines[row]
    lines[row] = line[:index] + str((int(line[index]) + 1) % 10) + line[index + 1:]
    with pytest.raises(mrz.MrzInvalid) as exc:
        mrz.parse(lines, TODAY)
    assert (exc.value.reason, exc.value.field) == ("mrz_check_digit", field)


def test_a_changed_data_character_breaks_the_composite_even_when_its_own_digit_is_fixed():
    # A forger changes the birth month and recomputes its check digit (740912 -> 9):
    # the composite still covers the old digits and catches it.
    top, bottom = TD3
    birth = "740912"
    forged = bottom[:13] + birth + mrz.check_digit(birth) + bottom[20:]
    with pytest.raises(mrz.MrzInvalid) as exc:
        mrz.parse([top, forged], TODAY)
    assert exc.value.field == "composite"


def test_empty_personal_number_may_carry_a_filler_as_its_check_digit():
    top, bottom = mrz.build_td3(number="E12345678", surname="WANG", given_names=["WEI"], nationality="CHN",
                                birth=date(1988, 5, 6), sex="M", expiry=date(2031, 5, 6))
    assert bottom[28:43] == "<" * 15
    assert mrz.parse([top, bottom], TODAY).optional_data == ""


def test_names_with_several_given_names_and_a_compound_surname():
    top, bottom = mrz.build_td3(number="X1234567", surname="DE LA CRUZ", given_names=["MARIA", "JOSE", "ANA"],
                                nationality="ESP", birth=date(1980, 1, 1), sex="F", expiry=date(2030, 1, 1))
    assert top.startswith("P<ESPDE<LA<CRUZ<<MARIA<JOSE<ANA<")
    m = mrz.parse([top, bottom], TODAY)
    assert m.surname == "DE LA CRUZ"
    assert m.given_names == ("MARIA", "JOSE", "ANA")
    assert m.name == "DE LA CRUZ, MARIA JOSE ANA"


def test_two_digit_birth_years_are_never_in_the_future():
    assert mrz.resolve_birth("260614", TODAY) == date(2026, 6, 14)
    assert mrz.resolve_birth("260616", TODAY) == date(1926, 6, 16)
    assert mrz.resolve_birth("050101", TODAY) == date(2005, 1, 1)
    assert mrz.resolve_birth("990101", TODAY) == date(1999, 1, 1)


def test_two_digit_expiry_years_take_the_century_nearest_today():
    assert mrz.resolve_expiry("340101", TODAY) == date(2034, 1, 1)
    assert mrz.resolve_expiry("120415", TODAY) == date(2012, 4, 15)
    assert mrz.resolve_expiry("990101", TODAY) == date(1999, 1, 1)


def test_impossible_dates_are_a_format_error_naming_the_field():
    top, bottom = TD3
    bad = bottom[:13] + "741312" + mrz.check_digit("741312") + bottom[20:]
    with pytest.raises(mrz.MrzInvalid) as exc:
        mrz.parse([top, bad], TODAY)
    assert exc.value.field in {"birth_date", "composite"}


def test_wrong_line_lengths_are_a_layout_error():
    with pytest.raises(mrz.MrzInvalid) as exc:
        mrz.parse([TD3[0], TD3[1][:40]], TODAY)
    assert (exc.value.reason, exc.value.field) == ("mrz_format", "layout")


def test_lower_line_alone_still_verifies_every_check_digit():
    m = mrz.parse_lower(TD3[1], TODAY)
    assert m.document_number == "L898902C3" and m.surname == ""
    with pytest.raises(mrz.MrzInvalid):
        mrz.parse_lower(TD3[1][:9] + "7" + TD3[1][10:], TODAY)


def test_ocr_confusables_become_fillers_and_short_name_lines_are_padded():
    assert mrz.clean_ocr_line("P<UTOERIKSSON«ANNA くMARIA") == "P<UTOERIKSSON<<ANNA<MARIA"
    fitted = mrz.fit_lines(["P<UTOERIKSSON<<ANNA<MARIA<<<", TD3[1]])
    assert [TD3[0], TD3[1]] in fitted


def test_halves_read_separately_are_joined_at_the_line_width():
    left, right = TD3[1][:25], TD3[1][19:]
    assert mrz.merge_halves(left, right, 44) == TD3[1]
    assert mrz.merge_halves("P<UTOERIKSSON<<ANNA<<<", "<<<<<", 44) == "P<UTOERIKSSON<<ANNA<<<"
