"""OCR time per card and the whole verification time with OCR.

    .venv/bin/python bench/bench_ocr.py [--cards 20] [--faces ../shared/faces]

Prints a small table and writes bench/results/bench_ocr.json. Timings are wall-clock on
this machine (the OCR engine runs on 2 threads); the medians are the numbers to quote.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from fixtures import cards, passports, variants  # noqa: E402
from verification import quality  # noqa: E402
from verification.adapters.ocr_rapid import RapidOcrEngine  # noqa: E402
from verification.documents import DocumentReader  # noqa: E402

TODAY = date(2026, 6, 15)


def med(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 1) if xs else float("nan")


def p90(xs: list[float]) -> float:
    return round(sorted(xs)[int(0.9 * (len(xs) - 1))] * 1000, 1) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=20)
    ap.add_argument("--faces", default=os.environ.get("LIVEGATE_FACES_DIR", str(ROOT.parent / "shared" / "faces")))
    args = ap.parse_args()

    engine = RapidOcrEngine()
    t0 = time.perf_counter()
    engine._get()
    load = time.perf_counter() - t0
    reader = DocumentReader(ocr=engine)

    ocr_only, reader_times, read_ok, passport_times, passport_ok = [], [], 0, [], 0
    ocr_cpu: list[float] = []
    for i in range(args.cards):
        person = cards.random_person(random.Random(1000 + i))
        card = cards.render_front(person, variants.placeholder_portrait(i), seed=i)
        photo = variants.on_table(card, angle=random.Random(i).uniform(-8, 8), scale=0.6)
        flat = quality.assess(photo).document
        t, c = time.perf_counter(), time.process_time()
        engine.read(flat)
        ocr_only.append(time.perf_counter() - t)
        ocr_cpu.append(time.process_time() - c)
        t = time.perf_counter()
        checks = reader.read_id_card(photo, None, person.name, person.number, TODAY)
        reader_times.append(time.perf_counter() - t)
        read_ok += any(c.name == "document_number_match" and c.verdict == "pass" for c in checks)
    for i in range(max(4, args.cards // 4)):
        h = passports.random_holder(random.Random(i))
        page = variants.on_table(passports.render_page(h, variants.placeholder_portrait(i), seed=i),
                                 angle=random.Random(i).uniform(-5, 5), scale=1.0)
        t = time.perf_counter()
        checks = reader.read_passport(page, h.name_zh, h.number, TODAY)
        passport_times.append(time.perf_counter() - t)
        passport_ok += any(c.name == "mrz" and c.verdict == "pass" for c in checks)

    verify_times: list[float] = []
    verify_note = ""
    faces = Path(args.faces)
    if (faces / "LABELS.tsv").exists():
        verify_times = bench_verification(faces, reader, n=min(8, args.cards))
    else:
        verify_note = f"skipped: no face photos at {faces}"

    rows = [
        ("OCR engine load (once per process)", round(load * 1000, 1), "", 1),
        ("OCR of a flattened card (engine only)", med(ocr_only), p90(ocr_only), len(ocr_only)),
        ("  the same, CPU time (all threads)", med(ocr_cpu), p90(ocr_cpu), len(ocr_cpu)),
        ("card: gate + flatten + OCR + cross-checks", med(reader_times), p90(reader_times), len(reader_times)),
        ("passport page: gate + MRZ", med(passport_times), p90(passport_times), len(passport_times)),
        ("whole verification with OCR (faces + card)", med(verify_times), p90(verify_times), len(verify_times)),
    ]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow with it)")
    print(f"{'what':46} {'median ms':>10} {'p90 ms':>8} {'n':>4}")
    for name, m, p, n in rows:
        print(f"{name:46} {m:>10} {p!s:>8} {n:>4}")
    print(f"numbers read exactly: {read_ok}/{args.cards}; passports with a valid MRZ read: "
          f"{passport_ok}/{len(passport_times)}" + (f"; {verify_note}" if verify_note else ""))
    out = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "command": "python bench/bench_ocr.py --cards %d" % args.cards,
        "rows": [{"what": r[0], "median_ms": r[1], "p90_ms": r[2], "n": r[3]} for r in rows],
        "numbers_read": [read_ok, args.cards], "passports_read": [passport_ok, len(passport_times)],
    }
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "bench_ocr.json").write_text(json.dumps(out, indent=2))


def bench_verification(faces: Path, reader: DocumentReader, n: int) -> list[float]:
    """Verifier.run on a card whose portrait and selfie are two photos of one person."""
    from verification.adapters.face_dlib import DlibFaceEngine
    from verification.images import decode, encode_jpeg
    from verification.pipeline import Evidence, Policy, Verifier
    from verification.settings import DEFAULT_FACE_ACCEPT, DEFAULT_FACE_REJECT

    with open(faces / "LABELS.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    groups: dict[str, list[str]] = {}
    for r in rows:
        groups.setdefault(r["identity"], []).append(r["file"])
    pairs = [v[:2] for v in groups.values() if len(v) >= 2][:n]
    face_engine = DlibFaceEngine()
    verifier = Verifier(faces=face_engine, reader=reader)
    policy = Policy(face_accept=DEFAULT_FACE_ACCEPT, face_reject=DEFAULT_FACE_REJECT, liveness="off")
    times = []
    for i, (a, b) in enumerate(pairs):
        photo = np.asarray(Image.open(faces / a).convert("RGB"))
        selfie = np.asarray(Image.open(faces / b).convert("RGB"))
        found = face_engine.analyze(photo, max_faces=1)
        box = None
        if found:
            fb = found[0].box
            box = (fb.top, fb.right, fb.bottom, fb.left)
        person = cards.random_person(random.Random(i))
        card = variants.on_table(cards.render_front(person, cards.portrait_from(photo, box), seed=i), scale=0.6)
        evidence = Evidence("cn_resident_id", person.name, person.number, decode(encode_jpeg(card)),
                            [decode(encode_jpeg(selfie))])
        t = time.perf_counter()
        verifier.run(evidence, policy, datetime(2026, 6, 15, 4, tzinfo=timezone.utc))
        times.append(time.perf_counter() - t)
    return times


if __name__ == "__main__":
    main()
