"""Driving the verification flow over HTTP (test client or a real server)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any


@dataclass
class Opened:
    id: str
    secret: str
    body: dict[str, Any]


def open_case(client, auth, *, subject_id="user-1", role="viewer", name="张三", number="11010519491231002X",
              document_type="cn_resident_id", phone="+8613800138000") -> Opened:
    resp = client.post("/v1/cases", json={
        "subject_id": subject_id, "role": role, "declared_name": name, "document_type": document_type,
        "document_number": number, "phone": phone}, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    return Opened(body["id"], body["client_secret"], body)


def app_auth(opened: Opened) -> dict[str, str]:
    return {"Authorization": f"Bearer {opened.secret}"}


def upload_document(client, opened: Opened, front: bytes, filename="card.jpg"):
    return client.put(f"/v1/cases/{opened.id}/document", headers=app_auth(opened),
                      data={"front": (io.BytesIO(front), filename)}, content_type="multipart/form-data")


def upload_selfie(client, opened: Opened, *frames: bytes):
    return client.put(f"/v1/cases/{opened.id}/selfie", headers=app_auth(opened),
                      data={"frames": [(io.BytesIO(f), f"f{i}.jpg") for i, f in enumerate(frames)]},
                      content_type="multipart/form-data")


def submit(client, opened: Opened):
    return client.post(f"/v1/cases/{opened.id}/submit", headers=app_auth(opened))


def verify_over_http(client, auth, card: bytes, selfie: bytes, **case_kw) -> tuple[Opened, dict[str, Any]]:
    opened = open_case(client, auth, **case_kw)
    assert upload_document(client, opened, card).status_code == 200
    assert upload_selfie(client, opened, selfie).status_code == 200
    resp = submit(client, opened)
    assert resp.status_code == 200, resp.get_json()
    return opened, resp.get_json()
