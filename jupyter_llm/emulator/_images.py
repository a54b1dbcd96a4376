"""Images sent to the gateway emulator: decode a data URL and read the picture's size.

Only the file header is read (PNG, JPEG, GIF, WebP), so no imaging library is needed.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct
from typing import NamedTuple

_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)"
                       r"(?P<b64>;base64)?,(?P<data>.*)", re.S)


class Image(NamedTuple):
    """What the emulator learnt about one image."""

    format: str
    width: int
    height: int
    size: int

    def describe(self) -> str:
        """``640×480 PNG (12,345 bytes)``."""
        return f"{self.width}×{self.height} {self.format} ({self.size:,} bytes)"

    def tokens(self) -> int:
        """Prompt tokens as Qwen2.5-VL counts them: one per 28×28 patch."""
        return max(1, -(-self.width // 28) * -(-self.height // 28))


def read(url: str) -> Image:
    """Decode a ``data:image/...;base64,`` URL; ValueError says what is wrong with it."""
    if not isinstance(url, str) or not url.startswith("data:"):
        shown = url[:40] if isinstance(url, str) else type(url).__name__
        raise ValueError(f"only data: URLs can be used here (got {shown!r}): "
                         "the emulator does not fetch images from the network")
    match = _DATA_URL.fullmatch(url)
    if not match or not match.group("b64"):
        raise ValueError("malformed data URL: expected data:image/<type>;base64,<data>")
    try:
        raw = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("malformed data URL: the payload is not valid base64") from None
    return size(raw)


def size(raw: bytes) -> Image:
    """Format, width and height from the first bytes of an image file."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR":
        width, height = struct.unpack(">II", raw[16:24])
        return Image("PNG", width, height, len(raw))
    if raw[:2] == b"\xff\xd8":
        return _jpeg(raw)
    if raw[:6] in (b"GIF87a", b"GIF89a") and len(raw) >= 10:
        width, height = struct.unpack("<HH", raw[6:10])
        return Image("GIF", width, height, len(raw))
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP" and len(raw) >= 30:
        return _webp(raw)
    raise ValueError("cannot identify image file: not a PNG, JPEG, GIF or WebP image")


def _jpeg(raw: bytes) -> Image:
    at = 2
    while at + 9 < len(raw):
        if raw[at] != 0xFF:
            at += 1
            continue
        marker = raw[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            at += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", raw[at + 2:at + 4])[0]
        # Start-of-frame markers hold the size; C4, C8 and CC share the range but don't.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", raw[at + 5:at + 9])
            return Image("JPEG", width, height, len(raw))
        at += 2 + length
    raise ValueError("cannot identify image file: a JPEG without a frame header")


def _webp(raw: bytes) -> Image:
    chunk = raw[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(raw[24:27], "little") + 1
        height = int.from_bytes(raw[27:30], "little") + 1
    elif chunk == b"VP8L":
        bits = int.from_bytes(raw[21:25], "little")
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8 ":
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", raw[26:30]))
    else:
        raise ValueError("cannot identify image file: unknown WebP chunk")
    return Image("WebP", width, height, len(raw))
