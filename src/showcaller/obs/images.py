"""Decoding OBS screenshots (BMP and PNG) into plain RGB pixels, without Pillow.

OBS answers GetSourceScreenshot with a `data:image/<fmt>;base64,…` URL. The speaker
checks only need small images (64×36), so a tiny decoder is enough: BMP (24/32-bit,
uncompressed or bitfields) and PNG (8-bit RGB/RGBA, non-interlaced, all five filters).
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from dataclasses import dataclass


class ImageDecodeError(ValueError):
    """The image data is not in a format this decoder reads."""


@dataclass(frozen=True)
class Image:
    """An RGB image: `rgb` holds width*height*3 bytes, rows top to bottom."""

    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """The (r, g, b) of the pixel at column x, row y (0, 0 is top left)."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise IndexError(f"pixel ({x}, {y}) outside {self.width}x{self.height}")
        i = (y * self.width + x) * 3
        return self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]

    def mean(self) -> tuple[float, float, float]:
        """The mean (r, g, b) over all pixels."""
        n = self.width * self.height
        if n == 0:
            return (0.0, 0.0, 0.0)
        return (
            sum(self.rgb[0::3]) / n,
            sum(self.rgb[1::3]) / n,
            sum(self.rgb[2::3]) / n,
        )


def decode_data_url(url: str) -> Image:
    """Decode a `data:image/(bmp|png);base64,…` URL as OBS returns it."""
    head, sep, payload = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise ImageDecodeError("not a base64 data URL")
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError("bad base64 in data URL") from exc
    return decode_image(data)


def decode_image(data: bytes) -> Image:
    """Decode BMP or PNG bytes, recognised by their signature."""
    if data.startswith(PNG_SIGNATURE):
        return decode_png(data)
    if data.startswith(b"BM"):
        return decode_bmp(data)
    raise ImageDecodeError("neither PNG nor BMP")


# ------------------------------------------------------------------------------ BMP


def decode_bmp(data: bytes) -> Image:
    """Decode an uncompressed 24- or 32-bit BMP (BI_RGB or BI_BITFIELDS)."""
    try:
        (offset,) = struct.unpack_from("<I", data, 10)
        _header_size, width, height, _planes, bpp, compression = struct.unpack_from(
            "<IiiHHI", data, 14
        )
    except struct.error as exc:
        raise ImageDecodeError("truncated BMP header") from exc
    if bpp not in (24, 32) or compression not in (0, 3):
        raise ImageDecodeError(f"unsupported BMP: {bpp} bits, compression {compression}")
    masks = (0x00FF0000, 0x0000FF00, 0x000000FF)
    if compression == 3:
        # BI_BITFIELDS: masks follow a 40-byte header, or sit inside a V4/V5 header.
        masks = struct.unpack_from("<III", data, 14 + 40)
        if bpp != 32:
            raise ImageDecodeError("BI_BITFIELDS BMP that is not 32-bit")
    top_down = height < 0
    height = abs(height)
    if width <= 0:
        raise ImageDecodeError("BMP with no width")
    step = bpp // 8
    stride = (width * step + 3) & ~3
    if len(data) < offset + stride * height:
        raise ImageDecodeError("truncated BMP pixel data")
    shifts = [(m & -m).bit_length() - 1 for m in masks]
    out = bytearray(width * height * 3)
    for row in range(height):
        src_row = row if top_down else height - 1 - row
        start = offset + src_row * stride
        line = data[start : start + width * step]
        dst = row * width * 3
        if bpp == 24 and compression == 0:
            # Stored as BGR: reverse each triple by slicing the whole row at once.
            out[dst : dst + width * 3 : 3] = line[2::3]
            out[dst + 1 : dst + width * 3 : 3] = line[1::3]
            out[dst + 2 : dst + width * 3 : 3] = line[0::3]
            continue
        for x in range(width):
            (value,) = struct.unpack_from("<I", line, x * 4)
            for c in range(3):
                out[dst + x * 3 + c] = (value & masks[c]) >> shifts[c] & 0xFF
    return Image(width, height, bytes(out))


# ------------------------------------------------------------------------------ PNG

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_CHANNELS = {2: 3, 6: 4}  # colour type → channels: RGB, RGBA


def decode_png(data: bytes) -> Image:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (alpha is dropped)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ImageDecodeError("not a PNG")
    pos = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    idat = bytearray()
    while pos + 8 <= len(data):
        length, ctype = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise ImageDecodeError("truncated PNG chunk")
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
    if header is None:
        raise ImageDecodeError("PNG without IHDR")
    width, height, depth, color_type, _compression, _filter, interlace = header
    channels = _COLOR_CHANNELS.get(color_type)
    if depth != 8 or channels is None or interlace != 0:
        raise ImageDecodeError(
            f"unsupported PNG: depth {depth}, colour type {color_type}, interlace {interlace}"
        )
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise ImageDecodeError("corrupt PNG data") from exc
    stride = width * channels
    if len(raw) < (stride + 1) * height:
        raise ImageDecodeError("truncated PNG data")
    pixels = _unfilter(raw, stride, height, channels)
    if channels == 3:
        return Image(width, height, bytes(pixels))
    rgb = bytearray(width * height * 3)
    rgb[0::3] = pixels[0::4]
    rgb[1::3] = pixels[1::4]
    rgb[2::3] = pixels[2::4]
    return Image(width, height, bytes(rgb))


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> bytearray:
    """Undo the per-row PNG filters (None, Sub, Up, Average, Paeth)."""
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(a, b, c)) & 0xFF
        elif kind != 0:
            raise ImageDecodeError(f"unknown PNG filter type {kind}")
        out[row * stride : (row + 1) * stride] = line
        prev = line
    return out


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c
