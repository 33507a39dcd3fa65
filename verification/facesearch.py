"""1:N face search over the stored face templates of blacklisted identities (R14).

A blacklisted person may not come back under a new account with another document
("change the vest"). The document number catches the same document; this index
catches the same face: every new case's selfie encoding is compared with the face
template of every blacklisted identity, in one vectorised numpy pass.

Threshold: a case is sent to review (``possible_blacklisted_face``) when its nearest
blacklisted face is at or below ``face_accept`` (0.45 by default) — the distance at
which the 1:1 check would call two faces the same person. The reject threshold (0.65)
is too loose for a 1:N search: on the shared photos about 1 % of impostor pairs fall
below it, and with N blacklisted faces the chance that *some* stranger does grows
with N (1,000 entries would flag nearly every honest case). At the accept threshold no
impostor pair of the calibration set matched (minimum impostor distance 0.483) while
84 % of genuine pairs did (81 of 97). A match sends the case to a reviewer; it never
rejects on its own, because a face is not an identifier the way a document number is.

The index is cached per database (in this process) and kept fresh by a version
counter that every blacklist change bumps in the same transaction; a search first
reads the counter (one primary-key read) and decrypts only templates it has not seen.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from .checks import PASS, REVIEW, CheckResult
from .context import Services
from .models import Counter, Identity
from .store import Database

DIMENSIONS = 128
VERSION_COUNTER = "face_blacklist"
REASON = "possible_blacklisted_face"
FACE_CONTEXT = b"face_template"


@dataclass(frozen=True)
class Match:
    """The nearest template: which identity it belongs to and how far it is."""

    identity_id: int
    distance: float


class FaceIndex:
    """An in-memory matrix of templates with their identity ids; exact Euclidean 1:N search.

    Rows are kept as float32: the search is one pass over the matrix and bounded by memory
    bandwidth, so half the bytes is about half the time. Candidates are chosen with a small
    margin and their distances recomputed in float64, so what comes back is exact."""

    _MARGIN = 1e-3

    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions
        self.ids = np.empty(0, dtype=np.int64)
        self.matrix = np.empty((0, dimensions), dtype=np.float32)
        self.sq_norms = np.empty(0, dtype=np.float32)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def replace(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        """Swap in a whole new set of templates (rows of ``matrix``, one per id)."""
        matrix = np.ascontiguousarray(matrix, dtype=np.float32).reshape(-1, self.dimensions)
        if matrix.shape[0] != len(ids):
            raise ValueError("one template per id")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = matrix
        self.sq_norms = np.einsum("ij,ij->i", matrix, matrix)

    def row(self, i: int) -> np.ndarray:
        return self.matrix[i].astype(np.float64)

    def _squared(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q64 = np.asarray(query, dtype=np.float64).reshape(self.dimensions)
        q = q64.astype(np.float32)
        # |a-b|^2 = |a|^2 - 2 a.b + |b|^2: one matrix-vector product for all N rows.
        return self.sq_norms - 2.0 * (self.matrix @ q) + np.float32(q @ q), q64

    def _exact(self, rows: np.ndarray, q64: np.ndarray) -> np.ndarray:
        return np.linalg.norm(self.matrix[rows].astype(np.float64) - q64, axis=1)

    def nearest(self, query: np.ndarray, k: int = 1) -> list[Match]:
        """The ``k`` nearest templates to ``query``, nearest first."""
        if len(self) == 0:
            return []
        d2, q64 = self._squared(query)
        k = min(k, len(self))
        # A few extra candidates so float32 rounding cannot change who is nearest.
        c = min(len(self), k + 8)
        top = np.argpartition(d2, c - 1)[:c] if c < len(self) else np.arange(len(self))
        exact = self._exact(top, q64)
        order = np.argsort(exact, kind="stable")[:k]
        return [Match(int(self.ids[top[i]]), float(exact[i])) for i in order]

    def within(self, query: np.ndarray, threshold: float) -> list[Match]:
        """Every template at or below ``threshold`` from ``query``, nearest first."""
        if len(self) == 0:
            return []
        d2, q64 = self._squared(query)
        loose = (threshold + self._MARGIN) ** 2
        candidates = np.flatnonzero(d2 <= loose)
        exact = self._exact(candidates, q64)
        keep = exact <= threshold
        candidates, exact = candidates[keep], exact[keep]
        order = np.argsort(exact, kind="stable")
        return [Match(int(self.ids[candidates[i]]), float(exact[i])) for i in order]


class BlacklistFaces:
    """The index of blacklisted faces for one database, refreshed when the blacklist changes."""

    def __init__(self) -> None:
        self.index = FaceIndex()
        self.version: int | None = None
        self._lock = threading.Lock()

    def refresh(self, svc: Services, session: Session) -> FaceIndex:
        """Bring the index up to the stored blacklist (cheap when nothing changed)."""
        version = current_version(session)
        if version == self.version:
            return self.index
        with self._lock:
            if version == self.version:
                return self.index
            rows = session.execute(
                select(Identity.id, Identity.face_enc)
                .where(Identity.blacklisted.is_(True), Identity.face_enc.is_not(None))
                .order_by(Identity.id)
            ).all()
            known = {int(i): self.index.row(n) for n, i in enumerate(self.index.ids.tolist())}
            ids: list[int] = []
            vectors: list[np.ndarray] = []
            for identity_id, blob in rows:
                vec = known.get(identity_id)
                if vec is None:
                    vec = decode_template(svc, blob)
                    if vec is None:
                        continue
                ids.append(identity_id)
                vectors.append(vec)
            matrix = np.vstack(vectors) if vectors else np.empty((0, DIMENSIONS))
            self.index.replace(np.asarray(ids, dtype=np.int64), matrix)
            self.version = version
            return self.index


_CACHES: weakref.WeakKeyDictionary[Database, BlacklistFaces] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def blacklist_faces(svc: Services) -> BlacklistFaces:
    """This process's cached index for the services' database."""
    with _CACHES_LOCK:
        cache = _CACHES.get(svc.db)
        if cache is None:
            cache = _CACHES[svc.db] = BlacklistFaces()
        return cache


def decode_template(svc: Services, blob: bytes | None) -> np.ndarray | None:
    """A stored template decrypted to its 128 float64 values (None if absent or malformed)."""
    if not blob:
        return None
    raw = svc.cipher.decrypt(bytes(blob), FACE_CONTEXT)
    if len(raw) != DIMENSIONS * 8:
        return None
    return np.frombuffer(raw, dtype=np.float64).copy()


def current_version(session: Session) -> int:
    return int(session.scalar(select(Counter.value).where(Counter.name == VERSION_COUNTER)) or 0)


def bump_version(session: Session) -> None:
    """Mark the blacklist as changed; call in the transaction that changes it."""
    row = session.execute(
        select(Counter).where(Counter.name == VERSION_COUNTER).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        session.add(Counter(name=VERSION_COUNTER, value=1))
    else:
        row.value = (row.value or 0) + 1
    session.flush()


def check_blacklisted_face(svc: Services, session: Session,
                           selfie_encoding: np.ndarray | None) -> CheckResult | None:
    """``review / possible_blacklisted_face`` when the selfie is close to a blacklisted face."""
    if selfie_encoding is None:
        return None
    threshold = svc.settings.face_accept
    index = blacklist_faces(svc).refresh(svc, session)
    matches = index.within(selfie_encoding, threshold)
    if not matches:
        # No score on a pass: how near someone is to a blacklisted face is not the client's business.
        return CheckResult("blacklist_face", PASS, None, details={"searched": len(index)})
    return CheckResult("blacklist_face", REVIEW, REASON, score=matches[0].distance, threshold=threshold,
                       details={"searched": len(index),
                                "matches": [{"identity_id": m.identity_id, "distance": round(m.distance, 4)}
                                            for m in matches[:5]]})
