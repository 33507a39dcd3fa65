"""The document reader end to end with the real OCR engine: passports, broken MRZs, garbage."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import pytest

from fixtures import cards, passports, variants
from tests.support.people import labels, load_rgb
from verification.documents import DocumentReader

TODAY = date(2026, 6, 15)


@pytest.fixture(scope="module")
def reader():
    from verification.adapters.ocr_rapid import shared_engine

    return DocumentReader(ocr=shared_engine())


def by_name(checks):
    return {c.name: c for c in checks}


def page(seed: int, lines=None, **table):
    h = passports.random_holder(random.Random(seed))
    rgb = passports.render_page(h, variants.placeholder_portrait(seed), lines=lines, seed=seed)
    return h, variants.on_table(rgb, scale=1.0, **{"angle": 2.0, **table})


@pytest.mark.parametrize("seed", [0, 3])
def test_a_passport_data_page_is_read_through_its_mrz(reader, seed):
    h, photo = page(seed)
    checks = by_name(reader.read_passport(photo, h.name_zh, h.number, TODAY))
    assert checks["mrz"].verdict == "pass"
    fields = checks["mrz"].details["fields"]
    assert fields["number"] == h.number and fields["nationality"] == "CHN"
    assert fields["birth_date"] == h.birth_date.isoformat() and fields["expiry_date"] == h.expiry.isoformat()
    assert checks["document_number_match"].verdict == "pass"
    assert checks["name_match"].verdict == "pass"  # Chinese name held against the pinyin


def test_a_passport_declared_under_another_name_goes_to_review(reader):
    h, photo = page(0)
    checks = by_name(reader.read_passport(photo, "欧阳修", h.number, TODAY))
    assert (checks["name_match"].verdict, checks["name_match"].reason) == ("review", "name_mismatch")


def test_an_expired_passport_is_rejected(reader):
    h = passports.random_holder(random.Random(3), expiry=date(2025, 3, 1))
    photo = variants.on_table(passports.render_page(h, variants.placeholder_portrait(3)), angle=2.0, scale=1.0)
    checks = by_name(reader.read_passport(photo, h.name_zh, h.number, TODAY))
    assert (checks["document_validity"].verdict, checks["document_validity"].reason) == ("fail", "document_expired")


@pytest.mark.parametrize("index, field", [(9, "document_number"), (27, "expiry_date")])
def test_a_page_with_a_broken_check_digit_is_rejected_naming_the_field(reader, index, field):
    h = passports.random_holder(random.Random(3))
    broken = passports.corrupt(h.mrz_lines(), index)
    _, photo = page(3, lines=broken)
    check = by_name(reader.read_passport(photo, h.name_zh, h.number, TODAY))["mrz"]
    assert (check.verdict, check.reason) == ("fail", "mrz_check_digit")
    assert check.details["field"] == field


def test_a_page_without_an_mrz_is_refused_with_a_hint(reader):
    person = cards.random_person(random.Random(2))
    photo = variants.on_table(cards.render_back(person), angle=1.0)
    check = by_name(reader.read_passport(photo, person.name, "E12345678", TODAY))["mrz"]
    assert (check.verdict, check.reason) == ("fail", "mrz_not_found")
    assert "bottom" in check.hint


def test_a_card_photographed_upside_down_is_still_read(reader):
    person = cards.random_person(random.Random(5))
    card = cards.render_front(person, variants.placeholder_portrait(5), seed=5)
    photo = variants.on_table(card, angle=183)
    checks = by_name(reader.read_id_card(photo, None, person.name, person.number, TODAY))
    assert checks["document_number_match"].verdict == "pass"


def test_a_photo_of_a_cat_or_a_face_is_refused_clearly(reader, faces_dir):
    photo = load_rgb(str(faces_dir / labels(faces_dir)[0].file))
    checks = reader.read_id_card(photo, None, "张三", "11010119900307123X", TODAY)
    assert checks[0].verdict == "fail"
    assert checks[0].reason in {"document_not_found", "image_too_small", "document_unreadable",
                                "document_cut_off", "document_blurred"}
    assert checks[0].hint


@pytest.mark.parametrize("make, reason", [
    (lambda: variants.on_table(np.full((540, 856, 3), 250, np.uint8)), "document_not_found"),  # blank page
    (lambda: np.full((40, 20000, 3), 200, np.uint8), "image_too_small"),  # a 20,000-pixel strip
    (lambda: np.full((1, 1, 3), 0, np.uint8), "image_too_small"),
])
def test_garbage_is_refused_with_a_clear_reason_never_a_crash(reader, make, reason):
    for doc_type in ("cn_resident_id", "passport"):
        rgb = make()
        checks = (reader.read_id_card(rgb, None, "张三", "11010119900307123X", TODAY) if doc_type == "cn_resident_id"
                  else reader.read_passport(rgb, "张三", "E12345678", TODAY))
        assert (checks[0].verdict, checks[0].reason) == ("fail", reason), doc_type
