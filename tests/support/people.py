"""Test people: synthetic ID cards built from the shared face photos at test time."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from fixtures import cards


@dataclass(frozen=True)
class Photo:
    file: str
    identity: str
    notes: str


def labels(faces_dir: Path) -> list[Photo]:
    with open(faces_dir / "LABELS.tsv", encoding="utf-8") as fh:
        return [Photo(r["file"], r["identity"], r.get("notes") or "") for r in csv.DictReader(fh, delimiter="\t")]


def by_identity(faces_dir: Path) -> dict[str, list[Photo]]:
    """Photos of each person with at least two photos (the single-photo oddities left out)."""
    groups: dict[str, list[Photo]] = defaultdict(list)
    for p in labels(faces_dir):
        groups[p.identity].append(p)
    return {k: v for k, v in groups.items() if len(v) >= 2}


@lru_cache(maxsize=256)
def load_rgb(path: str) -> np.ndarray:
    img = Image.open(path)
    img = img.convert("RGB")
    return np.asarray(img)


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def photo_bytes(faces_dir: Path, file: str) -> bytes:
    """The photo re-encoded as JPEG (some shared files are WebP or PNG under a .jpg name)."""
    return jpeg(load_rgb(str(faces_dir / file)))


def make_card(face_engine, photo_rgb: np.ndarray, seed: int, birth_date: date | None = None
              ) -> tuple[cards.Person, bytes]:
    """A card photo (JPEG) for an invented person whose portrait is cut from ``photo_rgb``."""
    faces = face_engine.analyze(photo_rgb, max_faces=1)
    box = None
    if faces:
        b = faces[0].box
        box = (b.top, b.right, b.bottom, b.left)
    person = cards.random_person(random.Random(seed), birth_date=birth_date)
    front = cards.photograph(cards.render_front(person, cards.portrait_from(photo_rgb, box), seed=seed))
    return person, jpeg(front)
