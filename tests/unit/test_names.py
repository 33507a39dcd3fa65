"""Declared names against names read from documents: width, spaces, and pinyin for passports."""

from __future__ import annotations

from verification import names


def test_full_width_and_half_width_forms_and_spaces_are_the_same_name():
    assert names.same_name("张 三", "张三")
    assert names.same_name("ＺＨＡＮＧ　San", "zhang san")
    assert names.same_name("买买提•艾力", "买买提·艾力")
    assert not names.same_name("张三", "张山")
    assert not names.same_name("", "")


def test_chinese_name_matches_its_passport_pinyin():
    assert names.matches_latin("张三丰", "ZHANG", "SANFENG")
    assert not names.matches_latin("张三丰", "ZHANG", "SANFEN")
    assert not names.matches_latin("李四", "ZHANG", "SI")


def test_every_reading_of_a_polyphonic_character_is_considered():
    # 曾 is Zeng as a surname and Ceng elsewhere; 单 is Shan as a surname, Dan otherwise.
    assert names.matches_latin("曾伟", "ZENG", "WEI")
    assert names.matches_latin("曾伟", "CENG", "WEI")
    assert names.matches_latin("单乐", "SHAN", "LE")
    assert names.matches_latin("单乐", "SHAN", "YUE")


def test_u_umlaut_may_be_written_yu_u_or_v():
    for spelling in ("LYU", "LU", "LV"):
        assert names.matches_latin("吕芳", spelling, "FANG")


def test_two_character_surnames_are_split_off():
    assert names.matches_latin("欧阳娜娜", "OUYANG", "NANA")
    assert names.matches_latin("司马明", "SIMA", "MING")


def test_latin_declared_names_match_in_either_order():
    assert names.matches_latin("Anna Maria Eriksson", "ERIKSSON", "ANNA MARIA")
    assert names.matches_latin("ERIKSSON anna maria", "ERIKSSON", "ANNA MARIA")
    assert not names.matches_latin("Anna Eriksson", "ERIKSSON", "ANNA MARIA")
