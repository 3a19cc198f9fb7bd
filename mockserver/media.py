"""Real media bytes for the mock: pictures and sounds that decoders and players actually open.

Clients under test often hand generated images and audio straight to Pillow, a browser or ffmpeg,
so placeholder bytes would fail far from the mock. Pictures and WAV/PCM are synthesised on the fly
(deterministically, so recorded journals and snapshots stay stable); the compressed audio formats
and the MP4 are small sample files made once with ffmpeg and shipped in ``fixtures/media/``, so the
runtime needs no encoder.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import math
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator

IMAGE_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

AUDIO_MEDIA_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}

# Compressed formats come from shipped samples: a correct encoder is far more code than a 4 KB file.
_AUDIO_SAMPLES = {"mp3": "tone.mp3", "opus": "tone.opus", "aac": "tone.aac", "flac": "tone.flac"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _digest(seed: int, label: str) -> bytes:
    # A stable hash (unlike hash(), which is salted per process) so the same request gives the
    # same bytes in every run.
    return hashlib.blake2b(f"{seed}\0{label}".encode(), digest_size=16).digest()


# ---------------------------------------------------------------------------------------- images


def _channels(width: int, height: int, seed: int, label: str) -> tuple[bytes, bytes, bytes]:
    """The picture as three 1-D byte strings: a horizontal red ramp, green levels along x + y
    (diagonal stripes) and a vertical blue ramp, with ends and stripe width from the digest.

    Pixel (x, y) is ``(red[x], green[x + y], blue[y])``.
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    d = _digest(seed, label)

    def ramp(start: int, end: int, n: int) -> bytes:
        return bytes(start + (end - start) * i // max(n - 1, 1) for i in range(n))

    # Stripe levels sit in separate halves of 0..255, so every picture wider or taller than one
    # pixel varies whatever the digest.
    low, high, period = d[2] // 2, 128 + d[3] // 2, 24 + d[4] % 72
    green = bytes(
        low + (high - low) * abs((i % period) * 2 - period) // period for i in range(width + height)
    )
    return ramp(d[0], d[1], width), green, ramp(d[5], d[6], height)


def _interleave(red: bytes, green: bytes, blue: bytes, rows: range) -> Iterator[bytes]:
    """Yield RGB rows built from :func:`_channels`-shaped strings.

    Each channel goes into the row by strided slice assignment, so a row costs a few C-level
    copies instead of a Python loop over pixels.
    """
    width = len(red)
    row = bytearray(3 * width)
    row[0::3] = red
    for y in rows:
        row[1::3] = green[y : y + width]
        row[2::3] = blue[y : y + 1] * width
        yield bytes(row)


def _rgb(width: int, height: int, seed: int, label: str) -> bytes:
    red, green, blue = _channels(width, height, seed, label)
    return b"".join(_interleave(red, green, blue, range(height)))


def _delta(levels: bytes) -> bytes:
    # levels[i] - levels[i - 1] modulo 256, the form PNG filters store; index 0 is never read.
    return bytes([0]) + bytes((b - a) & 0xFF for a, b in itertools.pairwise(levels))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png(width: int, height: int, *, seed: int = 0, label: str = "") -> bytes:
    """An 8-bit RGB PNG of exactly ``width`` x ``height``, deterministic for all four arguments."""
    red, green, blue = _channels(width, height, seed, label)
    # Row 0 goes in unfiltered (filter type 0). Every later row uses filter 2 (Up: the difference
    # from the row above), which for this picture is the same interleave of the channels'
    # differences: red never changes down a column, green shifts by one along the diagonal and
    # blue steps by a constant. The filtered data is so repetitive that zlib takes ~10 ms instead
    # of ~50 ms on 1792x1024 and the file is ~16x smaller.
    first = next(_interleave(red, green, blue, range(1)))
    rest = _interleave(bytes(width), _delta(green), _delta(blue), range(1, height))
    raw = b"".join([b"\0", first, *(b"\2" + row for row in rest)])
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, colour type 2 = RGB
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(raw, 1))
        + _png_chunk(b"IEND", b"")
    )


MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
"""The largest picture made (a 4096x4096 one holds ~120 MB while it is encoded)."""


def image(width: int, height: int, fmt: str, *, seed: int = 0, label: str = "") -> bytes:
    """The :func:`png` picture encoded as ``fmt`` (png, jpeg or webp)."""
    if width * height > MAX_PIXELS:  # whatever a request claims, memory stays bounded
        raise ValueError(f"image of {width}x{height} is over {MAX_PIXELS} pixels")
    if fmt == "png":
        return png(width, height, seed=seed, label=label)
    if fmt not in IMAGE_MEDIA_TYPES:
        raise ValueError(f"unsupported image format {fmt!r}; expected {sorted(IMAGE_MEDIA_TYPES)}")
    # Imported here so PNG-only callers never pay Pillow's import time.
    from PIL import Image

    picture = Image.frombytes("RGB", (width, height), _rgb(width, height, seed, label))
    out = io.BytesIO()
    picture.save(out, format=fmt.upper(), quality=85)
    return out.getvalue()


def grid(width: int, height: int, *, seed: int = 0, fmt: str = "png") -> bytes:
    """A 2x2 grid of four different pictures, as Midjourney answers an imagine: one file, four tiles."""
    from PIL import Image

    left, top = width // 2, height // 2
    canvas = Image.new("RGB", (width, height))
    for tile, (x, y) in enumerate(((0, 0), (left, 0), (0, top), (left, top))):
        w, h = (left if x == 0 else width - left), (top if y == 0 else height - top)
        canvas.paste(Image.frombytes("RGB", (w, h), _rgb(w, h, seed, f"tile{tile + 1}")), (x, y))
    out = io.BytesIO()
    canvas.save(out, format=fmt.upper(), compress_level=1) if fmt == "png" else canvas.save(out, format=fmt.upper(), quality=85)
    return out.getvalue()


def image_size(data: bytes) -> tuple[str, int, int]:
    """Read ``(format, width, height)`` from a PNG, JPEG or WebP header without decoding pixels."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"\xff\xd8"):
        return ("jpeg", *_jpeg_size(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    raise ValueError("not a PNG, JPEG or WebP image")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    # Walk the marker segments up to the first start-of-frame, which holds the size. C4 (DHT),
    # C8 (JPG) and CC (DAC) share the SOF range but are not frames.
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:  # markers without a length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ValueError("JPEG without a start-of-frame segment")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy: key-frame start code
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:  # lossless: 14-bit (size - 1) fields
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit (canvas size - 1) fields
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ValueError("WebP without a recognised VP8/VP8L/VP8X chunk")


# ----------------------------------------------------------------------------------------- audio


@functools.cache
def _tone_second(sample_rate: int, seed: int) -> bytes:
    """One second of the tone as s16le samples.

    The frequency is a whole number of hertz and the tremolo 2 Hz, so one second holds whole
    cycles of both and longer sounds are this block repeated, with no Python loop per sample.
    """
    frequency = 220 + int.from_bytes(_digest(seed, "tone")[:2], "big") % 440
    step = 2 * math.pi / sample_rate
    # Peak ~6000 of 32767 (about -15 dBFS): audible but soft.
    samples = array(
        "h",
        (
            int(6000 * (0.75 + 0.25 * math.sin(2 * step * i)) * math.sin(frequency * step * i))
            for i in range(sample_rate)
        ),
    )
    if sys.byteorder == "big":  # array stores native order; the formats want little-endian
        samples.byteswap()
    return samples.tobytes()


def pcm(duration_s: float, sample_rate: int = 24000, seed: int = 0) -> bytes:
    """Raw signed 16-bit little-endian mono samples of a soft tone.

    ``round(duration_s * sample_rate)`` samples, deterministic for the three arguments.
    """
    if duration_s < 0 or sample_rate < 1:
        raise ValueError(f"need duration_s >= 0 and sample_rate >= 1, got {duration_s}/{sample_rate}")
    count = round(duration_s * sample_rate)
    block = _tone_second(sample_rate, seed)
    samples = array("h")
    samples.frombytes((block * (count // sample_rate + 1))[: 2 * count])
    # 10 ms fades so the sound starts and stops without a click.
    fade = min(sample_rate // 100, count // 2)
    for i in range(fade):
        samples[i] = samples[i] * i // fade
        samples[count - 1 - i] = samples[count - 1 - i] * i // fade
    return samples.tobytes()


def wav(duration_s: float, *, sample_rate: int = 24000, seed: int = 0) -> bytes:
    """:func:`pcm`'s samples behind a canonical 44-byte RIFF/WAVE header (16-bit mono PCM)."""
    data = pcm(duration_s, sample_rate, seed)
    # RIFF header, a 16-byte fmt chunk (format 1 = PCM, 1 channel, byte rate, block align 2,
    # 16 bits per sample), then the data chunk.
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE",
        b"fmt ", 16, 1, 1, sample_rate, 2 * sample_rate, 2, 16,
        b"data", len(data),
    )  # fmt: skip
    return header + data


def audio(fmt: str, duration_s: float, seed: int = 0) -> tuple[bytes, str]:
    """``(bytes, media type)`` of a sound in ``fmt``.

    wav and pcm (24 kHz) last ``duration_s``; mp3, opus (Ogg), aac (ADTS) and flac are the
    shipped ~1 s samples whatever the duration and seed.
    """
    if fmt not in AUDIO_MEDIA_TYPES:
        raise ValueError(f"unsupported audio format {fmt!r}; expected {sorted(AUDIO_MEDIA_TYPES)}")
    if fmt == "wav":
        data = wav(duration_s, seed=seed)
    elif fmt == "pcm":
        data = pcm(duration_s, seed=seed)
    else:
        data = sample(_AUDIO_SAMPLES[fmt])
    return data, AUDIO_MEDIA_TYPES[fmt]


@functools.cache
def sample(name: str) -> bytes:
    """The bytes of the shipped sample ``fixtures/media/<name>`` (e.g. ``tone.wav`` for uploads)."""
    # Imported here: resources resolves the data directory, which only sample users need.
    from mockserver.resources import fixtures_dir

    return (fixtures_dir() / "media" / name).read_bytes()


def mp4() -> bytes:
    """A ~1 s 320x240 H.264/AAC MP4."""
    return sample("sample.mp4")


# -------------------------------------------------------------------------------------- sniffing


def media_type_of(data: bytes) -> str | None:
    """The media type that ``data``'s magic bytes announce, or None when unrecognised."""
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF":
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(data[8:12])
    if data.startswith(b"OggS"):
        # The first page carries the codec's identification header.
        return "audio/opus" if data[28:36] == b"OpusHead" else "audio/ogg"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data[4:8] == b"ftyp":
        return "audio/mp4" if data[8:11] == b"M4A" else "video/mp4"
    if data.startswith(b"ID3") and len(data) >= 10:
        # Skip the ID3v2 tag (syncsafe size, plus a footer when flagged) to reach the first frame.
        size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
        data = data[10 + size + (10 if data[5] & 0x10 else 0) :]
    if len(data) >= 2 and data[0] == 0xFF:
        # Both are frame streams with a sync word: ADTS has 12 sync bits and layer 0, MPEG audio
        # 11 sync bits and a non-zero layer.
        if data[1] & 0xF6 == 0xF0:
            return "audio/aac"
        if data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
            return "audio/mpeg"
    return None


def bytes_for(media_type: str) -> bytes:
    """Some real content of ``media_type`` (a replayed example that documents only the type)."""
    media_type = media_type.split(";", 1)[0].strip().lower()
    for fmt, known in IMAGE_MEDIA_TYPES.items():
        if known == media_type:
            return image(512, 512, fmt)
    for fmt, known in AUDIO_MEDIA_TYPES.items():
        if known == media_type:
            return audio(fmt, 1.0)[0]
    if media_type == "video/mp4":
        return mp4()
    return b""

