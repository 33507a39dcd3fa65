"""Tip authorizations per second and p50/p99 latency against a real gunicorn server on
PostgreSQL, side by side with a bare endpoint (same stack, one INSERT per request).

    .venv/bin/python bench/bench_tips.py [--requests 3000] [--seconds 30] [--rounds 3] [--concurrency 16]
                                         [--tippers 500]

Each run makes a fresh PostgreSQL database (LIVEGATE_TEST_POSTGRES_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test), starts `livegate serve --workers 2`
(gunicorn, 4 threads a worker) and gunicorn with bench/bare_app.py with the same workers and
threads, and drives them in alternating phases (--rounds, --requests and --seconds split
between them) from a thread pool on loopback with keep-alive connections. Every tip is a full
authorization: API key, token signature and revocation, the tipper's row lock, caps, the
hold and its two ledger postings, one transaction. Tippers
are spread over --tippers subjects (the half-cap step-up is out of reach at these amounts).
The load generator shares the machine's cores with the server, so absolute numbers are low;
the ratio is the point. Results go to bench/results/tips.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.tip_server import Server, free_port  # noqa: E402
from tests.support.tipping import make_subject, token_for  # noqa: E402

PG_ADMIN_URL = os.environ.get("LIVEGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = bytes(range(32))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def drive(url: str, make_body, total: int, seconds: float, concurrency: int, headers: dict) -> dict:
    """Fire ``total`` requests (or stop after ``seconds``) from ``concurrency`` threads."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + seconds

    def worker(_):
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            body = make_body(n)
            t0 = time.perf_counter()
            resp = session.post(url, json=body, headers=headers, timeout=60)
            dt = time.perf_counter() - t0
            label = str(resp.status_code)
            if resp.status_code == 200 and "decision" in resp.text:
                label = resp.json()["decision"]
            with lock:
                latencies.append(dt)
                statuses[label] = statuses.get(label, 0) + 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {"requests": len(latencies), "seconds": round(elapsed, 2),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1), "answers": statuses}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tippers", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="alternate tips and bare phases this many times")
    args = ap.parse_args()

    name = f"lg_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="lg-bench-tips-"))
    try:
        results = run(args, db_url, tmp)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    tips, bare = results["tips"], results["bare"]
    ratio = round(tips["per_second"] / bare["per_second"], 2)
    median = results["ratio_median"]
    print(f"\n{'endpoint':<28}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'POST /v1/tips/authorize':<28}{tips['requests']:>9}{tips['per_second']:>9}{tips['p50_ms']:>9}"
          f"{tips['p99_ms']:>9}")
    print(f"{'bare: one INSERT':<28}{bare['requests']:>9}{bare['per_second']:>9}{bare['p50_ms']:>9}"
          f"{bare['p99_ms']:>9}")
    print(f"authorizations/s as a share of the bare endpoint: {ratio} overall, {median} median of "
          f"{len(results['rounds'])} rounds  (answers: {tips['answers']})")
    out = ROOT / "bench" / "results" / "tips.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.platform(),
        "cpus": os.cpu_count(), "args": vars(args), "tips": tips, "bare": bare, "ratio": ratio,
        "ratio_median_of_rounds": median,
        "rounds": results["rounds"],
        "command": "python bench/bench_tips.py " + " ".join(sys.argv[1:])}, indent=2))
    print(f"results written to {out.relative_to(ROOT)}")


def run(args, db_url: str, tmp: Path) -> dict:
    from gateway import build_services
    from gateway.config import load_settings
    from verification.clients import create_client
    from verification.keys import ensure_signing_key
    from verification.store import upgrade

    env = {"LIVEGATE_DATABASE_URL": db_url, "LIVEGATE_SECRET_KEY": SECRET.hex(),
           "LIVEGATE_INSTANCE": str(tmp / "instance"), "LIVEGATE_LIMIT_PER_TIP_FEN": "1000",
           "LIVEGATE_LIMIT_DAY_FEN": "100000000000", "LIVEGATE_LIMIT_MONTH_FEN": "1000000000000",
           "LIVEGATE_TOKEN_TTL_SECONDS": "3600"}
    settings = load_settings(env=env)
    svc = build_services(settings)
    upgrade(svc.db)
    ensure_signing_key(svc)
    make_subject(svc, "anchor-1")
    tippers = [make_subject(svc, f"fan-{i}", phone=f"+86138{i:08d}") for i in range(args.tippers)]
    tokens = [token_for(svc, who) for who in tippers]
    with svc.db.uow() as session:
        key = create_client(svc, session, "bench", ["tips"])
        session.commit()
    svc.db.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    run_id = uuid.uuid4().hex[:8]

    def tip_body(n: int) -> dict:
        return {"token": tokens[n % len(tokens)], "anchor_id": "anchor-1", "room_id": "room-1",
                "amount_fen": 100 + n % 900, "idempotency_key": f"{run_id}-{n}"}

    # Both servers run side by side; the phases alternate (tips, bare, tips, bare, ...) so that
    # a change in the shared machine's load hits both alike. The ratio is taken per round.
    server = Server(env, tmp / "tips-server.log", workers=args.workers).start()
    port = free_port()
    proc_env = dict(os.environ, **env)
    with open(tmp / "bare-server.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", "4",
                                 "-b", f"127.0.0.1:{port}", "--access-logfile", "-",
                                 "bench.bare_app:create_app()"], cwd=ROOT, env=proc_env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    bare_url = f"http://127.0.0.1:{port}"
    rounds: list[dict] = []
    try:
        for _ in range(300):
            try:
                if requests.get(bare_url + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        drive(server.url + "/v1/tips/authorize", lambda n: tip_body(10**8 + n), 100, 30, 4, headers)  # warm-up
        drive(bare_url + "/bare", lambda n: tip_body(10**8 + n), 100, 30, 4, {})
        per_round = max(1, args.requests // args.rounds)
        for r in range(args.rounds):
            offset = 10**6 * (r + 1)
            tips = drive(server.url + "/v1/tips/authorize", lambda n: tip_body(offset + n), per_round,
                         args.seconds / args.rounds, args.concurrency, headers)
            bare = drive(bare_url + "/bare", lambda n: tip_body(offset + n), per_round,
                         args.seconds / args.rounds, args.concurrency, {})
            rounds.append({"tips": tips, "bare": bare, "ratio": round(tips["per_second"] / bare["per_second"], 2)})
            print(f"round {r + 1}: tips {tips['per_second']}/s, bare {bare['per_second']}/s, "
                  f"ratio {rounds[-1]['ratio']}", flush=True)
    finally:
        import signal

        server.stop()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return {"rounds": rounds, "tips": merge([r["tips"] for r in rounds]),
            "bare": merge([r["bare"] for r in rounds]),
            "ratio_median": statistics.median(r["ratio"] for r in rounds)}


def merge(parts: list[dict]) -> dict:
    """Totals over the rounds; the percentiles are the median of the rounds' percentiles."""
    requests_ = sum(p["requests"] for p in parts)
    seconds = sum(p["seconds"] for p in parts)
    answers: dict[str, int] = {}
    for p in parts:
        for k, v in p["answers"].items():
            answers[k] = answers.get(k, 0) + v
    return {"requests": requests_, "seconds": round(seconds, 2), "per_second": round(requests_ / seconds, 1),
            "p50_ms": statistics.median(p["p50_ms"] for p in parts),
            "p99_ms": statistics.median(p["p99_ms"] for p in parts), "answers": answers}


if __name__ == "__main__":
    main()
