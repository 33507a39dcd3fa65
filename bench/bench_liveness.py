"""Median time of a 5-frame liveness check + face match at 1280 px, per face detector setting.

    .venv/bin/python bench/bench_liveness.py [--faces ../shared/faces] [--runs 5] [--detection-rate] [--cnn]

Frames: five 1280 px JPEGs built from the shared photos of Jack Dorsey (frontal, turned
left, eyes painted shut, turned right, frontal mirrored) for the challenge
turn_left, blink, turn_right, and a synthetic ID card cut from the frontal photo.
One run = Verifier.run on that evidence (6 images analysed once each, liveness,
quality gates, match), as ``submit_case`` does. CPU time is process time.
``--detection-rate`` also counts, per setting, the shared photos whose face is found.
Writes bench/results/liveness.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.liveness import close_eyes, decoded, mirrored, photo  # noqa: E402
from tests.support.people import make_card  # noqa: E402
from verification.adapters.face_dlib import DlibFaceEngine  # noqa: E402
from verification.calibration import read_labels  # noqa: E402
from verification.images import decode, downscale  # noqa: E402
from verification.liveness import check_liveness  # noqa: E402
from verification.pipeline import Evidence, Policy, Verifier  # noqa: E402
from verification.face_quality import check_face_quality  # noqa: E402
from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT  # noqa: E402

CONFIGS = {
    "hog 640 up0, retry up1 (default)": dict(detect_max_side=640, upsample=0, retry_upsample=1),
    "hog 640 up1 (before)": dict(detect_max_side=640, upsample=1, retry_upsample=None),
    "hog 480 up1": dict(detect_max_side=480, upsample=1, retry_upsample=None),
    "hog 320 up1": dict(detect_max_side=320, upsample=1, retry_upsample=None),
    "hog 1280 up0": dict(detect_max_side=1280, upsample=0, retry_upsample=None),
}
CNN = {"cnn 320 up0": dict(detect_max_side=320, upsample=0, retry_upsample=None, model="cnn")}
CHALLENGE = ["turn_left", "blink", "turn_right"]


def evidence(faces_dir: Path) -> Evidence:
    probe = DlibFaceEngine()
    front = photo(faces_dir, "deepface/img62.jpg")
    eyes = photo(faces_dir, "deepface/img17.jpg")
    person, card = make_card(probe, front, seed=4)
    rgbs = [front, mirrored(photo(faces_dir, "deepface/img61.jpg")), close_eyes(eyes, probe.analyze(eyes)[0]),
            photo(faces_dir, "deepface/img59.jpg"), mirrored(front)]
    frames = decoded(rgbs, max_side=1280)
    return Evidence(document_type="cn_resident_id", declared_name=person.name, declared_number=person.number,
                    document_front=decode(card), selfies=frames, challenge=CHALLENGE)


def time_config(kwargs: dict, ev: Evidence, runs: int) -> dict:
    engine = DlibFaceEngine(**kwargs)
    verifier = Verifier(faces=engine, liveness=check_liveness, quality=check_face_quality)
    policy = Policy(face_accept=DEFAULT_FACE_ACCEPT, face_reject=DEFAULT_FACE_REJECT, liveness="required")
    now = datetime(2026, 6, 15, tzinfo=timezone.utc)
    outcome = verifier.run(ev, policy, now)  # warm-up: loads the models
    cpu, wall, analyse = [], [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        outcome = verifier.run(ev, policy, now)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        c0 = time.process_time()
        for img in [ev.document_front, *ev.selfies]:
            engine.analyze(img.rgb, max_faces=3)
        analyse.append(time.process_time() - c0)
    checks = {c.name: c.verdict for c in outcome.checks}
    return {"cpu_median_s": statistics.median(cpu), "wall_median_s": statistics.median(wall),
            "analyse_6_images_cpu_s": statistics.median(analyse), "decision": outcome.decision,
            "liveness": checks.get("liveness"), "face_match": checks.get("face_match")}


def detection_rate(kwargs: dict, faces_dir: Path) -> dict:
    engine = DlibFaceEngine(**kwargs)
    found = total = 0
    cpu = 0.0
    for p in read_labels(faces_dir):
        if p.identity == "NOFACE":
            continue
        rgb, _ = downscale(decode((faces_dir / p.file).read_bytes()).rgb, 1280)
        c0 = time.process_time()
        faces = engine.analyze(rgb, max_faces=3)
        cpu += time.process_time() - c0
        total += 1
        found += bool(faces)
    return {"found": found, "photos": total, "cpu_per_photo_s": cpu / max(1, total)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("LIVEGATE_FACES_DIR", str(ROOT.parent / "shared" / "faces"))
    ap.add_argument("--faces", type=Path, default=Path(default))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--detection-rate", action="store_true")
    ap.add_argument("--cnn", action="store_true", help="also time dlib's CNN detector (slow)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "liveness.json")
    args = ap.parse_args()
    if not (args.faces / "LABELS.tsv").exists():
        sys.exit(f"bench_liveness: no LABELS.tsv in {args.faces}")
    ev = evidence(args.faces)
    configs = dict(CONFIGS, **(CNN if args.cnn else {}))
    results = {}
    print(f"5 frames at {ev.selfies[0].width}x{ev.selfies[0].height} + card {ev.document_front.width}x"
          f"{ev.document_front.height}; median of {args.runs} runs")
    header = "| detector | CPU s (median) | wall s | of which 6x analyse | decision | liveness |"
    if args.detection_rate:
        header += " faces found on ../shared/faces | CPU s/photo |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, kwargs in configs.items():
        r = time_config(kwargs, ev, args.runs)
        line = (f"| {name} | {r['cpu_median_s']:.2f} | {r['wall_median_s']:.2f} | {r['analyse_6_images_cpu_s']:.2f}"
                f" | {r['decision']} | {r['liveness']} |")
        if args.detection_rate:
            d = detection_rate(kwargs, args.faces)
            r["detection"] = d
            line += f" {d['found']} / {d['photos']} | {d['cpu_per_photo_s']:.3f} |"
        print(line, flush=True)
        results[name] = r
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": args.runs, "frames": len(ev.selfies),
                                    "frame_size": [ev.selfies[0].width, ev.selfies[0].height],
                                    "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
