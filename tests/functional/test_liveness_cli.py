"""`livegate verify` with frames and a --challenge, as an operator runs it on local files.

Frames as in tests/functional/test_liveness_cases.py: Jack Dorsey facing the camera
(img62, also the card portrait), a *built* left turn (img61 mirrored), a *built* blink
(img17 with the eyes painted shut) and a real right turn (img59).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.liveness import as_upload, close_eyes, mirrored, photo
from tests.support.people import make_card

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(faces_dir, face_engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("frames")
    front = photo(faces_dir, "deepface/img62.jpg")
    eyes = photo(faces_dir, "deepface/img17.jpg")
    person, card = make_card(face_engine, front, seed=4)
    frames = {
        "front": as_upload(front), "left": as_upload(mirrored(photo(faces_dir, "deepface/img61.jpg"))),
        "blink": as_upload(close_eyes(eyes, face_engine.analyze(eyes)[0])),
        "right": as_upload(photo(faces_dir, "deepface/img59.jpg")), "card": card,
    }
    for name, data in frames.items():
        (out / f"{name}.jpg").write_bytes(data)
    return out, person


def verify(files, tmp_path, frames, challenge, liveness="required"):
    folder, person = files
    env = dict(os.environ, LIVEGATE_INSTANCE=str(tmp_path / "instance"),
               LIVEGATE_DATABASE_URL=f"sqlite:///{tmp_path / 'livegate.db'}")
    env.pop("LIVEGATE_LIVENESS", None)
    args = ["verify", "--document", str(folder / "card.jpg"), "--name", person.name,
            "--document-number", person.number, "--challenge", challenge, "--liveness", liveness]
    for f in frames:
        args += ["--selfie", str(folder / f"{f}.jpg")]
    run = subprocess.run([sys.executable, "-c", "from gateway.cli import main; main()", *args],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_verify_with_a_genuine_challenge_approves_at_the_liveness_level(files, tmp_path):
    result = verify(files, tmp_path, ["front", "left", "blink", "right"], "turn_left,blink,turn_right")
    assert result["decision"] == "approved", result["reasons"]
    assert result["level"] == "document+face+liveness"
    assert "token" in result


def test_verify_with_frames_out_of_the_challenge_order_rejects(files, tmp_path):
    result = verify(files, tmp_path, ["front", "right", "blink", "left"], "turn_left,blink,turn_right")
    assert result["decision"] == "rejected"
    assert "liveness_failed" in result["reasons"]
