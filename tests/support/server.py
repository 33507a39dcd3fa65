"""A real gateway process on a free loopback port, driven like a platform would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

BIN = Path(sys.executable).parent / "livegate"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"livegate {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def server_env(tmp_path: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEGATE_")}
    env.update({"LIVEGATE_INSTANCE": str(tmp_path / "instance"), "LIVEGATE_DATABASE_URL": db_url,
                "LIVEGATE_SECRET_KEY": "ab" * 32})
    env.update(extra)
    return env


@contextmanager
def running_server(env: dict[str, str], workers: int = 1):
    port = free_port()
    log = open(Path(env["LIVEGATE_INSTANCE"]) / f"server-{port}.log", "w")
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def reviewers_and_server(env: dict[str, str], logins=(("alice", "reviewer"), ("bob", "supervisor")),
                         workers: int = 2):
    """Create reviewer accounts with the CLI, then run the gateway; yields (base URL, one-time passwords)."""
    Path(env["LIVEGATE_INSTANCE"]).mkdir(parents=True, exist_ok=True)
    passwords = {login: cli(env, "create-reviewer", login, "--role", role).stdout.strip()
                 for login, role in logins}
    with running_server(env, workers=workers) as (base, _):
        yield base, passwords
