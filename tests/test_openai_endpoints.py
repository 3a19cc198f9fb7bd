"""Legacy completions, images, embeddings, audio and models through the openai SDK and raw httpx / httpx2.

Each test asserts a property of a real OpenAI-compatible server: image URLs that download as PNGs of
the requested size, unit-norm embeddings of the model's dimension, subtitles with valid cue syntax,
speech that audio libraries can open. Strict mode also checks every response against its contract.
"""

from __future__ import annotations

import base64
import io
import math
import re
import struct
import wave
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mutagen
import mutagen.aac
import mutagen.flac
import mutagen.mp3
import mutagen.oggopus
import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, SseStream, async_sdk, open_png, sdk

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
TONE = MEDIA / "tone.wav"
INSTRUCT = "gpt-3.5-turbo-instruct"


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


# === legacy completions ==========================================================================


def complete(client: openai.OpenAI, **params: Any) -> Any:
    return client.completions.create(model=params.pop("model", INSTRUCT), **params)


@pytest.mark.parametrize(
    ("prompt", "n"),
    [
        ("Once upon a time", 1),
        ("Once upon a time", 3),
        (["Roses are red", "The sky is", "In 1492"], 1),
        (["Roses are red", "The sky is"], 2),
    ],
)
def test_completions_give_one_choice_per_prompt_and_n(client: openai.OpenAI, prompt: Any, n: int) -> None:
    prompts = [prompt] if isinstance(prompt, str) else prompt
    reply = complete(client, prompt=prompt, n=n)
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    assert sorted(c.index for c in reply.choices) == list(range(len(prompts) * n))
    assert len({c.text for c in reply.choices}) == len(prompts) * n, "every choice is its own sample"
    assert reply.usage.prompt_tokens + reply.usage.completion_tokens == reply.usage.total_tokens


def test_echo_puts_each_prompt_in_front_of_its_choices(client: openai.OpenAI) -> None:
    prompts = ["Roses are red", "The sky is"]
    plain = complete(client, prompt=prompts, n=2, seed=3)
    echoed = complete(client, prompt=prompts, n=2, seed=3, echo=True)
    for choice, without in zip(sorted(echoed.choices, key=lambda c: c.index), sorted(plain.choices, key=lambda c: c.index)):
        prompt = prompts[choice.index // 2]  # choices are prompt-major: prompt i, sample j -> index i*n + j
        assert choice.text == prompt + without.text


def test_completions_default_to_16_tokens_and_stop_for_length(client: openai.OpenAI) -> None:
    reply = complete(client, prompt="Write a long story about a dragon")
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 16


@pytest.mark.parametrize("limit", [1, 5, 12])
def test_completions_max_tokens(client: openai.OpenAI, limit: int) -> None:
    full = complete(client, prompt="Story:", max_tokens=500, seed=1).choices[0]
    reply = complete(client, prompt="Story:", max_tokens=limit, seed=1)
    assert reply.usage.completion_tokens == limit and reply.choices[0].finish_reason == "length"
    assert full.text.startswith(reply.choices[0].text)
    assert full.finish_reason == "stop"


def test_completions_stop_sequence(client: openai.OpenAI) -> None:
    full = complete(client, prompt="Story:", max_tokens=500, seed=1).choices[0].text
    word = full.split()[3]
    reply = complete(client, prompt="Story:", max_tokens=500, seed=1, stop=[word]).choices[0]
    assert reply.text == full[: full.index(word)] and reply.finish_reason == "stop"


def test_completions_are_deterministic_per_seed(client: openai.OpenAI) -> None:
    texts = [complete(client, prompt="Hello", seed=s).choices[0].text for s in (1, 1, 2)]
    assert texts[0] == texts[1] != texts[2]


@pytest.mark.parametrize("top", [1, 3, 5])
def test_integer_logprobs_line_up_with_the_text(client: openai.OpenAI, top: int) -> None:
    reply = complete(client, prompt=["A poem:", "A joke:"], logprobs=top, max_tokens=10)
    for choice in reply.choices:
        logprobs = choice.logprobs
        assert len(logprobs.tokens) == len(logprobs.token_logprobs) == len(logprobs.top_logprobs) == len(logprobs.text_offset) == 10
        assert "".join(logprobs.tokens) == choice.text
        assert all(value <= 0 for value in logprobs.token_logprobs)
        assert all(len(alternatives) == top for alternatives in logprobs.top_logprobs)
        assert logprobs.text_offset[0] == 0
        assert all(b - a == len(t) for a, b, t in zip(logprobs.text_offset, logprobs.text_offset[1:], logprobs.tokens))
    assert reply.usage.completion_tokens == sum(len(c.logprobs.tokens) for c in reply.choices)


def test_echoed_logprob_offsets_start_after_the_prompt(client: openai.OpenAI) -> None:
    choice = complete(client, prompt="A poem:", logprobs=1, echo=True, max_tokens=5).choices[0]
    offsets, tokens = choice.logprobs.text_offset, choice.logprobs.tokens
    assert [choice.text[o : o + len(t)] for o, t in zip(offsets, tokens)] == tokens


def test_completion_logprobs_are_deterministic(client: openai.OpenAI) -> None:
    first, second = (complete(client, prompt="A poem:", logprobs=2, seed=4).choices[0].logprobs for _ in range(2))
    assert first.token_logprobs == second.token_logprobs
    assert first.top_logprobs == second.top_logprobs


@pytest.mark.parametrize("prompt", [[1734, 318, 257, 1332], [[1734, 318], [257, 1332, 13]]])
def test_token_array_prompts_count_their_tokens(client: openai.OpenAI, prompt: Any) -> None:
    reply = complete(client, prompt=prompt, max_tokens=3)
    prompts = [prompt] if isinstance(prompt[0], int) else prompt
    assert len(reply.choices) == len(prompts)
    assert reply.usage.prompt_tokens == sum(len(p) for p in prompts)


@CLIENT_MODULES
def test_completions_stream_framing_and_text(gptnb: Any, client: openai.OpenAI, client_module: Any) -> None:
    body = {"model": INSTRUCT, "prompt": ["Tea is", "Coffee is"], "n": 2, "seed": 6, "max_tokens": 8, "echo": True}
    reply = client.completions.create(**body)
    with (
        client_module.Client() as http,
        http.stream("POST", f"{BASE}/v1/completions", json={**body, "stream": True}, headers=AUTH) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = SseStream("".join(response.iter_text()))
    assert all(e["object"] == "text_completion" for e in stream.events)
    assert len({e["id"] for e in stream.events}) == 1
    for choice in reply.choices:
        parts = [c for e in stream.events for c in e["choices"] if c["index"] == choice.index]
        assert "".join(p["text"] for p in parts) == choice.text
        assert [p["finish_reason"] for p in parts[:-1]] == [None] * (len(parts) - 1)
        assert parts[-1]["finish_reason"] == choice.finish_reason == "length"


def test_completions_stream_with_usage_ends_with_a_usage_chunk(client: openai.OpenAI) -> None:
    body = {"model": INSTRUCT, "prompt": "Tea is", "seed": 6}
    reply = client.completions.create(**body)
    chunks = list(client.completions.create(**body, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage == reply.usage
    assert all(c.usage is None for c in chunks[:-1])


def test_completions_stream_logprobs_match_the_plain_reply(client: openai.OpenAI) -> None:
    body = {"model": INSTRUCT, "prompt": "Tea is", "seed": 6, "logprobs": 2, "max_tokens": 6}
    plain = client.completions.create(**body).choices[0].logprobs
    chunks = [c.choices[0] for c in client.completions.create(**body, stream=True) if c.choices and c.choices[0].text]
    assert [c.logprobs.tokens[0] for c in chunks] == plain.tokens
    assert [c.logprobs.token_logprobs[0] for c in chunks] == plain.token_logprobs


def test_best_of_below_n_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        complete(client, prompt="Hi", n=3, best_of=2)
    assert caught.value.status_code == 400
    assert complete(client, prompt="Hi", n=2, best_of=3).choices


def test_best_of_cannot_stream(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        list(complete(client, prompt="Hi", best_of=2, stream=True))


# === images ======================================================================================


@pytest.mark.parametrize("size", ["1024x1024", "1792x1024", "1024x1792"])
def test_dall_e_3_url_is_a_real_png_of_the_requested_size(gptnb: Any, size: str) -> None:
    with httpx2.Client() as http:
        client = sdk(gptnb, http_client=http)
        result = client.images.generate(
            model="dall-e-3", prompt="A red paper lantern over a misty river", size=size, quality="hd", style="natural"
        )
        (image,) = result.data
        assert image.b64_json is None
        assert "lantern" in image.revised_prompt, "the revised prompt is a rewrite of the prompt"
        response = http.get(image.url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    width, height = (int(side) for side in size.split("x"))
    assert open_png(response.content).size == (width, height)


def test_b64_json_is_the_same_png_as_the_url(gptnb: Any, client: openai.OpenAI) -> None:
    params = {"model": "dall-e-3", "prompt": "A lighthouse at dusk", "size": "1792x1024"}
    url = client.images.generate(**params).data[0].url
    item = client.images.generate(**params, response_format="b64_json").data[0]
    assert item.url is None and item.revised_prompt
    decoded = base64.b64decode(item.b64_json)
    assert open_png(decoded).size == (1792, 1024)
    assert httpx.get(url).content == decoded


def test_different_prompts_give_different_images(client: openai.OpenAI) -> None:
    def png(prompt: str) -> bytes:
        return base64.b64decode(client.images.generate(model="dall-e-3", prompt=prompt, response_format="b64_json").data[0].b64_json)

    assert png("a cat") == png("a cat")
    assert png("a cat") != png("a dog")


def test_dall_e_3_n_2_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="dall-e-3", prompt="two cats", n=2)
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("model", "size"),
    [("dall-e-3", "512x512"), ("dall-e-3", "256x256"), ("dall-e-2", "1792x1024"), ("dall-e-3", "1024×1024"), ("dall-e-3", "2048x2048")],
)
def test_a_size_the_model_does_not_offer_is_a_400(client: openai.OpenAI, model: str, size: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=model, prompt="a cat", size=size)  # type: ignore[arg-type]
    assert caught.value.status_code == 400


def test_dall_e_2_allows_up_to_ten_images(gptnb: Any, client: openai.OpenAI) -> None:
    result = client.images.generate(model="dall-e-2", prompt="a robot", n=10, size="256x256")
    urls = [item.url for item in result.data]
    assert len(urls) == 10 and len(set(urls)) == 10
    with httpx2.Client() as http:
        assert {open_png(http.get(url).content).size for url in urls[:3]} == {(256, 256)}
    with pytest.raises(openai.BadRequestError):
        client.images.generate(model="dall-e-2", prompt="a robot", n=11)


def test_dall_e_2_is_the_default_model_and_has_no_revised_prompt(client: openai.OpenAI) -> None:
    result = client.images.generate(prompt="a robot", size="512x512", response_format="b64_json")
    assert result.data[0].revised_prompt is None
    assert open_png(base64.b64decode(result.data[0].b64_json)).size == (512, 512)


# === embeddings ==================================================================================


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize(
    ("model", "size"), [("text-embedding-ada-002", 1536), ("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072)]
)
def test_embeddings_have_the_model_dimension_and_unit_norm(client: openai.OpenAI, model: str, size: int) -> None:
    result = client.embeddings.create(model=model, input=["first text", "second text"], encoding_format="float")
    assert result.object == "list" and result.model == model
    for item in result.data:
        assert item.object == "embedding"
        assert len(item.embedding) == size
        assert all(isinstance(v, float) for v in item.embedding)
        assert math.isclose(norm(item.embedding), 1.0, rel_tol=1e-6)


def test_the_sdk_default_sends_base64_and_gets_floats(gptnb: Any, client: openai.OpenAI) -> None:
    default = client.embeddings.create(model="text-embedding-3-small", input="hello world")
    assert gptnb.calls.last.body["encoding_format"] == "base64", "the SDK asks for base64 when the caller does not say"
    vector = default.data[0].embedding
    assert len(vector) == 1536 and math.isclose(norm(vector), 1.0, rel_tol=1e-5)
    explicit = client.embeddings.create(model="text-embedding-3-small", input="hello world", encoding_format="float").data[0].embedding
    assert all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(vector, explicit)), (
        "base64 carries the float32 of the same vector"
    )


@CLIENT_MODULES
def test_raw_base64_is_little_endian_float32(gptnb: Any, client_module: Any) -> None:
    body = {"model": "text-embedding-3-large", "input": "hello", "encoding_format": "base64", "dimensions": 64}
    with client_module.Client() as http:
        raw = http.post(f"{BASE}/v1/embeddings", json=body, headers=AUTH).json()["data"][0]["embedding"]
        floats = http.post(f"{BASE}/v1/embeddings", json={**body, "encoding_format": "float"}, headers=AUTH).json()["data"][0]["embedding"]
    packed = base64.b64decode(raw)
    assert len(packed) == 64 * 4
    assert list(struct.unpack("<64f", packed)) == [struct.unpack("<f", struct.pack("<f", v))[0] for v in floats]


@pytest.mark.parametrize("model", ["text-embedding-3-small", "text-embedding-3-large"])
@pytest.mark.parametrize("dimensions", [1, 256, 1024])
def test_dimensions_are_honoured_and_renormalised(client: openai.OpenAI, model: str, dimensions: int) -> None:
    vector = client.embeddings.create(model=model, input="shorten me", dimensions=dimensions).data[0].embedding
    assert len(vector) == dimensions
    assert math.isclose(norm(vector), 1.0, rel_tol=1e-5)


def test_shortened_embeddings_point_the_same_way_as_the_full_one(client: openai.OpenAI) -> None:
    full = client.embeddings.create(model="text-embedding-3-large", input="direction", encoding_format="float").data[0].embedding
    short = (
        client.embeddings.create(model="text-embedding-3-large", input="direction", dimensions=256, encoding_format="float")
        .data[0]
        .embedding
    )
    scale = norm(full[:256])
    assert all(math.isclose(s, f / scale, rel_tol=1e-6, abs_tol=1e-9) for s, f in zip(short, full[:256]))


def test_dimensions_on_ada_002_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=256)
    assert caught.value.status_code == 400


def test_dimensions_above_native_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=2000)


def test_embeddings_are_deterministic_and_keep_input_order(client: openai.OpenAI) -> None:
    def embed(inputs: list[str]) -> list[list[float]]:
        result = client.embeddings.create(model="text-embedding-3-small", input=inputs, encoding_format="float")
        assert [item.index for item in result.data] == list(range(len(inputs)))
        return [item.embedding for item in result.data]

    forward = embed(["apple", "banana", "cherry"])
    backward = embed(["cherry", "banana", "apple"])
    assert forward == backward[::-1]
    assert embed(["apple"])[0] == forward[0]
    assert forward[0] != forward[1] != forward[2]


@pytest.mark.parametrize(("tokens", "count", "expected"), [([15339, 1917], 1, 2), ([[15339, 1917], [9906, 11, 1917, 0]], 2, 6)])
def test_token_array_inputs(client: openai.OpenAI, tokens: Any, count: int, expected: int) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=tokens, encoding_format="float")
    assert len(result.data) == count
    assert result.usage.prompt_tokens == result.usage.total_tokens == expected
    assert all(math.isclose(norm(item.embedding), 1.0, rel_tol=1e-6) for item in result.data)


def test_embedding_usage_counts_the_input(client: openai.OpenAI) -> None:
    short = client.embeddings.create(model="text-embedding-3-small", input="one").usage
    long = client.embeddings.create(model="text-embedding-3-small", input=["one two three four", "five six"]).usage
    assert short.prompt_tokens == short.total_tokens > 0
    assert long.prompt_tokens == long.total_tokens > short.prompt_tokens


def test_an_empty_string_input_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="text-embedding-3-small", input=["ok", ""])


@pytest.mark.anyio
async def test_async_embeddings(gptnb: Any, client: openai.OpenAI) -> None:
    async with async_sdk(gptnb) as aclient:
        result = await aclient.embeddings.create(model="text-embedding-3-small", input="async", dimensions=32)
    assert (
        result.data[0].embedding == client.embeddings.create(model="text-embedding-3-small", input="async", dimensions=32).data[0].embedding
    )


# === audio: transcriptions and translations ======================================================

SRT_CUE = re.compile(r"^(\d+)\n(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})\n(.+)$")
VTT_CUE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})\n(.+)$")


def _seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _check_cue_times(times: list[tuple[float, float]], duration: float) -> None:
    assert times, "at least one cue"
    assert times[0][0] == 0
    for (start, end), (next_start, _) in zip(times, times[1:] + [(duration, duration)]):
        assert start <= end <= next_start + 1e-3
    assert times[-1][1] <= duration + 0.01


def transcribe(client: openai.OpenAI, path: Path = TONE, **params: Any) -> Any:
    with path.open("rb") as file:
        return client.audio.transcriptions.create(file=file, model=params.pop("model", "whisper-1"), **params)


def test_transcription_json_and_the_upload_arrives(gptnb: Any, client: openai.OpenAI) -> None:
    result = transcribe(client)
    assert isinstance(result.text, str) and result.text.strip()
    (upload,) = gptnb.calls.last.body["file"]
    assert upload["filename"] == "tone.wav" and upload["size"] == TONE.stat().st_size


def test_transcription_text_is_plain_text(client: openai.OpenAI) -> None:
    text = transcribe(client, response_format="text")
    assert isinstance(text, str) and text.strip()
    assert not text.lstrip().startswith("{")
    assert text.strip() == transcribe(client).text.strip()


def test_transcription_srt_cues(client: openai.OpenAI) -> None:
    srt = transcribe(client, response_format="srt")
    assert isinstance(srt, str)
    cues = [SRT_CUE.match(block) for block in srt.strip().split("\n\n")]
    assert all(cues), f"every block must be an SRT cue: {srt!r}"
    assert [int(c.group(1)) for c in cues] == list(range(1, len(cues) + 1))
    _check_cue_times([(_seconds(*c.groups()[1:5]), _seconds(*c.groups()[5:9])) for c in cues], wav_seconds(TONE))


def test_transcription_vtt_cues(client: openai.OpenAI) -> None:
    vtt = transcribe(client, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n")
    cues = [VTT_CUE.match(block) for block in vtt[len("WEBVTT\n\n") :].strip().split("\n\n")]
    assert all(cues), f"every block must be a WebVTT cue: {vtt!r}"
    _check_cue_times([(_seconds(*c.groups()[0:4]), _seconds(*c.groups()[4:8])) for c in cues], wav_seconds(TONE))


def test_transcription_verbose_json_with_word_timestamps(client: openai.OpenAI) -> None:
    result = transcribe(client, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    duration = wav_seconds(TONE)
    assert result.task == "transcribe" and result.language == "english"
    assert math.isclose(result.duration, duration, abs_tol=0.01)
    assert result.segments and result.words
    assert " ".join(s.text.strip() for s in result.segments) == " ".join(result.text.split()), "segments partition the transcript"
    assert [w.word for w in result.words] == result.text.split()
    for segment in result.segments:
        assert 0 <= segment.start <= segment.end <= duration + 0.01
    for word, following in zip(result.words, result.words[1:]):
        assert word.start <= word.end <= following.start + 1e-6


def test_verbose_json_without_word_granularity_has_no_words(client: openai.OpenAI) -> None:
    result = transcribe(client, response_format="verbose_json")
    assert result.segments and not getattr(result, "words", None)


def test_verbose_json_names_the_language_asked_for(client: openai.OpenAI) -> None:
    result = transcribe(client, response_format="verbose_json", language="zh")
    assert result.language == "chinese"
    assert " ".join(s.text.strip() for s in result.segments) == " ".join(result.text.split())


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
def test_gpt_4o_transcribe_reports_token_usage(client: openai.OpenAI, model: str) -> None:
    result = transcribe(client, model=model, prompt="A tone")
    usage = result.usage
    assert usage.type == "tokens"
    assert usage.input_tokens == usage.input_token_details.text_tokens + usage.input_token_details.audio_tokens
    assert usage.input_token_details.text_tokens == 2 and usage.input_token_details.audio_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens and usage.output_tokens > 0
    assert transcribe(client).usage.type == "duration"  # whisper-1


def test_include_logprobs_returns_one_per_token_of_the_transcript(client: openai.OpenAI) -> None:
    result = transcribe(client, model="gpt-4o-transcribe", include=["logprobs"])
    assert result.logprobs and "".join(item.token for item in result.logprobs) == result.text
    assert all(item.logprob <= 0 and bytes(int(b) for b in item.bytes).decode() == item.token for item in result.logprobs)
    assert result.usage.output_tokens == len(result.logprobs)
    assert not getattr(transcribe(client, model="gpt-4o-transcribe"), "logprobs", None)
    assert not getattr(transcribe(client, include=["logprobs"]), "logprobs", None)  # whisper-1 has none


def test_a_streamed_transcript_carries_logprobs_and_token_usage(client: openai.OpenAI) -> None:
    with TONE.open("rb") as file:
        events = list(client.audio.transcriptions.create(file=file, model="gpt-4o-mini-transcribe", include=["logprobs"], stream=True))
    deltas, done = events[:-1], events[-1]
    assert {e.type for e in deltas} == {"transcript.text.delta"} and done.type == "transcript.text.done"
    assert "".join(e.delta for e in deltas) == done.text
    assert [lp.model_dump() for e in deltas for lp in e.logprobs] == [lp.model_dump() for lp in done.logprobs]
    assert len(done.logprobs) == len(deltas)
    assert done.usage.type == "tokens" and done.usage.output_tokens == len(deltas)


def test_whisper_1_ignores_stream(gptnb: Any) -> None:
    with TONE.open("rb") as file:
        response = httpx.post(
            f"{BASE}/v1/audio/transcriptions", files={"file": ("tone.wav", file, "audio/wav")}, data={"model": "whisper-1", "stream": "true"}, headers=AUTH
        )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["text"] and response.json()["usage"]["type"] == "duration"


# .opus is not on Whisper's extension list; the same Ogg bytes go up as .ogg, as clients do.
@pytest.mark.parametrize(
    ("fixture", "upload_name"),
    [("tone.mp3", "tone.mp3"), ("tone.flac", "tone.flac"), ("tone.opus", "tone.ogg"), ("sample.mp4", "sample.mp4")],
)
def test_other_audio_containers_are_accepted(client: openai.OpenAI, fixture: str, upload_name: str) -> None:
    result = client.audio.transcriptions.create(file=(upload_name, (MEDIA / fixture).read_bytes()), model="whisper-1")
    assert result.text.strip()


@pytest.mark.parametrize("name", ["notes.txt", "image.png", "noextension"])
def test_a_non_audio_upload_is_a_400(client: openai.OpenAI, name: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(file=(name, b"this is not audio at all"), model="whisper-1")
    assert caught.value.status_code == 400


def test_raw_multipart_upload_with_httpx(gptnb: Any) -> None:
    with TONE.open("rb") as file:
        response = httpx.post(
            f"{BASE}/v1/audio/transcriptions",
            files={"file": ("tone.wav", file, "audio/wav")},
            data={"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "word"},
            headers=AUTH,
        )
    assert response.status_code == 200
    assert response.json()["words"]


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks translations deprecated; GPTNB serves them
@pytest.mark.parametrize("response_format", ["json", "text", "srt", "vtt", "verbose_json"])
def test_translations_in_every_format(client: openai.OpenAI, response_format: str) -> None:
    with TONE.open("rb") as file:
        result = client.audio.translations.create(file=file, model="whisper-1", response_format=response_format)
    if response_format == "json":
        assert result.text.strip()
    elif response_format == "verbose_json":
        assert result.task == "translate" and result.language == "english" and result.segments
    elif response_format == "srt":
        assert all(SRT_CUE.match(block) for block in result.strip().split("\n\n"))
    elif response_format == "vtt":
        assert result.startswith("WEBVTT")
    else:
        assert isinstance(result, str) and result.strip()


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_translation_of_a_text_file_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.audio.translations.create(file=("notes.txt", b"hello"), model="whisper-1")


# === audio: speech ===============================================================================

SPEECH_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}
# The reader for each container, named explicitly: mutagen only sniffs ADTS AAC from a ".aac" file name.
READERS = {"mp3": mutagen.mp3.MP3, "opus": mutagen.oggopus.OggOpus, "aac": mutagen.aac.AAC, "flac": mutagen.flac.FLAC}


def speak(client: openai.OpenAI, text: str = "Hello there, this is a test of speech.", **params: Any) -> Any:
    return client.audio.speech.create(model=params.pop("model", "tts-1"), voice=params.pop("voice", "nova"), input=text, **params)


def audio_seconds(data: bytes, fmt: str) -> float:
    """How long the audio is, read the way a media library reads it."""
    if fmt == "pcm":
        assert len(data) % 2 == 0
        return len(data) / 2 / 24_000  # 24 kHz 16-bit mono, no header
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as wav:
            assert wav.getnframes() > 0
            return wav.getnframes() / wav.getframerate()
    return READERS[fmt](io.BytesIO(data)).info.length


@pytest.mark.parametrize("fmt", list(SPEECH_TYPES))
def test_speech_bytes_in_every_format(client: openai.OpenAI, fmt: str) -> None:
    result = speak(client, response_format=fmt)
    assert result.response.headers["content-type"] == SPEECH_TYPES[fmt]
    data = result.content
    assert len(data) > 0
    assert audio_seconds(data, fmt) > 0


def test_speech_defaults_to_mp3(client: openai.OpenAI) -> None:
    result = speak(client)
    assert result.response.headers["content-type"] == "audio/mpeg"
    assert isinstance(mutagen.File(io.BytesIO(result.content)), mutagen.mp3.MP3)


def test_wav_speech_is_24khz_mono_16_bit(client: openai.OpenAI) -> None:
    with wave.open(io.BytesIO(speak(client, response_format="wav").content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Hi.", "This is a much longer sentence that takes quite a few seconds to say out loud, " * 3),
        ("您好。", "您好，欢迎使用语音合成服务。今天我们来介绍一下这个系统的主要功能和使用方法。"),
    ],
    ids=["english", "chinese"],
)
def test_longer_input_gives_longer_speech(client: openai.OpenAI, short: str, long: str) -> None:
    assert audio_seconds(speak(client, long, response_format="wav").content, "wav") > audio_seconds(
        speak(client, short, response_format="wav").content, "wav"
    )


def test_faster_speech_is_shorter(client: openai.OpenAI) -> None:
    text = "A sentence of a reasonable length for timing the speed parameter of speech."
    normal = audio_seconds(speak(client, text, response_format="wav").content, "wav")
    fast = audio_seconds(speak(client, text, response_format="wav", speed=2.0).content, "wav")
    assert fast < normal


def test_speech_sse_on_gpt_4o_mini_tts(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="coral", input="Stream this sentence please.", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = SseStream(response.read().decode(), terminator=None)
    *deltas, done = stream.events
    assert deltas and all(e["type"] == "speech.audio.delta" for e in deltas)
    audio = b"".join(base64.b64decode(e["audio"], validate=True) for e in deltas)
    assert len(audio) > 0 and len(audio) % 2 == 0, "16-bit PCM samples"
    assert done["type"] == "speech.audio.done"
    usage = done["usage"]
    assert usage["input_tokens"] + usage["output_tokens"] == usage["total_tokens"]


def test_speech_sse_is_not_for_tts_1(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        speak(client, stream_format="sse")


def test_a_voice_tts_1_lacks_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        speak(client, voice="ballad")
    assert speak(client, model="gpt-4o-mini-tts", voice="ballad", response_format="wav").content


@pytest.mark.anyio
async def test_async_speech(gptnb: Any) -> None:
    async with async_sdk(gptnb) as aclient:
        result = await aclient.audio.speech.create(model="tts-1-hd", voice="alloy", input="Async speech.", response_format="flac")
    assert mutagen.flac.FLAC(io.BytesIO(result.content)).info.length > 0


# === models ======================================================================================


def test_the_model_list_covers_every_kind_of_model(client: openai.OpenAI) -> None:
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    for expected in ("gpt-4o-mini", "gpt-3.5-turbo-instruct", "text-embedding-3-small", "dall-e-3", "whisper-1", "tts-1", "gpt-4-all"):
        assert expected in ids
    assert any(i.startswith("gpt-4-gizmo-") for i in ids)
    assert all(m.object == "model" and isinstance(m.created, int) and m.owned_by for m in models)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "text-embedding-3-large", "dall-e-3", "whisper-1", "tts-1", "gpt-4-gizmo-*"])
def test_retrieve_a_known_model(client: openai.OpenAI, model: str) -> None:
    listed = {m.id: m for m in client.models.list()}
    assert client.models.retrieve(model) == listed[model]


def test_retrieve_a_concrete_gpts_model(client: openai.OpenAI) -> None:
    assert client.models.retrieve("gpt-4-gizmo-g-2fkFE8rbu").id == "gpt-4-gizmo-g-2fkFE8rbu"


def test_an_unknown_model_is_the_error_body_with_http_200_as_new_api_answers(gptnb: Any) -> None:
    response = httpx.get(f"{BASE}/v1/models/gpt-does-not-exist", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "error": {"message": "The model 'gpt-does-not-exist' does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found"}
    }


def test_the_model_list_through_raw_httpx2(gptnb: Any) -> None:
    body = httpx2.get(f"{BASE}/v1/models", headers=AUTH).json()
    assert body["object"] == "list" and isinstance(body["data"], list) and body["data"]


# === what the relay reads as "not given" (request.absent_values) ==================================


def test_chat_options_sent_as_null_are_not_given(gptnb: Any) -> None:
    """new-api decodes the body into Go structs: null optional fields are dropped, not refused."""
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi", "name": None}],
        **dict.fromkeys(("tools", "tool_choice", "response_format", "functions", "function_call", "parallel_tool_calls", "user", "stop", "stream_options"), None),
    }
    answer = httpx.post(f"{BASE}/v1/chat/completions", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi", "suffix": None, "logit_bias": None, "user": None}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "Hi", "dimensions": None, "encoding_format": None, "user": None}),
        ("/v1/images/generations", {"model": "dall-e-3", "prompt": "a boat", "n": 0, "size": "", "quality": "", "style": None, "response_format": "", "user": ""}),
        ("/v1/audio/speech", {"model": "tts-1", "input": "Hi", "voice": "alloy", "response_format": "", "speed": None, "instructions": "", "stream_format": ""}),
    ],
    ids=["completions", "embeddings", "images", "speech"],
)
def test_empty_options_the_relay_drops_are_not_given(gptnb: Any, path: str, body: dict[str, Any]) -> None:
    answer = httpx.post(BASE + path, json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text[:300]


def test_an_empty_required_field_is_still_missing(gptnb: Any) -> None:
    answer = httpx.post(f"{BASE}/v1/images/generations", json={"model": "dall-e-3", "prompt": ""}, headers=AUTH)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "prompt"
