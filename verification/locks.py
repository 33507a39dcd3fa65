"""Row locks that serialise writers: get-or-create a row, then hold it until the transaction ends.

On PostgreSQL this is ``INSERT ... ON CONFLICT DO NOTHING`` then ``SELECT ... FOR UPDATE``, so
two first writers cannot both create the row. SQLite needs neither: ``store`` begins every
transaction with ``BEGIN IMMEDIATE``, which already lets one writer in at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Counter


def insert_ignore(session: Session, model: type, values: dict[str, Any]) -> None:
    """Insert one row unless its primary key already exists (no error, no waiting on SQLite)."""
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(ins(model).values(**values).on_conflict_do_nothing())


def lock_row(session: Session, model: type, key_column: Any, key: Any, defaults: dict[str, Any]) -> Any:
    """The row of ``model`` whose ``key_column`` is ``key``, created from ``defaults`` if missing,
    locked for the rest of the transaction."""
    query = select(model).where(key_column == key).with_for_update().execution_options(populate_existing=True)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        insert_ignore(session, model, defaults)
        row = session.execute(query).scalar_one()
    return row


def lock_key(session: Session, name: str) -> None:
    """Hold a named lock (a ``counters`` row) until the transaction ends."""
    lock_row(session, Counter, Counter.name, name, {"name": name, "value": 0})
