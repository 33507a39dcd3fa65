"""The genuine/impostor sweep over ../shared/faces through the real verification pipeline.

For every person with two or more photos, a synthetic card is made from one photo and
verified against each *other* photo of that person (genuine) and against the photos of
everyone else (impostor). Used by the integration test and by ``bench/face_sweep.py``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from tests.support.people import by_identity, load_rgb, make_card, photo_bytes
from verification.images import decode
from verification.pipeline import Evidence, Policy, Verifier

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)


class CachingEngine:
    """The real engine, remembering its answer per image so each photo is analysed once."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.cache: dict[bytes, list] = {}

    def analyze(self, rgb: np.ndarray, *, max_faces: int = 5):
        key = hashlib.sha1(rgb.tobytes()).digest() + bytes(str(rgb.shape), "ascii")
        if key not in self.cache:
            self.cache[key] = self.engine.analyze(rgb, max_faces=5)
        return self.cache[key][:max_faces]


@dataclass
class SweepResult:
    genuine: Counter = field(default_factory=Counter)
    impostor: Counter = field(default_factory=Counter)
    genuine_mismatch_usable: list = field(default_factory=list)
    impostor_approved: list = field(default_factory=list)
    unusable: list = field(default_factory=list)
    distances: dict = field(default_factory=lambda: {"genuine": [], "impostor": []})


def run_sweep(faces_dir: Path, face_engine, policy: Policy) -> SweepResult:
    engine = CachingEngine(face_engine)
    verifier = Verifier(faces=engine)
    groups = by_identity(faces_dir)
    cards = {}
    for identity, photos in groups.items():
        for photo in photos:  # the first photo with exactly one face becomes the card portrait
            rgb = load_rgb(str(faces_dir / photo.file))
            if len(engine.analyze(rgb)) == 1:
                person, card = make_card(engine, rgb, seed=len(cards))
                cards[identity] = (photo.file, person, decode(card))
                break
    selfies = {p.file: (ident, decode(photo_bytes(faces_dir, p.file), min_side=32))
               for ident, photos in groups.items() for p in photos}
    out = SweepResult()
    for identity, (card_file, person, card) in cards.items():
        for selfie_file, (selfie_identity, selfie) in selfies.items():
            if selfie_file == card_file:
                continue
            evidence = Evidence("cn_resident_id", person.name, person.number, card, [selfie])
            outcome = verifier.run(evidence, policy, NOW)
            genuine = selfie_identity == identity
            tally = out.genuine if genuine else out.impostor
            tally[outcome.decision] += 1
            match = next(c for c in outcome.checks if c.name == "face_match")
            usable = match.score is not None
            if usable:
                out.distances["genuine" if genuine else "impostor"].append(match.score)
            elif genuine:
                out.unusable.append(selfie_file)
            if genuine and "face_mismatch" in outcome.reasons and usable:
                out.genuine_mismatch_usable.append((card_file, selfie_file, match.score))
            if not genuine and outcome.decision == "approved":
                out.impostor_approved.append((card_file, selfie_file, match.score))
    return out
