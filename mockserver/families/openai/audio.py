"""Audio: transcription and translation of uploads in every response_format, and speech as real audio."""

from __future__ import annotations

import base64
import io
import math
import re
import wave
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ... import media
from ... import text as texts
from ...conversation import Facts, reads
from ...errors import ApiError
from ...ids import derived_int
from ...replies import BinaryReply, JsonReply, Reply, StreamReply, TextReply
from .. import handles
from .chat import token_logprobs

if TYPE_CHECKING:
    from ...parsing import Upload
    from ...pipeline import Call

AUDIO_EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")
# Billed by tokens, answering json (or text) only, with logprobs on request (OpenAI's OpenAPI document:
# CreateTranscriptionRequest.include, TranscriptTextUsageTokens).
TOKEN_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15")
AUDIO_TOKENS_PER_SECOND = 10
TTS1_VOICES = frozenset({"alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer"})
LANGUAGE_NAMES = {"zh": "chinese", "en": "english", "ja": "japanese", "ko": "korean", "fr": "french", "de": "german", "es": "spanish"}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Roughly 2.5 words a second: how long a text takes to say, and how much text fits an upload.
WORDS_PER_SECOND = 2.5


def _upload(call: Call) -> Upload:
    uploads = call.files.get("file") or []
    if not uploads:
        raise ApiError(400, "invalid_request", "file is required", param="file", code="invalid_audio_request")
    upload = uploads[0]
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if extension not in AUDIO_EXTENSIONS:
        supported = ", ".join(f"'{e}'" for e in AUDIO_EXTENSIONS)
        raise ApiError(400, "invalid_request", f"Invalid file format. Supported formats: [{supported}]", param="file", code="invalid_value")
    if not upload.data:
        raise ApiError(400, "invalid_request", "Audio file is empty", param="file", code="invalid_value")
    return upload


def _duration(upload: Upload) -> float:
    """The real length of a WAV upload; other formats estimated from size (about 16 kB a second)."""
    if upload.data[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(upload.data)) as wav:
                return round(wav.getnframes() / wav.getframerate(), 2)
        except (wave.Error, EOFError, ZeroDivisionError):
            pass
    return round(max(0.5, len(upload.data) / 16_000), 2)


def _spoken_text(upload: Upload, seconds: float, language: str, translate: bool) -> str:
    seed = derived_int(upload.filename, len(upload.data))
    if language == "zh" and not translate:
        return f"这是对文件 {upload.filename} 的模拟转录。"
    words = max(4, int(seconds * WORDS_PER_SECOND))
    return f"This is a mock transcript of {upload.filename}. " + texts.filler(seed, words)


def _segments(text: str, seconds: float, temperature: float) -> list[dict[str, Any]]:
    # Split only where a sentence ends (a stop then a space), so "tone.wav" stays one word and the
    # segments, joined, are the transcript.
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s] or [text]
    total = sum(len(s) for s in sentences) or 1
    segments, start = [], 0.0
    for index, sentence in enumerate(sentences):
        end = round(start + seconds * len(sentence) / total, 2)
        segments.append({
            "id": index, "seek": 0, "start": round(start, 2), "end": end, "text": " " + sentence,
            "tokens": [50364 + (derived_int(w) % 1000) for w in sentence.split()],
            "temperature": temperature, "avg_logprob": -0.21, "compression_ratio": 1.1, "no_speech_prob": 0.01,
        })
        start = end
    return segments


def _words(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words = []
    for segment in segments:
        parts = segment["text"].split()
        step = (segment["end"] - segment["start"]) / max(1, len(parts))
        words += [{"word": w, "start": round(segment["start"] + i * step, 2), "end": round(segment["start"] + (i + 1) * step, 2)} for i, w in enumerate(parts)]
    return words


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def _subtitles(segments: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "srt":
        cues = [f"{i + 1}\n{_timestamp(s['start'], ',')} --> {_timestamp(s['end'], ',')}\n{s['text'].strip()}\n" for i, s in enumerate(segments)]
        return "\n".join(cues)
    cues = [f"{_timestamp(s['start'], '.')} --> {_timestamp(s['end'], '.')}\n{s['text'].strip()}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(cues)


def _token_usage(call: Call, seconds: float, text: str) -> dict[str, Any]:
    audio = max(1, math.ceil(seconds * AUDIO_TOKENS_PER_SECOND))
    prompt = texts.count_tokens(call.body.get("prompt") or "")
    output = texts.count_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio + prompt,
        "input_token_details": {"text_tokens": prompt, "audio_tokens": audio},
        "output_tokens": output,
        "total_tokens": audio + prompt + output,
    }


async def _transcript_events(text: str, usage: dict[str, Any], logprobs: list[dict[str, Any]] | None) -> AsyncIterator[dict[str, Any]]:
    for position, token in enumerate(texts.tokenize(text)):
        delta: dict[str, Any] = {"type": "transcript.text.delta", "delta": token}
        if logprobs is not None:
            delta["logprobs"] = [logprobs[position]]
        yield delta
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text, "usage": usage}
    if logprobs is not None:
        done["logprobs"] = logprobs
    yield done


def _transcribe(call: Call, translate: bool) -> Reply:
    body = call.body
    upload = _upload(call)
    model = body["model"]
    fmt = body.get("response_format") or "json"
    if model in TOKEN_MODELS and fmt not in ("json", "text"):
        raise ApiError(400, "invalid_request", f"response_format '{fmt}' is not compatible with model '{model}'. Use 'json' or 'text'.", param="response_format")
    if fmt == "diarized_json" and not model.endswith("diarize"):
        raise ApiError(400, "invalid_request", "response_format 'diarized_json' needs a diarize model", param="response_format")
    language = body.get("language") or "en"
    seconds = _duration(upload)
    text = _spoken_text(upload, seconds, language, translate)
    by_tokens = model in TOKEN_MODELS and not translate
    usage = _token_usage(call, seconds, text) if by_tokens else {"type": "duration", "seconds": max(1, round(seconds))}
    wants_logprobs = by_tokens and "logprobs" in (body.get("include") or [])
    logprobs = token_logprobs(texts.tokenize(text), derived_int(upload.filename, len(upload.data), "logprobs")) if wants_logprobs else None
    # whisper-1 ignores stream (OpenAI's OpenAPI document: CreateTranscriptionRequest.stream).
    if body.get("stream") and not translate and model != "whisper-1":
        return StreamReply(_transcript_events(text, _token_usage(call, seconds, text), logprobs))
    if fmt == "text":
        return TextReply(text + "\n")
    segments = _segments(text, seconds, float(body.get("temperature") or 0.0))
    if fmt in ("srt", "vtt"):
        return TextReply(_subtitles(segments, fmt))
    if fmt == "verbose_json":
        verbose: dict[str, Any] = {
            "task": "translate" if translate else "transcribe",
            "language": "english" if translate else LANGUAGE_NAMES.get(language, language),
            "duration": seconds,
            "text": text,
            "segments": segments,
            "usage": usage,
        }
        if not translate and "word" in (body.get("timestamp_granularities") or []):
            verbose["words"] = _words(segments)
        return JsonReply(verbose)
    if fmt == "diarized_json":
        return JsonReply({"task": "transcribe", "duration": seconds, "text": text, "segments": [
            {"type": "transcript.text.segment", "id": f"seg_{i}", "start": s["start"], "end": s["end"], "text": s["text"].strip(), "speaker": "A"}
            for i, s in enumerate(segments)], "usage": usage})
    answer: dict[str, Any] = {"text": text, "usage": usage}
    if logprobs is not None:
        answer["logprobs"] = logprobs
    return JsonReply(answer)


@handles("openai.audio.transcriptions")
def transcriptions(call: Call) -> Reply:
    return _transcribe(call, translate=False)


@handles("openai.audio.translations")
def translations(call: Call) -> Reply:
    return _transcribe(call, translate=True)


async def _speech_events(data: bytes, tokens: int) -> AsyncIterator[dict[str, Any]]:
    step = 16_384
    for start in range(0, len(data), step):
        yield {"type": "speech.audio.delta", "audio": base64.b64encode(data[start : start + step]).decode()}
    yield {"type": "speech.audio.done", "usage": {"input_tokens": tokens, "output_tokens": max(1, len(data) // 4800), "total_tokens": tokens + max(1, len(data) // 4800)}}


@reads("openai.audio.speech")
def speech_facts(call: Call) -> Facts:
    text = call.body.get("input")
    return Facts(model=call.body.get("model"), input_text=text if isinstance(text, str) else None)


@handles("openai.audio.speech")
def speech(call: Call) -> Reply:
    body = call.body
    model = body["model"]
    voice = body["voice"]
    if model in ("tts-1", "tts-1-hd"):
        if isinstance(voice, str) and voice not in TTS1_VOICES:
            raise ApiError(400, "invalid_request", f"voice '{voice}' is not supported by {model}; use one of {', '.join(sorted(TTS1_VOICES))}", param="voice")
        if body.get("stream_format") == "sse":
            raise ApiError(400, "invalid_request", f"stream_format 'sse' is not supported for {model}", param="stream_format")
    speed = body.get("speed") or 1.0
    # CJK text has no spaces between words: count about two characters (tokens) a word instead.
    words = max(len(body["input"].split()), texts.count_tokens(body["input"]) / 2)
    seconds = round(min(600.0, max(0.5, words / WORDS_PER_SECOND / speed)), 2)
    fmt = body.get("response_format") or "mp3"
    seed = derived_int(body["input"], voice if isinstance(voice, str) else str(voice), model) % 10**9
    data, media_type = media.audio(fmt, seconds, seed=seed)
    if body.get("stream_format") == "sse":
        pcm = media.pcm(seconds, seed=seed)
        return StreamReply(_speech_events(pcm, texts.count_tokens(body["input"])))
    return BinaryReply(data, media_type=media_type)
