"""Encoding RGBA pixels as PNG and BMP, as OBS's screenshots are, without Pillow."""

from __future__ import annotations

import struct
import zlib

# A pixel-per-metre value for 100 dpi: what OBS (Qt) writes into its BMP headers.
_PPM_100DPI = 3937


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def encode_png(width: int, height: int, rgba: bytes) -> bytes:
    """An 8-bit RGBA PNG (colour type 6, as OBS writes) of `rgba` rows, top to bottom."""
    stride = width * 4
    if len(rgba) != stride * height:
        raise ValueError(f"expected {stride * height} bytes of RGBA, got {len(rgba)}")
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    # Level 1 keeps a full-canvas screenshot fast; the sim's images compress well anyway.
    level = 1 if width * height > 65536 else 6
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(raw, level))
        + _chunk(b"IEND", b"")
    )


def encode_bmp(width: int, height: int, rgba: bytes) -> bytes:
    """A 24-bit bottom-up BMP (as OBS writes) of `rgba` rows, top to bottom."""
    stride = width * 4
    if len(rgba) != stride * height:
        raise ValueError(f"expected {stride * height} bytes of RGBA, got {len(rgba)}")
    pad = (4 - (width * 3) % 4) % 4
    rows = []
    for y in range(height - 1, -1, -1):
        row = rgba[y * stride : (y + 1) * stride]
        bgr = bytearray(width * 3)
        bgr[0::3] = row[2::4]
        bgr[1::3] = row[1::4]
        bgr[2::3] = row[0::4]
        rows.append(bytes(bgr) + b"\x00" * pad)
    pixels = b"".join(rows)
    header = struct.pack(
        "<2sIHHIIiiHHIIiiII",
        b"BM",
        54 + len(pixels),
        0,
        0,
        54,
        40,
        width,
        height,
        1,
        24,
        0,
        len(pixels),
        _PPM_100DPI,
        _PPM_100DPI,
        0,
        0,
    )
    return header + pixels


def encode_pnm(width: int, height: int, rgba: bytes, *, grey: bool = False) -> bytes:
    """A binary PPM (P6) or, with `grey`, PGM (P5) of `rgba`."""
    r, g, b = rgba[0::4], rgba[1::4], rgba[2::4]
    if grey:
        body = bytes((299 * x + 587 * y + 114 * z) // 1000 for x, y, z in zip(r, g, b, strict=True))
        return f"P5\n{width} {height}\n255\n".encode() + body
    rgb = bytearray(width * height * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = r, g, b
    return f"P6\n{width} {height}\n255\n".encode() + bytes(rgb)
