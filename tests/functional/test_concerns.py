"""The concern list and key monitoring over HTTP and the CLI: flags, clearing, the written report."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SECRET
from tests.support.server import cli, server_env


def flag(client, auth, **body):
    resp = client.post("/v1/concerns", json=body, headers=auth)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_platform_signals_land_on_the_right_list_and_in_the_written_report(client, auth):
    room = flag(client, auth, target_type="room", target_id="R77", rule="high_click_through", note="10x median")
    agent = flag(client, auth, target_type="agent", target_id="StarAgency", rule="manual", note="hired clicks")
    assert room["list"] == "monitoring" and agent["list"] == "concern"
    again = flag(client, auth, target_type="room", target_id="R77", rule="high_click_through")
    assert again["id"] == room["id"]  # refreshed, not repeated
    listed = client.get("/v1/concerns", headers=auth).get_json()["flags"]
    assert {f["id"] for f in listed} == {room["id"], agent["id"]}

    resp = client.get("/v1/concerns/report", headers=auth)
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    concern_part, monitoring_part = text.split("Key monitoring (R18)")
    assert "agent StarAgency: manual" in concern_part and "R77" not in concern_part
    assert "room R77: high click through" in monitoring_part
    assert text.rstrip().endswith("2 open flag(s).")
    data = client.get("/v1/concerns/report?format=json", headers=auth).get_json()
    assert len(data["flags"]) == 2


def test_a_reviewer_clears_a_flag_and_it_leaves_the_report(client, auth):
    f = flag(client, auth, target_type="anchor", target_id="anchor-9", rule="manual")
    resp = client.post(f"/v1/review/concerns/{f['id']}/clear", json={"note": "checked"}, headers=auth)
    assert resp.status_code == 200 and resp.get_json()["state"] == "cleared"
    assert client.get("/v1/concerns", headers=auth).get_json()["flags"] == []
    assert "0 open flag(s)." in client.get("/v1/concerns/report", headers=auth).get_data(as_text=True)
    assert client.post(f"/v1/review/concerns/{f['id']}/clear", json={}, headers=auth).status_code == 409
    assert client.post("/v1/review/concerns/999/clear", json={}, headers=auth).status_code == 404


@pytest.mark.parametrize("body", [
    {"target_type": "planet", "target_id": "x", "rule": "manual"},
    {"target_type": "room", "target_id": "", "rule": "manual"},
    {"target_type": "room", "target_id": "R1", "rule": "large_tip_amount"},  # the monitor's own rule
    {"target_type": "room", "target_id": "R1", "rule": "manual", "note": 5},
])
def test_a_bad_flag_is_a_400_and_nothing_is_listed(client, auth, body):
    resp = client.post("/v1/concerns", json=body, headers=auth)
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    assert client.get("/v1/concerns", headers=auth).get_json()["flags"] == []


def test_the_cli_writes_the_written_report_to_a_file(client, auth, services, tmp_path):
    flag(client, auth, target_type="room", target_id="R5", rule="suspicious_turnover")
    env = server_env(tmp_path, services.db.url, LIVEGATE_SECRET_KEY=SECRET.hex())
    out = tmp_path / "report.txt"
    proc = cli(env, "concerns", "report", "--output", str(out))
    assert "wrote" in proc.stdout and "room R5: suspicious turnover" in out.read_text(encoding="utf-8")
    data = json.loads(cli(env, "concerns", "report", "--format", "json").stdout)
    assert [f["target_id"] for f in data["flags"]] == ["R5"]
    bad = cli(env, "concerns", "report", "--output", str(tmp_path / "missing" / "r.txt"), check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
