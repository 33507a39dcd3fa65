"""The same decisions from a real `livegate serve` process, over real HTTP."""

from __future__ import annotations

import jwt
import pytest
import requests

from tests.support.people import load_rgb, make_card, photo_bytes
from tests.support.server import cli, running_server, server_env

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, db_url):
    env = server_env(tmp_path, db_url, LIVEGATE_LIVENESS="off")
    (tmp_path / "instance").mkdir()
    cli(env, "init-db")
    key = cli(env, "create-client", "platform", "--scope", "cases", "--scope", "tokens").stdout.strip()
    with running_server(env) as (base, _):
        yield base, {"Authorization": f"Bearer {key}"}


def _verify(base, auth, card, selfie, subject, person, number=None):
    r = requests.post(f"{base}/v1/cases", headers=auth, timeout=30, json={
        "subject_id": subject, "role": "viewer", "declared_name": person.name,
        "document_type": "cn_resident_id", "document_number": number or person.number, "phone": "+8613800138000"})
    assert r.status_code == 201, r.text
    case = r.json()
    app = {"Authorization": f"Bearer {case['client_secret']}"}
    assert requests.put(f"{base}/v1/cases/{case['id']}/document", headers=app, timeout=30,
                        files={"front": ("card.jpg", card, "image/jpeg")}).status_code == 200
    assert requests.put(f"{base}/v1/cases/{case['id']}/selfie", headers=app, timeout=30,
                        files=[("frames", ("s.jpg", selfie, "image/jpeg"))]).status_code == 200
    r = requests.post(f"{base}/v1/cases/{case['id']}/submit", headers=app, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_real_server_approves_the_owner_and_rejects_the_rest(server, faces_dir, face_engine):
    base, auth = server
    person, card = make_card(face_engine, load_rgb(str(faces_dir / "lab4/faker_2_0002.jpg")), seed=11)
    owner = _verify(base, auth, card, photo_bytes(faces_dir, "lab4/faker_2_0007.jpg"), "owner", person)
    assert owner["decision"] == "approved", owner
    stranger = _verify(base, auth, card, photo_bytes(faces_dir, "deepface/img2.jpg"), "stranger", person)
    assert stranger["decision"] != "approved"
    no_face = _verify(base, auth, card, photo_bytes(faces_dir, "insightface/view.jpg"), "noface", person)
    assert no_face["reasons"] == ["no_face_in_selfie"]
    bad_check = person.number[:17] + ("1" if person.number[17] == "0" else "0")
    invalid = _verify(base, auth, card, photo_bytes(faces_dir, "lab4/faker_2_0007.jpg"), "bad", person, bad_check)
    assert invalid["reasons"] == ["document_number_invalid"]

    r = requests.post(f"{base}/v1/tokens", headers=auth, json={"subject_id": "owner", "audience": "tipping"},
                      timeout=10)
    assert r.status_code == 201
    token = r.json()["token"]
    jwks = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
    claims = jwt.decode(token, jwks.get_signing_key_from_jwt(token).key, algorithms=["EdDSA"], audience="tipping")
    assert claims["sub"] == "owner" and claims["adult"] is True
    refused = requests.post(f"{base}/v1/tokens", headers=auth, json={"subject_id": "stranger", "audience": "tipping"},
                            timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "not_verified"


def test_a_real_server_answers_garbage_with_4xx_and_stays_up(server):
    base, auth = server
    r = requests.post(f"{base}/v1/cases", headers={**auth, "Content-Type": "application/json"}, data=b"\xff\xfe{",
                      timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
    big = requests.post(f"{base}/v1/cases", headers=auth, data=b"x" * (120 * 1024 * 1024), timeout=60)
    assert big.status_code == 413
    assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
    metrics = requests.get(f"{base}/metrics", timeout=10).text
    assert "livegate_http_requests_total" in metrics
