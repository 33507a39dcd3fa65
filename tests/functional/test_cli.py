"""The `livegate` command line, run as a user runs it."""

from __future__ import annotations

import json

import jwt
import pytest

from tests.support import badfiles
from tests.support.people import load_rgb, make_card, photo_bytes
from tests.support.server import cli, server_env


@pytest.fixture
def env(tmp_path):
    (tmp_path / "instance").mkdir()
    return server_env(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}", LIVEGATE_LIVENESS="off")


@pytest.fixture
def files(tmp_path, faces_dir, face_engine):
    person, card = make_card(face_engine, load_rgb(str(faces_dir / "lab4/faker_2_0002.jpg")), seed=5)
    paths = {"card": tmp_path / "card.jpg", "selfie": tmp_path / "selfie.jpg", "other": tmp_path / "other.jpg",
             "pdf": tmp_path / "doc.jpg"}
    paths["card"].write_bytes(card)
    paths["selfie"].write_bytes(photo_bytes(faces_dir, "lab4/faker_2_0007.jpg"))
    paths["other"].write_bytes(photo_bytes(faces_dir, "deepface/img2.jpg"))
    paths["pdf"].write_bytes(badfiles.pdf_bytes())
    return person, paths


def test_verify_prints_an_approval_with_checks_document_fields_and_a_token(env, files):
    person, p = files
    out = cli(env, "verify", "--document", str(p["card"]), "--selfie", str(p["selfie"]), "--name", person.name,
              "--document-number", person.number.lower())
    result = json.loads(out.stdout)
    assert result["decision"] == "approved" and result["reasons"] == []
    assert result["adult"] is True and isinstance(result["age"], int)
    assert result["document"]["number"] == person.number.upper()
    assert result["document"]["birth_date"] == person.birth_date.isoformat()
    names = {c["name"]: c for c in result["checks"]}
    assert {"document_number", "document_face", "selfie_face", "face_match", "age"} <= names.keys()
    assert names["face_match"]["score"] <= names["face_match"]["threshold"]
    claims = jwt.decode(result["token"], options={"verify_signature": False})
    assert claims["real_name"] is True and claims["level"] == "document+face"


def test_verify_reports_a_stranger_as_not_approved_and_still_exits_zero(env, files):
    person, p = files
    out = cli(env, "verify", "--document", str(p["card"]), "--selfie", str(p["other"]), "--name", person.name,
              "--document-number", person.number)
    result = json.loads(out.stdout)
    assert result["decision"] in ("rejected", "in_review") and "token" not in result


@pytest.mark.parametrize("args, says", [
    (["--document", "/no/such/file.jpg", "--selfie", "{selfie}"], "cannot read"),
    (["--document", "{pdf}", "--selfie", "{selfie}"], "--document"),
    (["--document", "{card}", "--selfie", "{pdf}"], "--selfie"),
    (["--document", "{card}", "--selfie", "{selfie}", "--bogus"], "no such option"),
    (["--document", "{card}"], "missing option"),
])
def test_verify_with_bad_input_exits_2_with_one_line(env, files, args, says):
    person, p = files
    argv = [a.format(**{k: str(v) for k, v in p.items()}) for a in args]
    out = cli(env, "verify", *argv, "--name", person.name, "--document-number", person.number, check=False)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0].lower() and "Traceback" not in out.stderr


def test_create_client_rotate_keys_and_audit_verify_work_together(env):
    cli(env, "init-db")
    key = cli(env, "create-client", "tips-service", "--scope", "tips").stdout.strip()
    assert key.startswith("lg_")
    dup = cli(env, "create-client", "tips-service", "--scope", "tips", check=False)
    assert dup.returncode == 2 and "exists" in dup.stderr
    bad_scope = cli(env, "create-client", "x", "--scope", "everything", check=False)
    assert bad_scope.returncode == 2
    assert "new signing key" in cli(env, "rotate-keys").stdout
    assert "intact" in cli(env, "audit", "verify").stdout


def test_a_bad_setting_is_one_line_and_exit_2(env):
    env = {**env, "LIVEGATE_TIMEZONE": "Mars/Olympus"}
    out = cli(env, "init-db", check=False)
    assert out.returncode == 2 and "LIVEGATE_TIMEZONE" in out.stderr and len(out.stderr.strip().splitlines()) == 1
