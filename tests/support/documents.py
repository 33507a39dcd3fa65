"""Document images for the document-check tests: cards and passport pages of invented people,
with the portrait cut from a shared face photo so the face checks have a real face to compare."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from fixtures import cards, passports, variants
from verification import idnumber

from .people import by_identity, jpeg, load_rgb

# Under 250 KB a file, so one request stays below the 500 KB where werkzeug's test client
# spools the body to a temporary file it never closes (a ResourceWarning under filterwarnings=error).
QUALITY = 80


def person_photos(faces_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Two photos of one person: one for the document portrait, one for the selfie."""
    groups = by_identity(faces_dir)
    name = sorted(groups, key=lambda k: (-len(groups[k]), k))[0]
    a, b = groups[name][:2]
    return load_rgb(str(faces_dir / a.file)), load_rgb(str(faces_dir / b.file))


def portrait(face_engine, photo: np.ndarray) -> np.ndarray:
    faces = face_engine.analyze(photo, max_faces=1)
    box = None
    if faces:
        b = faces[0].box
        box = (b.top, b.right, b.bottom, b.left)
    return cards.portrait_from(photo, box)


def holder(seed: int = 7, **changes) -> cards.Person:
    """An adult card holder (born 1990)."""
    person = cards.random_person(random.Random(seed), birth_date=date(1990, 4, 12))
    return replace(person, **changes) if changes else person


def other_number(person: cards.Person) -> str:
    """A valid number for someone else born the same day."""
    seq = int(person.number[14:17])
    return idnumber.make(person.number[:6], person.birth_date, (seq + 2) % 1000)


def card_front(person: cards.Person, face: np.ndarray, seed: int = 7, **variant) -> bytes:
    photo = variants.on_table(cards.render_front(person, face, seed=seed), angle=variant.pop("angle", 3.0),
                              scale=0.6)
    if "blur" in variant:
        photo = variants.blur(photo, variant["blur"])
    if "glare" in variant:
        photo = variants.glare(photo, (0.45, 0.5), variant["glare"])
    return jpeg(photo, QUALITY)


def card_back(person: cards.Person, seed: int = 7) -> bytes:
    return jpeg(variants.on_table(cards.render_back(person, seed=seed), angle=-2.0, scale=0.6), QUALITY)


def passport_page(h: passports.Holder, face: np.ndarray, lines: tuple[str, ...] | None = None) -> bytes:
    page = passports.render_page(h, face, lines=lines)
    return jpeg(variants.on_table(page, angle=2.0, scale=1.0))

