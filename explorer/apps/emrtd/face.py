"""The face image decoded for display: JPEG or JPEG 2000 (Pillow, with OpenJPEG) into a PNG, which
Qt shows (Qt cannot read JPEG 2000 without an extra plugin)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

#: A face image larger than this many pixels is not decoded (a decompression bomb guard: 9303
#: portraits are a few hundred pixels wide).
MAX_PIXELS = 4096 * 4096
JPEG_START = b"\xff\xd8"
J2K_START = b"\xff\x4f\xff\x51"
JP2_SIGNATURE = bytes.fromhex("0000000C6A5020200D0A870A")


class FaceError(ValueError):
    """The image could not be decoded (what Pillow said)."""


@dataclass(frozen=True)
class FaceImage:
    format: str  # "JPEG" or "JPEG 2000"
    width: int
    height: int
    png: bytes


def image_format(image: bytes) -> str | None:
    """JPEG (FF D8), JPEG 2000 as a codestream (FF 4F FF 51) or in a JP2 file, else None."""
    if image.startswith(JPEG_START):
        return "JPEG"
    if image.startswith(J2K_START) or image.startswith(JP2_SIGNATURE[:8]):
        return "JPEG 2000"
    return None


def decode_face(image: bytes) -> FaceImage:
    """The image decoded and re-encoded as PNG; FaceError when it cannot be."""
    kind = image_format(image)
    if kind is None:
        raise FaceError("neither JPEG (FF D8) nor JPEG 2000 (FF 4F FF 51, or a JP2 box)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise FaceError(f"{img.width} x {img.height} pixels: too large to show")
                img.load()
                out = io.BytesIO()
                img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(out, "PNG")
                return FaceImage(kind, img.width, img.height, out.getvalue())
    except FaceError:
        raise
    except Exception as exc:  # a decoder fed a card's bytes may fail any way it likes
        raise FaceError(f"{kind} not decoded: {exc}") from None
