"""Safe decoding of untrusted image uploads.

The header is sniffed before any decoder runs, the declared dimensions are read
from the header and capped (a decompression bomb never reaches a full decode),
and a truncated file is refused rather than half-decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageTooLarge, InvalidImage

_MAGIC = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"RIFF": "webp",  # checked further below
    b"BM": "bmp",
}


@dataclass(frozen=True)
class DecodedImage:
    """An RGB pixel array and what we know of the upload."""

    rgb: np.ndarray
    format: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The image format from the first bytes, or None: never trust the file name."""
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            if kind == "webp" and data[8:12] != b"WEBP":
                return None
            return kind
    return None


def decode(
    data: bytes, *, max_bytes: int = 10 * 1024 * 1024, max_pixels: int = 30_000_000, min_side: int = 32
) -> DecodedImage:
    """Decode ``data`` to RGB or raise InvalidImage / ImageTooLarge with a clear message."""
    if not data:
        raise InvalidImage("the upload is empty")
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MiB")
    kind = sniff(data)
    if kind is None:
        raise InvalidImage("the file is not a JPEG, PNG, WebP or BMP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"the image has {width * height / 1e6:.1f} megapixels; the limit is {max_pixels / 1e6:.0f}"
                )
            if min(width, height) < min_side:
                raise InvalidImage(f"the image is only {width}x{height} pixels", reason="image_too_small")
            img.load()  # raises on truncated data (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
            img = _apply_orientation(img)
            rgb = np.asarray(img.convert("RGB"))
    except (ImageTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLarge("the image has more pixels than the gateway accepts") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"the image could not be decoded ({type(exc).__name__})") from None
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=kind, width=rgb.shape[1], height=rgb.shape[0])


def _apply_orientation(img: Image.Image) -> Image.Image:
    # Phones store portrait photos sideways with an EXIF orientation tag.
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a broken EXIF block is not a reason to refuse the picture
        return img


def downscale(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink so the long side is at most ``max_side``; returns the image and the scale used."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return small, scale


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB array (for crops shown to reviewers and fixtures)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
