"""1:N search of a selfie against the face templates of blacklisted identities.

    .venv/bin/python bench/bench_facesearch.py [--n 100000] [--queries 200] [--store sqlite|none]

Templates are drawn around real face_recognition encodings of the shared photos (each
one a real encoding plus small noise), so distances look like real ones. Rows:

- ``index.within`` — the vectorised exact search alone (one matrix-vector product over
  all N rows, then the rows at or below the accept threshold), warm, in memory;
- ``check_blacklisted_face`` — what each submitted case pays: the blacklist version
  read from the database, then the search (N identities stored encrypted in SQLite);
- ``cold load`` — reading and decrypting all N templates into the index (once per
  process, and again only for new entries after a blacklist change);
- ``python loop`` — the same search as a plain per-row loop, for scale (a few runs).

Writes bench/results/facesearch.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verification.facesearch import FaceIndex  # noqa: E402
from verification.settings import DEFAULT_FACE_ACCEPT  # noqa: E402


def real_encodings(faces: Path) -> np.ndarray:
    from tests.support.people import labels, load_rgb
    from verification.adapters.face_dlib import DlibFaceEngine

    engine = DlibFaceEngine()
    out = []
    for photo in labels(faces)[:60]:
        found = engine.analyze(load_rgb(str(faces / photo.file)), max_faces=1)
        if found:
            out.append(found[0].encoding)
    return np.vstack(out)


def templates(seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """N distinct "people": a real encoding moved by noise of the size that separates two people
    (two draws land about 0.95 apart, like the impostor pairs' median of 0.90)."""
    base = seeds[rng.integers(0, len(seeds), size=n)]
    return base + rng.normal(0.0, 0.06, size=base.shape)


def queries_for(matrix: np.ndarray, seeds: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Half the selfies are a stored person again (about 0.3 away), half are new people."""
    again = matrix[rng.integers(0, len(matrix), size=n // 2)]
    again = again + rng.normal(0.0, 0.025, size=again.shape)
    return np.vstack([again, templates(seeds, n - n // 2, rng)])[rng.permutation(n)]


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(name: str, ms: list[float], **extra) -> dict:
    ms = sorted(ms)
    return {"what": name, "runs": len(ms), "median_ms": round(statistics.median(ms), 3),
            "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 3), "max_ms": round(ms[-1], 3), **extra}


def with_store(matrix: np.ndarray, queries: np.ndarray, runs: int) -> list[dict]:
    from gateway import build_services
    from gateway.config import load_settings
    from verification.facesearch import blacklist_faces, bump_version, check_blacklisted_face
    from verification.models import Identity
    from verification.store import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="lg-bench-"))
    settings = load_settings(env={}, overrides=dict(instance_path=tmp, database_url=f"sqlite:///{tmp}/b.db",
                                                    secret_key=bytes(range(32))))

    class NoFaces:  # the search needs no face engine; do not load dlib for this part
        def analyze(self, rgb, *, max_faces=5):
            return []

    svc = build_services(settings, face_engine=NoFaces())
    upgrade(svc.db)
    now = datetime.now(timezone.utc)
    t = time.perf_counter()
    with svc.db.uow() as session:
        for i, row in enumerate(matrix):
            session.add(Identity(number_hash=f"{i:064d}", number_enc=b"x", name_enc=b"x", name_hash="x",
                                 document_type="cn_resident_id", blacklisted=True, blacklisted_at=now,
                                 face_enc=svc.cipher.encrypt(row.astype("float64").tobytes(), b"face_template"),
                                 created_at=now))
            if i % 10_000 == 9_999:
                session.flush()
        bump_version(session)
        session.commit()
    seeded_s = time.perf_counter() - t
    with svc.db.uow() as session:
        t = time.perf_counter()
        blacklist_faces(svc).refresh(svc, session)
        cold_ms = (time.perf_counter() - t) * 1000
    hits = []
    order = iter(range(10**9))

    def one():
        q = queries[next(order) % len(queries)]
        with svc.db.uow() as session:
            hits.append(check_blacklisted_face(svc, session, q).verdict)

    rows = [summary("check_blacklisted_face (DB version read + search)", timed(one, runs),
                    flagged=sum(v == "review" for v in hits)),
            {"what": "cold load (read + decrypt all templates)", "runs": 1, "median_ms": round(cold_ms, 1),
             "p95_ms": round(cold_ms, 1), "max_ms": round(cold_ms, 1), "seeding_s": round(seeded_s, 1)}]
    svc.db.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "faces")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--store", choices=["sqlite", "none"], default="sqlite")
    args = ap.parse_args()

    rng = np.random.default_rng(7)
    seeds = real_encodings(args.faces)
    matrix = templates(seeds, args.n, rng)
    queries = queries_for(matrix, seeds, args.queries, rng)
    index = FaceIndex()
    index.replace(np.arange(args.n), matrix)
    index.within(queries[0], DEFAULT_FACE_ACCEPT)  # warm up BLAS

    it = iter(range(10**9))
    rows = [summary("index.within (vectorised, in memory)",
                    timed(lambda: index.within(queries[next(it) % len(queries)], DEFAULT_FACE_ACCEPT),
                          args.queries))]

    def loop():
        q = queries[0]
        return [i for i in range(args.n) if float(np.linalg.norm(matrix[i] - q)) <= DEFAULT_FACE_ACCEPT]

    rows.append(summary("python loop (np.linalg.norm per row)", timed(loop, 3)))
    if args.store == "sqlite":
        rows[1:1] = with_store(matrix, queries, args.queries)

    print(f"1:N face search over {args.n:,} templates (threshold {DEFAULT_FACE_ACCEPT}), "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"{'what':55} {'runs':>5} {'median ms':>10} {'p95 ms':>9} {'max ms':>9}")
    for r in rows:
        print(f"{r['what']:55} {r['runs']:>5} {r['median_ms']:>10} {r['p95_ms']:>9} {r['max_ms']:>9}")
    out = ROOT / "bench" / "results" / "facesearch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": "python bench/bench_facesearch.py " + " ".join(sys.argv[1:]),
        "n": args.n, "threshold": DEFAULT_FACE_ACCEPT, "numpy": np.__version__,
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rows": rows,
    }, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
