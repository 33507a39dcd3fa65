"""Reviewer UI render times with 10,000 cases in the queue (SQLite, and PostgreSQL when reachable).

    .venv/bin/python bench/bench_review.py [--cases 10000] [--runs 30] [--no-postgres]

Each timing is a whole request through the Flask app (session check, the indexed
queue query with its count, template rendering), measured with the test client in
this process, so no network is counted. Prints a table; writes bench/results/review.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SECRET = bytes(range(32))
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def build(db_url: str, tmp: Path, cases: int):
    from gateway import build_services, create_app
    from gateway.config import load_settings
    from tests.support.review_seed import bulk_seed, enrolled_reviewer, seed_case, session_token
    from verification.keys import ensure_signing_key
    from verification.store import upgrade

    settings = load_settings(env={}, overrides=dict(instance_path=tmp / "instance", database_url=db_url,
                                                    secret_key=SECRET))
    svc = build_services(settings)
    upgrade(svc.db)
    ensure_signing_key(svc)
    start = datetime.now(timezone.utc) - timedelta(days=30)
    with svc.db.uow() as s:
        shown = seed_case(svc, s, subject_id="bench-shown", created_at=start - timedelta(hours=1))
        bulk_seed(svc, s, cases - 1, start)
        s.commit()
        shown_id = shown.id
    with svc.db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
            conn.commit()
    secret = enrolled_reviewer(svc, "bench")
    token = session_token(svc, "bench", secret)
    app = create_app(services=svc)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["sid"] = token
        sess["csrf"] = "bench"
    return svc, client, shown_id


def timed(client, url: str, runs: int) -> dict:
    client.get(url)  # warm: templates compiled, connection pooled
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        resp = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
            "max_ms": round(samples[-1], 1)}


def run(db_name: str, db_url: str, cases: int, runs: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        svc, client, shown = build(db_url, Path(tmp), cases)
        seeded = time.perf_counter() - t0
        print(f"{db_name}: seeded {cases} cases in {seeded:.1f} s", file=sys.stderr)
        pages = [
            ("queue, first page (25)", "/review/"),
            ("queue, page 200 of 400", "/review/?page=200"),
            ("queue, last page (100 a page)", f"/review/?limit=100&page={-(-cases // 100)}"),
            ("queue, role=anchor", "/review/?role=anchor"),
            ("queue, reason=identity_in_use", "/review/?reason=identity_in_use"),
            ("case page", f"/review/cases/{shown}"),
            ("case history page", f"/review/cases/{shown}/history"),
        ]
        rows = [{"database": db_name, "cases": cases, "page": label, **timed(client, url, runs)}
                for label, url in pages]
        svc.db.dispose()
        return rows


def postgres_database() -> tuple[str, callable] | None:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"lg_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}", file=sys.stderr)
        return None

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run("sqlite", f"sqlite:///{tmp}/bench.db", args.cases, args.runs)
    if not args.no_postgres:
        pg = postgres_database()
        if pg:
            url, drop = pg
            try:
                rows += run("postgresql", url, args.cases, args.runs)
            finally:
                drop()
    print(f"{'database':<11} {'page':<32} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for r in rows:
        print(f"{r['database']:<11} {r['page']:<32} {r['median_ms']:>10} {r['p95_ms']:>8} {r['max_ms']:>8}")
    out = ROOT / "bench" / "results" / "review.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": "python bench/bench_review.py " + " ".join(sys.argv[1:]),
                               "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                               "rows": rows}, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
