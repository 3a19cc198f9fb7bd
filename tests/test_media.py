"""mockserver.media hands out real media: every byte string here is opened by a real decoder."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator

import mutagen
import pytest
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from PIL import Image

from mockserver import media

SIZES = [(1, 1), (7, 3), (3, 7), (256, 256), (1024, 1024), (1792, 1024), (1024, 1792)]


def _open(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()  # decode every pixel, not just the header
    return picture


# ---------------------------------------------------------------------------------------- images


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_png_decodes_at_the_requested_size(width: int, height: int) -> None:
    data = media.png(width, height, seed=5, label="a cat")
    picture = _open(data)
    assert picture.format == "PNG"
    assert picture.mode == "RGB"
    assert picture.size == (width, height)
    assert media.image_size(data) == ("png", width, height)


@pytest.mark.parametrize("seed", range(8))
def test_png_pixels_vary(seed: int) -> None:
    rgb = _open(media.png(64, 48, seed=seed)).tobytes()
    assert len({rgb[i : i + 3] for i in range(0, len(rgb), 3)}) > 20
    assert len(set(rgb[0::3])) > 1  # red ramps along x
    assert len(set(rgb[1::3])) > 10  # green stripes run along x + y


def test_png_pixels_are_the_picture_that_jpeg_and_webp_encode() -> None:
    # png() stores rows with the Up filter; decoding must give back the unfiltered picture.
    for width, height in [(1, 1), (5, 1), (1, 5), (300, 200)]:
        picture = _open(media.png(width, height, seed=2, label="x"))
        assert picture.tobytes() == media._rgb(width, height, 2, "x")


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
@pytest.mark.parametrize(("width", "height"), [(1, 1), (256, 256), (1792, 1024), (1024, 1792)])
def test_jpeg_and_webp_decode_at_the_requested_size(fmt: str, width: int, height: int) -> None:
    data = media.image(width, height, fmt, seed=1)
    picture = _open(data)
    assert picture.format == fmt.upper()
    assert picture.size == (width, height)
    assert media.image_size(data) == (fmt, width, height)
    assert media.media_type_of(data) == f"image/{fmt}"


def test_image_png_is_png() -> None:
    assert media.image(32, 16, "png", seed=3, label="l") == media.png(32, 16, seed=3, label="l")


@pytest.mark.parametrize(("mode", "lossless", "chunk"), [("RGB", True, b"VP8L"), ("RGBA", False, b"VP8X")])
def test_image_size_reads_lossless_and_extended_webp(mode: str, lossless: bool, chunk: bytes) -> None:
    # image() writes lossy VP8; other producers write VP8L (lossless) or VP8X (alpha, metadata).
    out = io.BytesIO()
    Image.new(mode, (300, 200), (255, 0, 0, 128)).save(out, format="WEBP", lossless=lossless)
    data = out.getvalue()
    assert data[12:16] == chunk
    assert media.image_size(data) == ("webp", 300, 200)


def test_image_size_reads_progressive_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGB", (321, 123)).save(out, format="JPEG", progressive=True)
    assert media.image_size(out.getvalue()) == ("jpeg", 321, 123)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_images_are_deterministic(fmt: str) -> None:
    first = media.image(64, 32, fmt, seed=4, label="dog")
    assert media.image(64, 32, fmt, seed=4, label="dog") == first
    assert media.image(64, 32, fmt, seed=5, label="dog") != first
    assert media.image(64, 32, fmt, seed=4, label="cat") != first


def test_bad_image_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        media.image(10, 10, "gif")
    with pytest.raises(ValueError):
        media.png(0, 10)
    with pytest.raises(ValueError):
        media.image_size(b"GIF89a" + bytes(20))


# ----------------------------------------------------------------------------------------- audio


@pytest.mark.parametrize(("duration", "rate"), [(1.0, 24000), (2.5, 16000), (0.01, 8000), (0.0, 24000)])
def test_wav_opens_with_the_requested_format(duration: float, rate: int) -> None:
    data = media.wav(duration, sample_rate=rate)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == rate
        assert reader.getnframes() == round(duration * rate)
        assert reader.getnframes() / rate == pytest.approx(duration, abs=1 / rate)
        frames = reader.readframes(reader.getnframes())
    assert frames == media.pcm(duration, rate)
    assert mutagen.File(io.BytesIO(data)).info.length == pytest.approx(duration, abs=1 / rate)


def test_wav_is_a_soft_tone_that_fades_in_and_out() -> None:
    samples = _samples(media.pcm(1.0))
    peak = max(abs(s) for s in samples)
    assert 2000 < peak < 16000  # audible, well below clipping
    assert len(set(samples)) > 100  # a waveform, not silence or a square wave
    assert abs(samples[0]) < 50 and abs(samples[-1]) < 50


def _samples(data: bytes) -> list[int]:
    return [value for (value,) in struct.iter_unpack("<h", data)]


@pytest.mark.parametrize(("duration", "rate"), [(1.0, 24000), (0.5, 24000), (3.25, 16000), (60.0, 24000)])
def test_pcm_length_matches_duration(duration: float, rate: int) -> None:
    assert len(media.pcm(duration, rate)) == round(duration * rate) * 2


def test_audio_is_deterministic() -> None:
    assert media.wav(0.3, seed=1) == media.wav(0.3, seed=1)
    assert media.wav(0.3, seed=1) != media.wav(0.3, seed=2)
    assert media.pcm(0.3, seed=1) != media.pcm(0.3, seed=2)
    assert media.audio("mp3", 1.0) == media.audio("mp3", 5.0, seed=9)


def test_audio_wav_and_pcm_follow_the_duration() -> None:
    data, media_type = media.audio("wav", 2.0, seed=3)
    assert media_type == "audio/wav"
    assert data == media.wav(2.0, seed=3)
    data, media_type = media.audio("pcm", 2.0, seed=3)
    assert media_type == "audio/pcm"
    assert data == media.pcm(2.0, seed=3)
    assert len(data) == 2.0 * 24000 * 2


@pytest.mark.parametrize(
    ("fmt", "media_type", "reader", "description"),
    [
        ("mp3", "audio/mpeg", MP3, "MPEG 2 layer 3"),
        ("opus", "audio/opus", OggOpus, "Ogg Opus"),
        ("aac", "audio/aac", AAC, "AAC (ADTS)"),
        ("flac", "audio/flac", FLAC, "FLAC"),
    ],
)
def test_compressed_audio_opens_with_mutagen(
    fmt: str, media_type: str, reader: type[mutagen.FileType], description: str
) -> None:
    data, returned_type = media.audio(fmt, 1.0)
    assert returned_type == media_type
    assert media.media_type_of(data) == media_type
    info = reader(io.BytesIO(data)).info
    assert info is not None
    assert info.pprint().startswith(description)
    assert 0.9 < info.length < 1.2


def test_bad_audio_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        media.audio("ogg", 1.0)
    with pytest.raises(ValueError):
        media.wav(-1.0)


# ------------------------------------------------------------------------------- shipped samples


def test_mp4_is_h264_and_aac_at_320x240() -> None:
    data = media.mp4()
    assert media.media_type_of(data) == "video/mp4"
    audio_track = MP4(io.BytesIO(data)).info  # type: ignore[no-untyped-call]
    assert audio_track is not None
    assert audio_track.codec == "mp4a.40.2"  # AAC LC
    assert 0.9 < audio_track.length < 1.2
    boxes = list(_boxes(data))
    assert any(b"avc1" in payload for kind, payload in boxes if kind == b"stsd")  # H.264 track
    assert (320, 240) in [_track_size(payload) for kind, payload in boxes if kind == b"tkhd"]


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (type, payload) for every ISO-BMFF box, descending into the containers."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        payload = data[pos + 8 : pos + size]
        yield kind, payload
        if kind in _CONTAINERS:
            yield from _boxes(payload)
        pos += size


def _track_size(tkhd: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", tkhd[-8:])  # 16.16 fixed point, last in the box
    return width >> 16, height >> 16


def test_upload_sample_is_a_one_second_16khz_mono_wav() -> None:
    with wave.open(io.BytesIO(media.sample("tone.wav"))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 16000)
        assert reader.getnframes() == 16000


@pytest.mark.parametrize(
    ("name", "limit"),
    [("tone.wav", 40_000), ("tone.mp3", 40_000), ("tone.opus", 40_000), ("tone.aac", 40_000),
     ("tone.flac", 40_000), ("sample.mp4", 60_000)],
)  # fmt: skip
def test_shipped_samples_stay_small(name: str, limit: int) -> None:
    assert 0 < len(media.sample(name)) < limit


# -------------------------------------------------------------------------------------- sniffing


def test_media_type_of_generated_and_shipped_media() -> None:
    assert media.media_type_of(media.png(4, 4)) == "image/png"
    assert media.media_type_of(media.wav(0.1)) == "audio/wav"
    assert media.media_type_of(media.sample("tone.wav")) == "audio/wav"


def test_media_type_of_mp3_without_id3_tag() -> None:
    data = media.audio("mp3", 1.0)[0]
    assert data.startswith(b"ID3")
    tag_end = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    assert media.media_type_of(data[tag_end:]) == "audio/mpeg"


@pytest.mark.parametrize(
    "data", [b"", b"hello world", b"\xff", b"RIFF\0\0\0\0AVI LIST", b"OggS" + bytes(40), b"ID3"]
)
def test_media_type_of_unknown_or_other_data(data: bytes) -> None:
    expected = "audio/ogg" if data.startswith(b"OggS") else None
    assert media.media_type_of(data) == expected
