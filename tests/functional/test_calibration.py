"""`livegate calibrate` on the shared labelled face photos (CI has the folder)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _livegate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from gateway.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    from tests.conftest import FACES_DIR

    if not (FACES_DIR / "LABELS.tsv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the shared face photos at {FACES_DIR}")
        pytest.skip(f"the shared face photos are not at {FACES_DIR} (set LIVEGATE_FACES_DIR)")
    out = tmp_path_factory.mktemp("calibration")
    run = _livegate("calibrate", "--faces", str(FACES_DIR), "--plot", str(out / "plot.png"),
                    "--json", str(out / "numbers.json"))
    return run, out


def test_calibrate_prints_far_and_frr_and_thresholds_with_no_false_accept(calibrated):
    run, out = calibrated
    assert run.returncode == 0, run.stderr
    numbers = json.loads((out / "numbers.json").read_text())
    rec = numbers["recommended"]
    assert numbers["genuine_pairs"] > 100 and numbers["impostor_pairs"] > 1000
    assert rec["far_at_accept"] == 0.0
    assert rec["accept"] < numbers["impostor"]["min"]
    assert rec["reject"] > numbers["genuine"]["max"]
    assert rec["accept"] < rec["reject"]
    assert f"recommended accept threshold: {rec['accept']:.2f}" in run.stdout
    assert f"recommended reject threshold: {rec['reject']:.2f}" in run.stdout
    rows = [r for r in numbers["table"] if r["threshold"] <= rec["accept"]]
    assert rows and all(r["false_accepts"] == 0 for r in rows)


def test_calibrate_writes_a_png_plot(calibrated):
    run, out = calibrated
    from PIL import Image

    with Image.open(out / "plot.png") as img:
        assert img.format == "PNG"
        assert img.size[0] >= 600


def test_the_documented_calibration_table_matches_what_the_command_prints(calibrated):
    run, _ = calibrated
    table = [line for line in run.stdout.splitlines() if line.startswith("|")]
    assert len(table) > 10
    doc = (ROOT / "docs" / "liveness.md").read_text(encoding="utf-8")
    missing = [line for line in table if line not in doc]
    assert not missing, f"docs/liveness.md is out of date; rerun livegate calibrate: {missing[:3]}"
    thresholds = re.findall(r"recommended (?:accept|reject) threshold: [0-9.]+", run.stdout)
    assert thresholds and all(t in doc for t in thresholds)


def test_calibrate_on_a_folder_without_labels_is_one_line_and_exit_2(tmp_path):
    run = _livegate("calibrate", "--faces", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "LABELS.tsv" in run.stderr
    assert "Traceback" not in run.stderr
