import pytest

from tests.support import badfiles
from verification.errors import ImageTooLarge, InvalidImage
from verification.images import decode


def test_a_good_jpeg_decodes_to_rgb():
    img = decode(badfiles.good_jpeg(640, 480))
    assert img.rgb.shape == (480, 640, 3) and img.format == "jpeg"


@pytest.mark.parametrize("data, reason", [
    (b"", "invalid_image"),
    (badfiles.truncated_jpeg(), "invalid_image"),
    (badfiles.pdf_bytes(), "invalid_image"),
    (b"GIF89a" + b"\x00" * 100, "invalid_image"),
])
def test_non_images_and_broken_images_are_refused(data, reason):
    with pytest.raises(InvalidImage) as err:
        decode(data)
    assert err.value.reason == reason


def test_a_50_megapixel_image_is_refused_before_it_is_decoded():
    data = badfiles.fifty_megapixel_png()
    assert len(data) < 200_000  # small file, huge image: the decompression-bomb shape
    with pytest.raises(ImageTooLarge):
        decode(data, max_pixels=30_000_000)


def test_a_file_over_the_size_cap_is_refused():
    with pytest.raises(ImageTooLarge):
        decode(badfiles.good_jpeg(), max_bytes=1000)


def test_a_tiny_image_is_refused_as_too_small():
    with pytest.raises(InvalidImage) as err:
        decode(badfiles.good_jpeg(40, 40), min_side=120)
    assert err.value.reason == "image_too_small"


def test_a_header_claiming_ten_billion_pixels_is_too_large_not_merely_invalid():
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header_only = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
                   + chunk(b"IDAT", zlib.compress(b"\x00" * 64)))
    with pytest.raises(ImageTooLarge):
        decode(header_only)
