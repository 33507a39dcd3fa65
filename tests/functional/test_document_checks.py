"""Declared-versus-read mismatches through `livegate verify` and through the HTTP API.

Every test reads a generated document with the real OCR engine; the portraits are
cut from the shared face photos so the face checks have a real face to compare.
"""

from __future__ import annotations

import io
import json
import random
from datetime import date

import pytest
from click.testing import CliRunner

from fixtures import passports
from tests.support import documents as docs
from tests.support.people import jpeg

pytestmark = pytest.mark.faces


@pytest.fixture(scope="module")
def photos(faces_dir):
    return docs.person_photos(faces_dir)


@pytest.fixture(scope="module")
def face(photos, face_engine):
    return docs.portrait(face_engine, photos[0])


@pytest.fixture
def cli_env(tmp_path):
    return {"LIVEGATE_INSTANCE": str(tmp_path / "instance"),
            "LIVEGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "LIVEGATE_LIVENESS": "off"}


def run_verify(tmp_path, env, front: bytes, selfie_rgb, name: str, number: str, back: bytes | None = None,
               document_type: str = "cn_resident_id"):
    from gateway.cli import cli

    (tmp_path / "front.jpg").write_bytes(front)
    (tmp_path / "selfie.jpg").write_bytes(jpeg(selfie_rgb))
    args = ["verify", "--document", str(tmp_path / "front.jpg"), "--selfie", str(tmp_path / "selfie.jpg"),
            "--name", name, "--document-number", number, "--document-type", document_type]
    if back is not None:
        (tmp_path / "back.jpg").write_bytes(back)
        args += ["--document-back", str(tmp_path / "back.jpg")]
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def check(out, name):
    return next(c for c in out["checks"] if c["name"] == name)


# --- the command line ------------------------------------------------------------------

def test_cli_reads_the_card_and_prints_its_fields_when_everything_agrees(tmp_path, cli_env, photos, face):
    person = docs.holder()
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face), photos[1], person.name, person.number,
                     back=docs.card_back(person))
    assert check(out, "document_image")["verdict"] == "pass"
    assert check(out, "document_number_match")["verdict"] == "pass"
    assert check(out, "name_match")["verdict"] == "pass"
    assert check(out, "document_consistency")["verdict"] == "pass"
    assert check(out, "document_validity")["verdict"] == "pass"
    doc = out["document"]
    assert doc["number"] == person.number and doc["name"] == person.name
    assert doc["birth_date"] == "1990-04-12" and doc["sex"] == ("M" if person.sex == "男" else "F")
    assert doc["ethnicity"] == person.ethnicity and doc["expiry_date"] == "2040-01-01"
    assert not set(out["reasons"]) & {"document_number_mismatch", "name_mismatch", "document_inconsistent",
                                      "document_expired"}


def test_cli_rejects_a_number_that_differs_from_the_card(tmp_path, cli_env, photos, face):
    person = docs.holder()
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face), photos[1], person.name,
                     docs.other_number(person))
    assert out["decision"] == "rejected"
    assert "document_number_mismatch" in out["reasons"]


def test_cli_sends_a_different_name_to_review(tmp_path, cli_env, photos, face):
    person = docs.holder()
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face), photos[1], "欧阳修", person.number)
    assert out["decision"] == "in_review"
    assert "name_mismatch" in out["reasons"]


def test_cli_accepts_the_name_typed_with_full_width_spaces(tmp_path, cli_env, photos, face):
    person = docs.holder()
    spaced = person.name[0] + "\u3000" + person.name[1:]
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face), photos[1], spaced, person.number)
    assert check(out, "name_match")["verdict"] == "pass"


def test_cli_rejects_a_card_whose_printed_birth_date_is_not_the_numbers(tmp_path, cli_env, photos, face):
    person = docs.holder(birth_date=date(1991, 4, 12))  # the number still says 1990
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face), photos[1], person.name, person.number)
    assert out["decision"] == "rejected"
    assert "document_inconsistent" in out["reasons"]


def test_cli_rejects_an_expired_card_and_accepts_long_term(tmp_path, cli_env, photos, face):
    expired = docs.holder(valid_from=date(2006, 1, 1), valid_until=date(2026, 1, 1))
    out = run_verify(tmp_path, cli_env, docs.card_front(expired, face), photos[1], expired.name, expired.number,
                     back=docs.card_back(expired))
    assert out["decision"] == "rejected"
    assert "document_expired" in out["reasons"]
    long_term = docs.holder(valid_from=date(2016, 1, 1), valid_until=None)
    out = run_verify(tmp_path, cli_env, docs.card_front(long_term, face), photos[1], long_term.name,
                     long_term.number, back=docs.card_back(long_term))
    assert check(out, "document_validity")["verdict"] == "pass"
    assert out["document"]["expiry_date"] == "long_term"


def test_cli_refuses_a_blurred_card_with_a_hint(tmp_path, cli_env, photos, face):
    person = docs.holder()
    out = run_verify(tmp_path, cli_env, docs.card_front(person, face, blur=6.0), photos[1], person.name,
                     person.number)
    assert out["decision"] == "rejected"
    gate = check(out, "document_image")
    assert gate["reason"] == "document_blurred" and "hold still" in gate["hint"]
    assert check(out, "face_match")["reason"] == "document_image_unusable"


def test_cli_reads_a_passport_mrz_and_matches_the_chinese_name_through_pinyin(tmp_path, cli_env, photos, face):
    h = passports.random_holder(random.Random(3))
    out = run_verify(tmp_path, cli_env, docs.passport_page(h, face), photos[1], h.name_zh, h.number,
                     document_type="passport")
    assert check(out, "mrz")["verdict"] == "pass"
    assert check(out, "document_number_match")["verdict"] == "pass"
    assert check(out, "name_match")["verdict"] == "pass"
    assert out["document"]["nationality"] == "CHN"
    assert out["document"]["birth_date"] == h.birth_date.isoformat()
    assert out["age"] is not None


def test_cli_rejects_a_passport_with_a_corrupted_check_digit_naming_mrz_check_digit(tmp_path, cli_env, photos,
                                                                                    face):
    h = passports.random_holder(random.Random(3))
    broken = passports.corrupt(h.mrz_lines(), 19)  # the birth date's check digit
    out = run_verify(tmp_path, cli_env, docs.passport_page(h, face, lines=broken), photos[1], h.name_zh,
                     h.number, document_type="passport")
    assert out["decision"] == "rejected"
    assert "mrz_check_digit" in out["reasons"]


def test_cli_rejects_a_passport_number_that_differs_from_the_mrz(tmp_path, cli_env, photos, face):
    h = passports.random_holder(random.Random(3))
    out = run_verify(tmp_path, cli_env, docs.passport_page(h, face), photos[1], h.name_zh, "E00000001",
                     document_type="passport")
    assert out["decision"] == "rejected"
    assert "document_number_mismatch" in out["reasons"]


# --- HTTP ------------------------------------------------------------------------------

def submit_http(client, auth, front: bytes, selfie: bytes, name: str, number: str, back: bytes | None = None,
                subject: str = "u1"):
    r = client.post("/v1/cases", json={"subject_id": subject, "role": "viewer", "declared_name": name,
                                       "document_type": "cn_resident_id", "document_number": number},
                    headers=auth)
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["id"]
    data = {"front": (io.BytesIO(front), "front.jpg")}
    if back is not None:
        data["back"] = (io.BytesIO(back), "back.jpg")
    r = client.put(f"/v1/cases/{case_id}/document", data=data, headers=auth, content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    r = client.put(f"/v1/cases/{case_id}/selfie", data={"frames": (io.BytesIO(selfie), "s.jpg")}, headers=auth,
                   content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    r = client.post(f"/v1/cases/{case_id}/submit", headers=auth)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("situation, decision, reason", [
    ("other_number", "rejected", "document_number_mismatch"),
    ("other_name", None, "name_mismatch"),
    ("inconsistent", "rejected", "document_inconsistent"),
    ("expired", "rejected", "document_expired"),
])
def test_http_submit_reports_each_mismatch_reason(client, auth, photos, face, situation, decision, reason):
    person = docs.holder()
    name, number, back = person.name, person.number, None
    if situation == "other_number":
        number = docs.other_number(person)
    elif situation == "other_name":
        name = "欧阳修"
    elif situation == "inconsistent":
        person = docs.holder(sex="女" if person.sex == "男" else "男")  # the sequence digit says otherwise
    elif situation == "expired":
        person = docs.holder(valid_from=date(2005, 1, 1), valid_until=date(2025, 1, 1))
        back = docs.card_back(person)
    body = submit_http(client, auth, docs.card_front(person, face), jpeg(photos[1]), name, number, back)
    if decision:
        assert body["decision"] == decision
    reasons = body["reasons"] + [c["reason"] for c in body["checks"]]
    assert reason in reasons
    assert person.number not in json.dumps(body)  # no read fields leak into the public answer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_http_blurred_card_carries_the_hint_for_the_app(client, auth, photos, face):
    person = docs.holder()
    body = submit_http(client, auth, docs.card_front(person, face, blur=6.0), jpeg(photos[1]), person.name,
                       person.number)
    gate = next(c for c in body["checks"] if c["name"] == "document_image")
    assert (body["decision"], gate["reason"]) == ("rejected", "document_blurred")
    assert gate["hint"].startswith("hold still")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_http_garbage_documents_get_a_clear_answer_never_a_500(client, auth, photos):
    import numpy as np

    r = client.post("/v1/cases", json={"subject_id": "g1", "role": "viewer", "declared_name": "张三",
                                       "document_type": "cn_resident_id", "document_number": "11010119900307123X"},
                    headers=auth)
    case_id = r.get_json()["id"]
    tiny = jpeg(np.zeros((1, 1, 3), np.uint8))
    r = client.put(f"/v1/cases/{case_id}/document", data={"front": (io.BytesIO(tiny), "f.jpg")}, headers=auth,
                   content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["error"] == "image_too_small"
    strip = jpeg(np.full((40, 20000, 3), 200, np.uint8))  # a 20,000-pixel-wide strip
    r = client.put(f"/v1/cases/{case_id}/document", data={"front": (io.BytesIO(strip), "f.jpg")}, headers=auth,
                   content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["error"] == "image_too_small"
    wide = jpeg(np.full((300, 20000, 3), 200, np.uint8))  # wide enough to upload: the gate refuses it
    body = submit_http(client, auth, wide, jpeg(photos[1]), "张三", "11010119900307123X", subject="g2")
    assert body["decision"] == "rejected"
    assert {"image_too_small", "document_not_found"} & set(body["reasons"])
    cat = jpeg(photos[0])  # a photo of a face (our cat) instead of a card
    body = submit_http(client, auth, cat, jpeg(photos[1]), "张三", "11010119900307123X", subject="g3")
    assert body["decision"] == "rejected"
    gate = body["checks"][1]
    assert gate["verdict"] == "fail" and gate.get("hint")
