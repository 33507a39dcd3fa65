"""Tips through a real server process (``livegate serve``: gunicorn, 2 workers × 4 threads) on
PostgreSQL: 64 threads racing one tipper never pass a cap, retries count once, and a SIGKILL
mid-load loses no approved tip and leaves the books balanced."""

from __future__ import annotations

import os
import random
import subprocess
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import SECRET, _reset_postgres, make_services
from tests.support.tip_server import LIVEGATE, Server
from tests.support.tipping import make_subject, token_for
from verification import ledger
from verification.clock import SystemClock
from verification.models import Subject, TipAccount, TipHold
from verification.sms import outbox_messages

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def world(postgres_url, tmp_path, face_engine):
    """A migrated PostgreSQL database with an anchor, two tippers and an API key; the real clock,
    since the server runs on it."""
    _reset_postgres(postgres_url)
    limits = {"limit_per_tip_fen": 1_000, "limit_day_fen": 40_000, "limit_month_fen": 1_000_000}
    svc = make_services(postgres_url, tmp_path, SystemClock(), face_engine, **limits)
    make_subject(svc, "anchor-1")
    make_subject(svc, "fan-a", phone="+8613800000001")
    make_subject(svc, "fan-b", phone="+8613800000002")
    from verification.clients import create_client

    with svc.db.uow() as session:
        key = create_client(svc, session, "tipping-service", ["tips", "anchors"])
        session.commit()
    env = {"LIVEGATE_DATABASE_URL": postgres_url, "LIVEGATE_SECRET_KEY": SECRET.hex(),
           "LIVEGATE_INSTANCE": str(tmp_path / "instance"), "LIVEGATE_LIMIT_PER_TIP_FEN": "1000",
           "LIVEGATE_LIMIT_DAY_FEN": "40000", "LIVEGATE_LIMIT_MONTH_FEN": "1000000"}
    yield svc, {"Authorization": f"Bearer {key}"}, env
    svc.db.dispose()


def _tip(http, url, headers, svc_tokens, who, amount, key):
    resp = http.post(url + "/v1/tips/authorize", headers=headers, timeout=60, json={
        "token": svc_tokens[who], "anchor_id": "anchor-1", "room_id": "room-1", "amount_fen": amount,
        "idempotency_key": key})
    return resp.status_code, resp.json()


def _pass_step_up(svc, url, headers, tokens, who, phone):
    """Tip until half a cap asks for a code, confirm it from the outbox, tip again with the key."""
    http = requests.Session()
    for i in range(100):
        status, body = _tip(http, url, headers, tokens, who, 1_000, f"warm-{who}-{i}")
        assert status == 200, body
        if body["decision"] == "step_up_required":
            with svc.db.uow() as session:
                code = outbox_messages(svc, session, to=phone, last=1)[0]["body"].split("LiveGate: ")[1][:6]
            confirmed = http.post(f"{url}/v1/step-ups/{body['step_up_id']}/confirm", headers=headers,
                                  json={"code": code}, timeout=30)
            assert confirmed.json() == {"confirmed": True}
            status, body = _tip(http, url, headers, tokens, who, 1_000, f"warm-{who}-{i}")
            assert body["decision"] == "approved"
            return
    raise AssertionError("no step-up came")


def test_64_threads_racing_two_tippers_never_pass_a_cap_and_retries_count_once(world, tmp_path):
    svc, headers, env = world
    server = Server(env, tmp_path / "server.log").start()
    try:
        http = requests.Session()
        # fan-b's own monthly cap (15_000) is stricter than the platform's daily one (40_000).
        assert http.put(f"{server.url}/v1/subjects/fan-b/tip-limits", headers=headers,
                        json={"month_fen": 15_000}, timeout=30).status_code == 200
        tokens = {who: token_for(svc, who) for who in ("fan-a", "fan-b")}
        _pass_step_up(svc, server.url, headers, tokens, "fan-a", "+8613800000001")
        _pass_step_up(svc, server.url, headers, tokens, "fan-b", "+8613800000002")

        # Each key is fired by two threads at once and then retried once more; a key always names
        # the same tip (tipper and amount drawn from the key).
        def plan(key_no):
            rng = random.Random(key_no)
            return ("fan-a" if key_no % 3 else "fan-b"), rng.randint(100, 1_000), f"race-{key_no}"

        answers = defaultdict(list)
        lock = threading.Lock()
        barrier = threading.Barrier(64)

        def worker(thread_no):
            session = requests.Session()
            barrier.wait()
            for j in range(8):
                who, amount, key = plan((thread_no % 32) * 8 + j)
                for _ in range(2 if thread_no < 32 else 1):
                    status, body = _tip(session, server.url, headers, tokens, who, amount, key)
                    with lock:
                        answers[key].append((status, body, who, amount))

        with ThreadPoolExecutor(64) as pool:
            list(pool.map(worker, range(64)))
    finally:
        server.stop()

    assert len(answers) == 256 and all(len(v) == 3 for v in answers.values())
    approved = defaultdict(int)
    for key, replies in answers.items():
        assert all(status == 200 for status, *_ in replies), replies
        first = replies[0][1]
        assert all(body == first for _, body, *_ in replies), f"{key}: answers differ: {replies}"
        if first["decision"] == "approved":
            approved[replies[0][2]] += replies[0][3]
    with svc.db.uow() as session:
        spent = {ext: (day, month) for ext, day, month in session.execute(
            select(Subject.external_id, TipAccount.day_spent_fen, TipAccount.month_spent_fen)
            .join(TipAccount, TipAccount.subject_id == Subject.id))}
        held = dict(session.execute(select(Subject.external_id, func.sum(TipHold.amount_fen))
                                    .join(TipHold, TipHold.tipper_subject_id == Subject.id)
                                    .group_by(Subject.external_id)).all())
        report = ledger.check(session)
    warm_a = spent["fan-a"][0] - approved["fan-a"]
    warm_b = spent["fan-b"][1] - approved["fan-b"]
    assert spent["fan-a"][0] <= 40_000 and spent["fan-b"][1] <= 15_000  # no cap passed
    assert spent["fan-a"][0] > 40_000 - 1_000 and spent["fan-b"][1] > 15_000 - 1_000  # the caps did bind
    assert held == {"fan-a": spent["fan-a"][0], "fan-b": spent["fan-b"][1]}
    assert warm_a > 0 and warm_b > 0  # the warm-up tips, counted once each too
    assert report.balanced, report.problems


def test_a_sigkilled_server_loses_no_approved_tip_and_the_books_balance(world, tmp_path):
    svc, headers, env = world
    env = dict(env, LIVEGATE_LIMIT_DAY_FEN="100000000", LIVEGATE_LIMIT_MONTH_FEN="1000000000")
    server = Server(env, tmp_path / "server.log").start()
    tokens = {"fan-a": token_for(svc, "fan-a")}
    results: dict[str, object] = {}
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(10**9))

    def worker(_):
        session = requests.Session()
        while not stop.is_set():
            with lock:
                key = f"load-{next(counter)}"
            try:
                status, body = _tip(session, server.url, headers, tokens, "fan-a", 100, key)
                outcome = body if status == 200 else ("error", status)
            except (requests.RequestException, ValueError):
                outcome = ("lost", None)  # the server died under this request: we do not know
            with lock:
                results[key] = outcome

    try:
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(worker, i) for i in range(16)]
            while sum(1 for r in list(results.values()) if isinstance(r, dict)) < 150:
                threading.Event().wait(0.05)
            server.kill()
            threading.Event().wait(0.5)
            stop.set()
            for f in futures:
                f.result()
        approved = {k: r["hold_id"] for k, r in results.items()
                    if isinstance(r, dict) and r["decision"] == "approved"}
        unknown = [k for k, r in results.items() if not isinstance(r, dict)]
        assert len(approved) >= 150 and unknown, "the kill should catch requests in flight"

        with svc.db.uow() as session:  # every approval a client saw is in the books
            holds = dict(session.execute(select(TipHold.id, TipHold.amount_fen)).all())
            assert all(holds.get(h) == 100 for h in approved.values())
            assert ledger.check(session).balanced

        server.start()  # restart; retry everything in doubt with its key
        http = requests.Session()
        for key in unknown + list(approved)[:20]:
            status, body = _tip(http, server.url, headers, tokens, "fan-a", 100, key)
            assert status == 200 and body["decision"] == "approved"
            if key in approved:
                assert body["hold_id"] == approved[key]
    finally:
        server.stop()
    with svc.db.uow() as session:
        n_holds = session.scalar(select(func.count(TipHold.id)))
        day = session.scalar(select(TipAccount.day_spent_fen).join(Subject, Subject.id == TipAccount.subject_id)
                             .where(Subject.external_id == "fan-a"))
        report = ledger.check(session)
    assert n_holds == len(approved) + len(unknown)  # each key counted exactly once
    assert day == 100 * n_holds
    assert report.balanced, report.problems
    check = subprocess.run([str(LIVEGATE), "ledger", "check"], env=dict(os.environ, **env), capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0 and "ledger balanced" in check.stdout, check.stdout + check.stderr
