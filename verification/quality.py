"""Image quality gates for document photos, and finding the document in the photo.

Runs before any reading, so the app can tell the user what to fix (a short hint)
instead of the gateway guessing at a bad picture. In order: the photo is large
enough, not too dark, the document is found (and not cut off by the frame); the
document is then cut out and its perspective corrected, and the flattened image
is checked for blur and glare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .checks import FAIL, PASS, CheckResult

ID_CARD_RATIO = 85.6 / 54.0  # ISO/IEC 7810 ID-1
PASSPORT_PAGE_RATIO = 125.0 / 88.0  # ID-3 data page

HINTS = {
    "image_too_small": "move closer: the document should fill most of the picture",
    "image_too_dark": "find better light",
    "document_not_found": "place the whole document flat on a plain, darker surface",
    "document_cut_off": "fit the whole document inside the frame",
    "document_too_small": "move closer",
    "document_blurred": "hold still and let the camera focus",
    "document_glare": "tilt the document to avoid glare",
}


@dataclass(frozen=True)
class Thresholds:
    """Where each gate refuses; calibrated on the generated variants (see docs/documents.md)."""

    min_short_side: int = 300
    min_document_width: int = 480  # pixels of the document's long side in the photo
    min_brightness: float = 50.0  # mean grey level of the document (0-255)
    min_sharpness: float = 40.0  # variance of the Laplacian on the flattened document
    max_glare: float = 0.006  # largest saturated blob, as a fraction of the document's area
    min_contrast: float = 12.0  # standard deviation of the grey levels: a blank page has none
    work_side: int = 1200  # long side the photo is shrunk to for finding the document


@dataclass
class Assessment:
    """The gate's result: the checks, and the flattened document when it passed."""

    checks: list[CheckResult]
    document: np.ndarray | None = None  # RGB, perspective-corrected, ``width`` wide
    quad: list[tuple[float, float]] | None = None  # corners in the original photo
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.verdict != FAIL for c in self.checks)


def refuse(reason: str, **details) -> CheckResult:
    """A failed ``document_image`` check with the reason's hint."""
    score = details.pop("score", None)
    threshold = details.pop("threshold", None)
    return CheckResult("document_image", FAIL, reason, score=score, threshold=threshold,
                       details=details, hint=HINTS.get(reason))


def assess(rgb: np.ndarray, *, ratio: float = ID_CARD_RATIO, width: int = 1000,
           thresholds: Thresholds = Thresholds(), require_document: bool = True) -> Assessment:
    """Gate a photo of a document of aspect ``ratio`` and flatten it to ``width`` pixels wide."""
    import cv2

    t = thresholds
    h, w = rgb.shape[:2]
    if min(h, w) < t.min_short_side:
        return Assessment([refuse("image_too_small", score=float(min(h, w)),
                                  threshold=float(t.min_short_side), size=[w, h])])
    scale = min(1.0, t.work_side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    quad = find_quad(gray, ratio)
    measures: dict[str, float] = {}
    image_ratio = max(h, w) / min(h, w)
    fills_frame = abs(image_ratio / ratio - 1) <= 0.06
    if quad is not None and fills_frame and cv2.contourArea(quad) < 0.25 * gray.size:
        quad = None  # a shape printed on a document that fills the frame, not the document
    if quad is None:
        cut = _touches_border(gray, ratio)
        if fills_frame and not cut:
            quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)  # fills the frame
            measures["full_frame"] = 1.0
        elif require_document:
            if float(gray.mean()) < t.min_brightness:
                return Assessment([refuse("image_too_dark", score=float(gray.mean()),
                                          threshold=t.min_brightness)])
            return Assessment([refuse("document_cut_off" if cut else "document_not_found")])
        else:
            quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
            measures["full_frame"] = 1.0
    else:
        quad = quad / scale

    doc_long = float(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])))
    measures["document_width"] = doc_long
    if doc_long < t.min_document_width:
        return Assessment([refuse("document_too_small", score=doc_long,
                                  threshold=float(t.min_document_width))], quad=_corners(quad),
                          measures=measures)
    flat = warp(rgb, quad, width, round(width / ratio))
    flat_gray = cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY)
    brightness = float(flat_gray.mean())
    measures["brightness"] = brightness
    if brightness < t.min_brightness:
        return Assessment([refuse("image_too_dark", score=brightness, threshold=t.min_brightness)],
                          quad=_corners(quad), measures=measures)
    fh, fw = flat_gray.shape
    contrast = float(flat_gray[fh // 10:fh - fh // 10, fw // 10:fw - fw // 10].std())
    measures["contrast"] = contrast
    if contrast < t.min_contrast:
        # A blank sheet or an empty table: nothing printed on it, so there is no document.
        return Assessment([refuse("document_not_found", score=contrast, threshold=t.min_contrast)],
                          quad=_corners(quad), measures=measures)
    sharp = sharpness(flat_gray)
    measures["sharpness"] = sharp
    glare, where = glare_fraction(flat)
    measures["glare"] = glare
    checks: list[CheckResult] = []
    if glare > t.max_glare:
        checks.append(refuse("document_glare", score=glare, threshold=t.max_glare, region=where))
    elif sharp < t.min_sharpness:
        checks.append(refuse("document_blurred", score=sharp, threshold=t.min_sharpness))
    else:
        checks.append(CheckResult("document_image", PASS, None, score=sharp, threshold=t.min_sharpness,
                                  details={k: round(v, 4) for k, v in measures.items()}))
    return Assessment(checks, flat if checks[0].verdict == PASS else None, _corners(quad), measures)


def _corners(quad: np.ndarray) -> list[tuple[float, float]]:
    return [(round(float(x), 1), round(float(y), 1)) for x, y in quad]


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left, with the long side first (landscape)."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise in image coordinates, starting near the top-left
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    if np.linalg.norm(pts[1] - pts[0]) < np.linalg.norm(pts[3] - pts[0]):
        pts = np.roll(pts, -1, axis=0)  # standing on its short side: make the long side the top
    return pts


def find_quad(gray: np.ndarray, ratio: float) -> np.ndarray | None:
    """The corners of the largest document-shaped quadrilateral in ``gray``, or None."""
    import cv2

    h, w = gray.shape
    area = float(h * w)
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    median = float(np.median(blurred))
    edges = cv2.Canny(blurred, int(max(10, 0.5 * median)), int(min(255, max(40, 1.2 * median))))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    masks = [edges]
    _, otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(otsu, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)))
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            if cv2.contourArea(c) < 0.03 * area:
                break
            hull = cv2.convexHull(c)
            peri = cv2.arcLength(hull, True)
            quad = None
            for eps in (0.02, 0.03, 0.05):
                approx = cv2.approxPolyDP(hull, eps * peri, True)
                if len(approx) == 4:
                    quad = approx.reshape(4, 2).astype(np.float32)
                    break
            if quad is None:
                quad = cv2.boxPoints(cv2.minAreaRect(c)).astype(np.float32)
            if _on_border(quad, w, h) or cv2.contourArea(quad) > 0.97 * area:
                continue
            quad = order_corners(quad)
            long_side = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
            short_side = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
            if short_side <= 0:
                continue
            # Perspective shortens one side; accept a generous band around the true ratio.
            if 0.7 * ratio <= long_side / short_side <= 1.45 * ratio:
                return quad
    return None


def _on_border(quad: np.ndarray, w: int, h: int, margin: int = 2) -> bool:
    xs, ys = quad[:, 0], quad[:, 1]
    return bool((xs <= margin).any() or (ys <= margin).any() or (xs >= w - 1 - margin).any()
                or (ys >= h - 1 - margin).any())


def _touches_border(gray: np.ndarray, ratio: float) -> bool:
    """Whether a large light, document-like region runs into the edge of the frame."""
    import cv2

    h, w = gray.shape
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    _, otsu = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(otsu)
    for i in range(1, n):
        x, y, bw, bh, a = stats[i]
        if a < 0.15 * h * w or (bw >= w - 2 and bh >= h - 2):
            continue
        if x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1:
            return True
    return False


def warp(rgb: np.ndarray, quad: np.ndarray, width: int, height: int) -> np.ndarray:
    """The quadrilateral ``quad`` (ordered corners) mapped onto a ``width`` × ``height`` rectangle."""
    import cv2

    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    return cv2.warpPerspective(rgb, m, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: high for crisp text edges, low for a blurred picture."""
    import cv2

    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def glare_fraction(rgb: np.ndarray) -> tuple[float, str]:
    """The largest blown-out (near white, colourless) blob as a fraction of the image, and where it is."""
    import cv2

    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    mask = ((hsv[..., 2] >= 250) & (hsv[..., 1] <= 30)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask)
    if n <= 1:
        return 0.0, ""
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    h, w = mask.shape
    cx = centroids[i][0] / w
    return float(stats[i, cv2.CC_STAT_AREA]) / float(h * w), "portrait" if cx > 0.64 else "text"
