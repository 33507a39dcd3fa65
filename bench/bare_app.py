"""The baseline for bench_tips.py: the same stack (Flask on gunicorn, SQLAlchemy, PostgreSQL)
answering a JSON POST with exactly one INSERT and nothing else: no auth, no token, no lock.

    gunicorn -w 2 --threads 4 'bench.bare_app:create_app()'   (LIVEGATE_DATABASE_URL set)
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, create_engine, insert

metadata = MetaData()
bare = Table("bench_bare", metadata, Column("id", BigInteger, primary_key=True, autoincrement=True),
             Column("key", String(128)), Column("amount_fen", Integer))


def create_app() -> Flask:
    engine = create_engine(os.environ["LIVEGATE_DATABASE_URL"], pool_pre_ping=True)
    metadata.create_all(engine)
    app = Flask(__name__)

    @app.post("/bare")
    def bare_insert():
        body = request.get_json()
        with engine.begin() as conn:
            row_id = conn.execute(insert(bare).values(key=body["idempotency_key"], amount_fen=body["amount_fen"])
                                  .returning(bare.c.id)).scalar_one()
        return jsonify({"id": row_id})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app
