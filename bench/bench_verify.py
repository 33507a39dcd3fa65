"""One verification (card + one selfie, 1280 px long side): median time, and the ratio
against the bare face_recognition calls on the same images.

    .venv/bin/python bench/bench_verify.py [--runs 15]

"Bare" is what any integration must do at the least: face_locations + face_encodings on
both images at 1280 px (HOG, one upsample, the library's defaults) and one distance.
"LiveGate" is the whole automatic pipeline as `submit` runs it (decode, number check,
detection on a downscaled copy, landmarks, encodings, decision) without the database.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.people import load_rgb, make_card  # noqa: E402
from verification.adapters.face_dlib import DlibFaceEngine  # noqa: E402
from verification.images import decode  # noqa: E402
from verification.pipeline import Evidence, Policy, Verifier  # noqa: E402
from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT  # noqa: E402


def to_1280(rgb: np.ndarray) -> bytes:
    h, w = rgb.shape[:2]
    scale = 1280 / max(h, w)
    img = Image.fromarray(rgb).resize((round(w * scale), round(h * scale)), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    import face_recognition

    engine = DlibFaceEngine()
    person, card = make_card(engine, load_rgb(str(args.faces / "deepface/img2.jpg")), seed=1)
    card = to_1280(np.asarray(Image.open(io.BytesIO(card)).convert("RGB")))
    selfie = to_1280(load_rgb(str(args.faces / "deepface/img4.jpg")))
    verifier = Verifier(faces=engine)
    policy = Policy(DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT, liveness="off")
    now = datetime.now(timezone.utc)

    def ours():
        ev = Evidence("cn_resident_id", person.name, person.number, decode(card), [decode(selfie)])
        return verifier.run(ev, policy, now)

    def bare():
        a = face_recognition.load_image_file(io.BytesIO(card))
        b = face_recognition.load_image_file(io.BytesIO(selfie))
        ea = face_recognition.face_encodings(a, face_recognition.face_locations(a))
        eb = face_recognition.face_encodings(b, face_recognition.face_locations(b))
        return face_recognition.face_distance([ea[0]], eb[0])[0]

    assert ours().decision == "approved"
    bare()
    times = {"livegate": [], "bare": []}
    for _ in range(args.runs):
        for name, fn in (("livegate", ours), ("bare", bare)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {"runs": args.runs, "median_s": {k: round(v, 3) for k, v in med.items()},
              "ratio_livegate_to_bare": round(med["livegate"] / med["bare"], 2),
              "card_px": Image.open(io.BytesIO(card)).size, "selfie_px": Image.open(io.BytesIO(selfie)).size}
    print(json.dumps(result))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "verify.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
