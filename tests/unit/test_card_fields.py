"""Reading card fields from OCR lines, and the cross-checks with what the user declared."""

from __future__ import annotations

from datetime import date

from verification import idnumber
from verification.checks import FAIL, PASS, REVIEW, SKIPPED
from verification.documents import cross_check_card
from verification.idcard import CardFields, read_back, read_front
from verification.ocr import TextBox

TODAY = date(2026, 6, 15)
NUMBER = idnumber.make("110101", date(1990, 3, 7), 123)  # odd sequence: male


def box(text: str, left: float, top: float, width: float = 200, height: float = 30) -> TextBox:
    return TextBox(((left, top), (left + width, top), (left + width, top + height), (left, top + height)), text, 0.99)


FRONT = [
    box("姓名", 60, 60, 60), box("张三丰", 160, 60, 120),
    box("性别男民族汉", 60, 120),
    box("出生", 60, 180, 50), box("1990年3月7日", 160, 180),
    box("住址", 60, 240, 50), box("北京市东城区景山前街", 160, 240, 400), box("4号", 160, 280, 60),
    box("公民身份号码", 60, 500, 150), box(NUMBER, 280, 500, 400),
    box("照片里的字", 800, 200),  # on the portrait: ignored
]


def test_front_fields_are_read_by_their_labels():
    f = read_front(FRONT, 1000)
    assert f.number == NUMBER and f.number_valid
    assert (f.name, f.sex, f.ethnicity) == ("张三丰", "男", "汉")
    assert f.birth_date == date(1990, 3, 7)
    assert f.address == "北京市东城区景山前街4号"


def test_a_label_glued_to_its_value_reads_the_same():
    f = read_front([box("姓名张三丰", 60, 60), box("出生1990年3月7日", 60, 180), box(NUMBER, 280, 500, 400)], 1000)
    assert f.name == "张三丰" and f.birth_date == date(1990, 3, 7)


def test_number_with_letter_look_alikes_and_spaces_is_read():
    spaced = NUMBER[:6] + " " + NUMBER[6:14].replace("0", "O") + " " + NUMBER[14:]
    f = read_front([box(spaced, 280, 500, 400)], 1000)
    assert f.number == NUMBER and f.number_valid


def test_back_reads_authority_and_validity_including_long_term():
    f = read_back([box("签发机关", 60, 400, 100), box("北京市公安局东城分局", 200, 400),
                   box("有效期限", 60, 460, 100), box("2010.05.01-2030.05.01", 200, 460)])
    assert f.authority == "北京市公安局东城分局"
    assert (f.valid_from, f.valid_until, f.long_term) == (date(2010, 5, 1), date(2030, 5, 1), False)
    f = read_back([box("有效期限2016.01.01-长期", 60, 460, 300)])
    assert f.long_term


def fields(**kw) -> CardFields:
    base = dict(number=NUMBER, number_valid=True, name="张三丰", sex="男", birth_date=date(1990, 3, 7),
                valid_until=date(2030, 1, 1), labels_seen=6)
    base.update(kw)
    return CardFields(**base)


def verdicts(checks):
    return {c.name: (c.verdict, c.reason) for c in checks}


def test_all_agreeing_passes_every_cross_check():
    v = verdicts(cross_check_card(fields(), "张三丰", NUMBER, TODAY))
    assert v["document_number_match"] == (PASS, None)
    assert v["name_match"] == (PASS, None)
    assert v["document_consistency"] == (PASS, None)
    assert v["document_validity"] == (PASS, None)


def test_a_different_number_on_the_card_is_a_mismatch_that_rejects():
    other = idnumber.make("110101", date(1990, 3, 7), 125)
    v = verdicts(cross_check_card(fields(number=other), "张三丰", NUMBER, TODAY))
    assert v["document_number_match"] == (FAIL, "document_number_mismatch")


def test_a_different_name_goes_to_review_after_width_and_space_folding():
    assert verdicts(cross_check_card(fields(), "张 三丰", NUMBER, TODAY))["name_match"] == (PASS, None)
    assert verdicts(cross_check_card(fields(), "张三", NUMBER, TODAY))["name_match"] == (REVIEW, "name_mismatch")


def test_printed_birth_date_or_sex_disagreeing_with_the_number_rejects():
    v = verdicts(cross_check_card(fields(birth_date=date(1991, 3, 7)), "张三丰", NUMBER, TODAY))
    assert v["document_consistency"] == (FAIL, "document_inconsistent")
    v = verdicts(cross_check_card(fields(sex="女"), "张三丰", NUMBER, TODAY))
    assert v["document_consistency"] == (FAIL, "document_inconsistent")


def test_expired_card_rejects_and_long_term_is_valid():
    v = verdicts(cross_check_card(fields(valid_until=date(2026, 6, 14)), "张三丰", NUMBER, TODAY))
    assert v["document_validity"] == (FAIL, "document_expired")
    v = verdicts(cross_check_card(fields(valid_until=None, long_term=True), "张三丰", NUMBER, TODAY))
    assert v["document_validity"] == (PASS, None)
    v = verdicts(cross_check_card(fields(valid_until=None), "张三丰", NUMBER, TODAY, back_given=False))
    assert v["document_validity"] == (SKIPPED, "no_document_back")


def test_a_misread_number_never_passes_it_goes_to_review():
    misread = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    v = verdicts(cross_check_card(fields(number=misread, number_valid=False), "张三丰", NUMBER, TODAY))
    assert v["document_number_match"] == (REVIEW, "document_number_unreadable")


def test_nothing_readable_is_refused_with_a_hint():
    checks = cross_check_card(CardFields(), "张三丰", NUMBER, TODAY)
    assert [(c.verdict, c.reason) for c in checks] == [(FAIL, "document_unreadable")]
    assert checks[0].hint


def test_a_reader_failure_sends_the_case_to_a_person_instead_of_crashing():
    import random

    from fixtures import cards, variants
    from verification.documents import DocumentReader
    from verification.images import DecodedImage
    from verification.pipeline import Evidence

    class BrokenOcr:
        def read(self, rgb):
            raise RuntimeError("model file damaged")

        def read_lines(self, crops):
            raise RuntimeError("model file damaged")

    person = cards.random_person(random.Random(3))
    photo = variants.on_table(cards.render_front(person, variants.placeholder_portrait(3)), scale=0.6)
    img = DecodedImage(photo, "png", photo.shape[1], photo.shape[0])
    checks = DocumentReader(BrokenOcr())(Evidence("cn_resident_id", person.name, person.number, img, []), TODAY)
    assert [(c.verdict, c.reason) for c in checks] == [(REVIEW, "document_reader_error")]


def test_an_invalid_declared_number_is_not_also_called_a_mismatch():
    wrong = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    v = verdicts(cross_check_card(fields(), "张三丰", wrong, TODAY))
    assert v["document_number_match"] == (SKIPPED, "declared_number_invalid")
