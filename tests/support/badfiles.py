"""Bad uploads, made on the fly."""

from __future__ import annotations

import io
import zlib
import struct

import numpy as np
from PIL import Image


def good_jpeg(w: int = 640, h: int = 480) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    data = good_jpeg()
    return data[: len(data) // 2]


def fifty_megapixel_png() -> bytes:
    """A valid 10000 × 5000 PNG, tiny on disk (one flat colour), 50 megapixels when decoded."""
    w, h = 10_000, 5_000
    raw = b"".join(b"\x00" + b"\x80" * w for _ in range(h))  # grayscale rows, filter byte 0

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
