"""Counts of approved / review / rejected for genuine and impostor pairs on ../shared/faces.

    .venv/bin/python bench/face_sweep.py [--faces ../shared/faces]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.sweep import run_sweep  # noqa: E402
from verification.adapters.face_dlib import DlibFaceEngine  # noqa: E402
from verification.pipeline import Policy  # noqa: E402
from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    args = ap.parse_args()
    policy = Policy(DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT, liveness="off")
    r = run_sweep(args.faces, DlibFaceEngine(), policy)
    rows = []
    for label, tally in (("genuine", r.genuine), ("impostor", r.impostor)):
        d = np.array(r.distances[label])
        rows.append({"pairs": label, "total": sum(tally.values()), "approved": tally["approved"],
                     "in_review": tally["in_review"], "rejected": tally["rejected"],
                     "distance_min": round(float(d.min()), 3), "distance_median": round(float(np.median(d)), 3),
                     "distance_max": round(float(d.max()), 3)})
    print(f"thresholds: accept <= {DEFAULT_FACE_ACCEPT}, reject >= {DEFAULT_FACE_REJECT}")
    print("| pairs | total | approved | in review | rejected | distance min / median / max |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['pairs']} | {row['total']} | {row['approved']} | {row['in_review']} | {row['rejected']} | "
              f"{row['distance_min']} / {row['distance_median']} / {row['distance_max']} |")
    print(f"genuine selfies with no usable face: {len(r.unusable)}; impostors approved: {len(r.impostor_approved)}")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "face_sweep.json").write_text(json.dumps(
        {"accept": DEFAULT_FACE_ACCEPT, "reject": DEFAULT_FACE_REJECT, "rows": rows,
         "unusable": r.unusable, "impostor_approved": r.impostor_approved}, indent=2))


if __name__ == "__main__":
    main()
