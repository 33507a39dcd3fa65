"""Face-match threshold calibration on a labelled photo folder.

The folder holds a ``LABELS.tsv`` (columns ``file``, ``identity``, optional
``notes``) next to the photos, like ``../shared/faces``. Every photo is
analysed once with the face engine the gateway uses; every pair of photos of
the same identity gives a genuine distance, every pair of different
identities an impostor distance. From the two distributions we report FAR
(impostor pairs at or below a threshold) and FRR (genuine pairs above it) at
candidate thresholds and recommend:

- ``accept``: the largest threshold on a 0.01 grid with no false accept on
  the set, at least ``margin`` (0.01) below the closest impostor pair: changing
  the detector's image size alone moves distances by about that much;
- ``reject``: the smallest threshold on the grid at or above which no genuine
  pair falls, so an automatic rejection never hits a genuine pair of the set,
  bounded below by ``accept + min_band`` so there is always a review band.

Photos labelled ``NOFACE`` or ``MULTI:...`` are oddities, not identities: they
are left out of the pairs. A pair the notes mark as the same photograph (a
mirrored or re-encoded copy) is not an independent capture and is left out of
the genuine pairs, and counted.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from .faces import FaceEngine, distance
from .images import decode

_ODDITY = re.compile(r"^(NOFACE|MULTI:)")
_COPY_OF = re.compile(r"copy of ([\w./-]+\.(?:jpe?g|png|webp|bmp))", re.IGNORECASE)

CANDIDATES = tuple(round(0.30 + 0.025 * i, 3) for i in range(17))  # 0.30 .. 0.70


class CalibrationError(ValueError):
    """The folder cannot be calibrated on (no LABELS.tsv, too few identities)."""


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    identity: str
    notes: str = ""


@dataclass
class Pair:
    a: str
    b: str
    distance: float
    genuine: bool


@dataclass
class Calibration:
    """Everything ``livegate calibrate`` prints."""

    photos: int
    encoded: int
    no_face: list[str]
    identities: int
    genuine: list[Pair]
    impostor: list[Pair]
    excluded_same_photo: int
    accept: float
    reject: float
    rows: list[dict[str, float]] = field(default_factory=list)

    @property
    def genuine_distances(self) -> np.ndarray:
        return np.array([p.distance for p in self.genuine], dtype=np.float64)

    @property
    def impostor_distances(self) -> np.ndarray:
        return np.array([p.distance for p in self.impostor], dtype=np.float64)

    def rates(self, threshold: float) -> tuple[float, float]:
        """(FAR, FRR) at ``threshold``: impostors at or below it, genuine pairs above it."""
        g, i = self.genuine_distances, self.impostor_distances
        far = float((i <= threshold).mean()) if len(i) else 0.0
        frr = float((g > threshold).mean()) if len(g) else 0.0
        return far, frr

    def summary(self) -> dict[str, Any]:
        g, i = self.genuine_distances, self.impostor_distances
        far_a, frr_a = self.rates(self.accept)
        return {
            "photos": self.photos, "encoded": self.encoded, "no_face": self.no_face,
            "identities": self.identities, "genuine_pairs": len(g), "impostor_pairs": len(i),
            "excluded_same_photo_pairs": self.excluded_same_photo,
            "genuine": _stats(g), "impostor": _stats(i),
            "recommended": {
                "accept": self.accept, "reject": self.reject,
                "far_at_accept": far_a, "frr_at_accept": frr_a,
                "genuine_in_review": float(((g > self.accept) & (g < self.reject)).mean()) if len(g) else 0.0,
                "impostor_in_review": float(((i > self.accept) & (i < self.reject)).mean()) if len(i) else 0.0,
                "impostor_rejected": float((i >= self.reject).mean()) if len(i) else 0.0,
            },
            "table": self.rows,
        }


def _stats(d: np.ndarray) -> dict[str, float]:
    if not len(d):
        return {}
    return {"min": float(d.min()), "median": float(np.median(d)), "max": float(d.max()),
            "mean": float(d.mean())}


def read_labels(folder: Path) -> list[LabelledPhoto]:
    labels = folder / "LABELS.tsv"
    if not labels.is_file():
        raise CalibrationError(f"{folder} has no LABELS.tsv (columns: file, identity, notes)")
    with open(labels, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if not reader.fieldnames or not {"file", "identity"} <= set(reader.fieldnames):
            raise CalibrationError(f"{labels} needs the columns 'file' and 'identity'")
        photos = [LabelledPhoto(r["file"].strip(), r["identity"].strip(), (r.get("notes") or "").strip())
                  for r in reader if r.get("file") and r.get("identity")]
    if not photos:
        raise CalibrationError(f"{labels} lists no photos")
    return photos


def same_photo_pairs(photos: Iterable[LabelledPhoto]) -> set[frozenset[str]]:
    """Pairs the notes mark as one photograph (``... copy of img11.jpg (same photo)``)."""
    photos = list(photos)
    by_name = {Path(p.file).name: p.file for p in photos}
    out: set[frozenset[str]] = set()
    for p in photos:
        if "same photo" not in p.notes.lower():
            continue
        m = _COPY_OF.search(p.notes)
        if m:
            other = by_name.get(Path(m.group(1)).name)
            if other:
                out.add(frozenset((p.file, other)))
    return out


def encode_folder(folder: Path, photos: list[LabelledPhoto], engine: FaceEngine,
                  progress: Callable[[str], None] | None = None) -> tuple[dict[str, np.ndarray], list[str]]:
    """The encoding of the largest face of each usable photo, and the photos with none."""
    encodings: dict[str, np.ndarray] = {}
    no_face: list[str] = []
    for p in photos:
        if _ODDITY.match(p.identity):
            continue
        path = folder / p.file
        try:
            img = decode(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CalibrationError(f"cannot read {path}: {exc}") from None
        faces = engine.analyze(img.rgb, max_faces=1)
        if progress:
            progress(p.file)
        if not faces:
            no_face.append(p.file)
            continue
        encodings[p.file] = faces[0].encoding
    return encodings, no_face


def calibrate(folder: Path, engine: FaceEngine, *, margin: float = 0.01, min_band: float = 0.05,
              progress: Callable[[str], None] | None = None) -> Calibration:
    """Measure every genuine and impostor distance on ``folder`` and recommend thresholds."""
    folder = Path(folder)
    photos = read_labels(folder)
    encodings, no_face = encode_folder(folder, photos, engine, progress)
    identity = {p.file: p.identity for p in photos}
    skip = same_photo_pairs(photos)
    genuine: list[Pair] = []
    impostor: list[Pair] = []
    excluded = 0
    for a, b in combinations(sorted(encodings), 2):
        same = identity[a] == identity[b]
        if same and frozenset((a, b)) in skip:
            excluded += 1
            continue
        (genuine if same else impostor).append(Pair(a, b, distance(encodings[a], encodings[b]), same))
    identities = len({identity[f] for f in encodings})
    if not genuine or not impostor:
        raise CalibrationError(f"{folder} gives {len(genuine)} genuine and {len(impostor)} impostor pairs; "
                               "calibration needs at least two photos of two people")
    g = np.array([p.distance for p in genuine])
    i = np.array([p.distance for p in impostor])
    accept = math.floor((float(i.min()) - margin) * 100 - 1e-9) / 100  # strictly below the closest impostor
    reject = math.ceil(float(g.max()) * 100 + 1e-9) / 100  # strictly above the farthest genuine pair
    reject = round(max(reject, accept + min_band), 2)
    cal = Calibration(len(photos), len(encodings), no_face, identities, genuine, impostor, excluded,
                      round(accept, 2), reject)
    thresholds = sorted(set(CANDIDATES) | {cal.accept, cal.reject})
    for t in thresholds:
        far, frr = cal.rates(t)
        cal.rows.append({"threshold": t, "far": far, "frr": frr,
                         "false_accepts": int((i <= t).sum()), "false_rejects": int((g > t).sum())})
    return cal


def format_report(cal: Calibration, current: tuple[float, float] | None = None) -> str:
    """The table and recommendation as plain text (what ``livegate calibrate`` prints)."""
    g, i = cal.genuine_distances, cal.impostor_distances
    lines = [
        f"photos: {cal.photos} listed, {cal.encoded} encoded, {len(cal.no_face)} without a face"
        + (f" ({', '.join(cal.no_face)})" if cal.no_face else ""),
        f"identities: {cal.identities}; genuine pairs: {len(g)}; impostor pairs: {len(i)}"
        + (f"; same-photo pairs left out: {cal.excluded_same_photo}" if cal.excluded_same_photo else ""),
        f"genuine distance:  min {g.min():.3f}  median {np.median(g):.3f}  max {g.max():.3f}",
        f"impostor distance: min {i.min():.3f}  median {np.median(i):.3f}  max {i.max():.3f}",
        "",
        "| threshold | FAR | FRR | false accepts | false rejects |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in cal.rows:
        mark = ""
        if r["threshold"] == cal.accept:
            mark += " (accept)"
        if r["threshold"] == cal.reject:
            mark += " (reject)"
        lines.append(f"| {r['threshold']:.3f}{mark} | {r['far']:.2%} | {r['frr']:.2%} | "
                     f"{r['false_accepts']} / {len(i)} | {r['false_rejects']} / {len(g)} |")
    lines += ["", "closest impostor pairs:"]
    lines += [f"  {p.distance:.3f}  {p.a}  {p.b}" for p in sorted(cal.impostor, key=lambda p: p.distance)[:3]]
    lines += ["farthest genuine pairs:"]
    lines += [f"  {p.distance:.3f}  {p.a}  {p.b}"
              for p in sorted(cal.genuine, key=lambda p: p.distance, reverse=True)[:3]]
    s = cal.summary()["recommended"]
    lines += [
        "",
        f"recommended accept threshold: {cal.accept:.2f}  (no false accept on the set; "
        f"FRR at accept {s['frr_at_accept']:.2%})",
        f"recommended reject threshold: {cal.reject:.2f}  (no genuine pair at or above it; "
        f"impostors rejected outright {s['impostor_rejected']:.2%}, "
        f"in review {s['impostor_in_review']:.2%}; genuine in review {s['genuine_in_review']:.2%})",
    ]
    if current is not None:
        far, frr = cal.rates(current[0])
        lines.append(f"current settings: accept {current[0]:.2f} (FAR {far:.2%}, FRR {frr:.2%}), "
                     f"reject {current[1]:.2f}")
    return "\n".join(lines)


def plot(cal: Calibration, path: Path, width: int = 900, height: int = 480) -> None:
    """A PNG of the genuine and impostor distance histograms with the two thresholds (Pillow)."""
    from PIL import Image, ImageDraw

    g, i = cal.genuine_distances, cal.impostor_distances
    lo, hi, nbins = 0.0, max(1.0, float(max(g.max(), i.max())) + 0.05), 50
    edges = np.linspace(lo, hi, nbins + 1)
    hg = np.histogram(g, bins=edges)[0] / max(1, len(g))
    hi_ = np.histogram(i, bins=edges)[0] / max(1, len(i))
    top = max(float(hg.max()), float(hi_.max()), 1e-9)
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    left, right, top_px, bottom = 60, width - 20, 40, height - 50

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (right - left)

    def y(frac: float) -> float:
        return bottom - frac / top * (bottom - top_px)

    d.line([(left, bottom), (right, bottom)], fill="black")
    d.line([(left, top_px), (left, bottom)], fill="black")
    for t in np.arange(0.0, hi + 1e-9, 0.1):
        d.line([(x(t), bottom), (x(t), bottom + 5)], fill="black")
        d.text((x(t) - 10, bottom + 8), f"{t:.1f}", fill="black")
    for frac in np.linspace(0, top, 5):
        d.text((5, y(frac) - 6), f"{frac:.0%}", fill="black")
    bw = (right - left) / nbins
    for k in range(nbins):
        x0 = x(edges[k])
        if hi_[k]:
            d.rectangle([x0 + 1, y(hi_[k]), x0 + bw / 2, bottom], fill=(214, 69, 65))
        if hg[k]:
            d.rectangle([x0 + bw / 2, y(hg[k]), x0 + bw - 1, bottom], fill=(46, 134, 193))
    for t, colour, name in ((cal.accept, (30, 130, 76), "accept"), (cal.reject, (230, 126, 34), "reject")):
        d.line([(x(t), top_px), (x(t), bottom)], fill=colour, width=2)
        d.text((x(t) + 4, top_px + (0 if name == "accept" else 14)), f"{name} {t:.2f}", fill=colour)
    d.text((left, 10), f"face distance: genuine pairs (blue, n={len(g)}) vs impostor pairs (red, n={len(i)})",
           fill="black")
    d.text((right - 160, height - 20), "distance (share of pairs)", fill="black")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
