"""Suno through the gptnb fixture: the eight scenarios, feed, extend -> concat, uploads, new-api tasks, errors."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from PIL import Image

from mockserver.contracts import default_registry
from mockserver.examples import examples_of
from mockserver.cli import main as cli
from mockserver.media import media_type_of
from callback_listener import CallbackListener
from test_conformance import Breaker, first_failure, json_mutation, step_mock

BASE = "https://goapi.gptnb.ai"
LYRICS = "[Verse]\nLanterns on the harbor wall\n\n[Chorus]\nSail on, sail on"
CUSTOM = {"prompt": LYRICS, "tags": "indie folk", "mv": "chirp-v4", "title": "Harbor Lights"}
CLIP_ORDER = ["submitted", "queued", "streaming", "complete"]
SCENARIOS = {e.name: e.request["body"] for e in examples_of(default_registry()["suno.official.generate"]) if e.name.startswith("s")}


@pytest.fixture
def suno(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def generate(client: httpx.Client, body: dict, path: str = "/suno/generate") -> list[dict]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["status"] == "complete" and len(batch["clips"]) == 2
    assert all(c["status"] == "submitted" and c["audio_url"] == "" and c["image_url"] is None for c in batch["clips"])
    return batch["clips"]


def feed_until_done(client: httpx.Client, ids: list[str], limit: int = 20) -> tuple[list[dict], list[list[dict]]]:
    """A client's polling loop, without sleeps: under the step clock every feed moves each clip on."""
    seen = []
    for _ in range(limit):
        clips = client.get(f"/suno/feed/{','.join(ids)}").json()
        seen.append(clips)
        if all(c["status"] in ("complete", "error") for c in clips):
            return clips, seen
    raise AssertionError(f"clips {ids} did not finish: {[[c['status'] for c in s] for s in seen]}")


def finished_song(client: httpx.Client, body: dict = CUSTOM) -> dict:
    clips, _ = feed_until_done(client, [c["id"] for c in generate(client, body)])
    return clips[0]


def download(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content


@pytest.mark.gptnb(clock="step")
def test_custom_lyrics_clips_move_through_their_statuses_and_their_files_are_real(suno) -> None:
    clips = generate(suno, SCENARIOS["s1_custom_lyrics"])
    assert len({c["id"] for c in clips}) == 2
    final, seen = feed_until_done(suno, [c["id"] for c in clips])
    for position, clip in enumerate(final):
        history = [snapshot[position] for snapshot in seen]
        assert [c["status"] for c in history] == CLIP_ORDER  # every step once, the first poll included
        _, queued, streaming, complete = history
        assert queued["audio_url"] == "" and queued["metadata"]["duration"] is None
        assert streaming["audio_url"] and streaming["is_video_pending"] and streaming["video_url"] == ""
        assert complete["audio_url"] not in ("", streaming["audio_url"]) and not complete["is_video_pending"]
        assert complete["metadata"]["duration"] > 0 and complete["title"] == "Harbor Lights"
        assert media_type_of(download(suno, streaming["audio_url"])) == "audio/mpeg"
        assert media_type_of(download(suno, complete["audio_url"])) == "audio/mpeg"
        assert media_type_of(download(suno, complete["video_url"])) == "video/mp4"
        cover = Image.open(io.BytesIO(download(suno, complete["image_large_url"])))
        assert cover.format == "JPEG" and cover.width == cover.height
    assert final[0]["created_at"].endswith("Z") and final[0]["metadata"]["prompt"] == SCENARIOS["s1_custom_lyrics"]["prompt"]


@pytest.mark.gptnb(clock="step")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_documented_scenario_is_a_generate_variant(suno, scenario) -> None:
    body = dict(SCENARIOS[scenario])
    if scenario == "s5_upload_extend":
        body["continue_clip_id"] = suno.post("/suno/uploads/audio-url", json={"url": "https://files.example.org/hook.mp3"}).json()["data"]
    for field in ("continue_clip_id", "cover_clip_id"):
        if body.get(field) and scenario != "s5_upload_extend":
            body[field] = finished_song(suno)["id"]  # the documented ids name clips of the docs' account
    if scenario == "s6_extend_concat":
        body["continue_at"] = 30
    clips = generate(suno, body)
    metadata = clips[0]["metadata"]
    assert metadata["gpt_description_prompt"] == body.get("gpt_description_prompt")
    if body.get("make_instrumental") or body.get("gpt_description_prompt"):
        assert metadata["prompt"] == ""  # no lyrics yet (description mode) or none at all (instrumental)
    if body.get("task") in ("extend", "upload_extend", "infill"):
        assert metadata["history"][-1]["id"] == body["continue_clip_id"] and metadata["task"] == body["task"]
    if body.get("task") == "cover":
        assert metadata["cover_clip_id"] == body["cover_clip_id"]
    final, _ = feed_until_done(suno, [c["id"] for c in clips])
    assert all(c["status"] == "complete" and c["audio_url"].split("?")[0].endswith(".mp3") for c in final)
    if body.get("gpt_description_prompt"):
        assert final[0]["title"] and final[0]["metadata"]["tags"]
        assert (final[0]["metadata"]["prompt"] == "") == bool(body.get("make_instrumental"))
    if body.get("task") == "infill":
        assert final[0]["metadata"]["infill"] is True


@pytest.mark.gptnb(clock="step")
def test_extend_then_concat_gives_one_full_song(suno) -> None:
    root = finished_song(suno)
    extension = finished_song(suno, {**CUSTOM, "prompt": "[Bridge]\nThe tide returns", "continue_clip_id": root["id"], "continue_at": 42.5, "task": "extend"})
    assert extension["metadata"]["history"] == [{"id": root["id"], "continue_at": 42.5, "type": "gen", "source": "web", "infill": False}]
    answer = suno.post("/suno/generate/concat", json={"clip_id": extension["id"], "is_infill": False})
    assert answer.status_code == 200
    song = answer.json()
    assert isinstance(song, dict) and song["id"] not in (root["id"], extension["id"])
    assert song["status"] in ("submitted", "queued") and song["audio_url"] == "" and song["metadata"]["type"] == "concat"
    assert [s["id"] for s in song["metadata"]["concat_history"]] == [root["id"], extension["id"]]
    (full,), _ = feed_until_done(suno, [song["id"]])
    assert full["metadata"]["duration"] == pytest.approx(42.5 + extension["metadata"]["duration"])
    assert "[Bridge]" in full["metadata"]["prompt"] and "Lanterns" in full["metadata"]["prompt"]
    assert media_type_of(download(suno, full["audio_url"])) == "audio/mpeg"


@pytest.mark.gptnb(clock="step")
def test_upload_by_url_is_a_complete_clip_and_a_task(suno) -> None:
    answer = suno.post("/suno/uploads/audio-url", json={"url": "https://files.example.org/demo/hook-loop-01.mp3"}).json()
    assert answer["code"] == "success" and answer["message"] == ""
    (clip,) = suno.get("/suno/feed", params={"ids": answer["data"]}).json()
    assert clip["status"] == "complete" and clip["metadata"]["type"] == "upload" and clip["title"] == "hook-loop-01"
    assert media_type_of(download(suno, clip["audio_url"])) == "audio/mpeg"
    task = suno.get(f"/suno/fetch/{answer['data']}").json()["data"]
    assert (task["action"], task["status"], task["progress"]) == ("UPLOAD", "SUCCESS", "100%")
    extension = generate(suno, {**CUSTOM, "continue_clip_id": answer["data"], "continue_at": 10, "mv": "chirp-v4-upload"})
    assert extension[0]["metadata"]["task"] == "upload_extend" and extension[0]["metadata"]["history"][0]["type"] == "upload"


@pytest.mark.gptnb(clock="step")
def test_documented_aliases_reach_the_same_clips(suno) -> None:
    clips = generate(suno, CUSTOM, path="/suno/v2/generate")
    ids = ",".join(c["id"] for c in clips)
    for path, params in (("/suno/feed", {"ids": ids}), ("/v1/suno/feed", {"ids": ids, "remove_watermark": "true"}), ("/v1/suno/api/feed/", {"ids": ids})):
        assert [c["id"] for c in suno.get(path, params=params).json()] == [c["id"] for c in clips]
    generate(suno, CUSTOM, path="/sunoapi/generate")


@pytest.mark.gptnb(clock="step")
def test_failed_clips_say_why(suno, gptnb) -> None:
    clips = generate(suno, {**CUSTOM, "prompt": "[Verse]\nmock-fail"})
    final, seen = feed_until_done(suno, [c["id"] for c in clips])
    assert all(c["status"] == "error" and c["audio_url"] == "" for c in final)
    assert final[0]["metadata"]["error_message"] and final[0]["metadata"]["refund_credits"] is True
    assert "streaming" not in [s[0]["status"] for s in seen]
    by_test = generate(suno, CUSTOM)[0]["id"]
    gptnb.tasks.fail(by_test, "upstream account banned")
    (clip,) = suno.get(f"/suno/feed/{by_test}").json()
    assert clip["status"] == "error" and clip["metadata"]["error_message"] == "upstream account banned"


def poll_task(client: httpx.Client, task_id: str, limit: int = 20) -> dict:
    for _ in range(limit):
        task = client.get(f"/suno/fetch/{task_id}").json()["data"]
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task
    raise AssertionError(f"task {task_id} did not finish")


@pytest.mark.gptnb(clock="step")
def test_new_api_music_lyrics_and_concat_tasks(suno) -> None:
    submitted = suno.post("/suno/submit/music", json=CUSTOM).json()
    assert submitted["code"] == "success" and submitted["message"] == ""
    first = suno.get(f"/suno/fetch/{submitted['data']}").json()["data"]
    assert first["status"] == "SUBMITTED" and first["finish_time"] == 0 and [c["status"] for c in first["data"]] == ["submitted"] * 2
    music = poll_task(suno, submitted["data"])
    assert music["action"] == "MUSIC" and music["progress"] == "100%" and music["finish_time"] >= music["submit_time"] > 10**9
    assert all(c["status"] == "complete" and c["model_name"] == "chirp-v4" for c in music["data"])
    root = music["data"][0]["id"]
    # new-api continues a clip only with the task that made it (task_id), and the task must exist
    extend = {**CUSTOM, "continue_clip_id": root, "continue_at": 20, "task": "extend"}
    assert suno.post("/suno/submit/music", json=extend).json() == {"code": "invalid_request", "message": "task id is empty", "data": None}
    unknown = suno.post("/suno/submit/music", json={**extend, "task_id": "00000000-0000-4000-8000-000000000000"})
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["message"]) == (400, "task_not_exist", "task_origin_not_exist")
    extended = suno.post("/suno/submit/music", json={**extend, "task_id": submitted["data"]}).json()
    extension = poll_task(suno, extended["data"])["data"][0]
    concat = poll_task(suno, suno.post("/suno/submit/concat", json={"clip_id": extension["id"]}).json()["data"])
    assert concat["action"] == "CONCAT" and concat["data"][0]["metadata"]["type"] == "concat"
    lyrics = poll_task(suno, suno.post("/suno/submit/lyrics", json={"prompt": "a shanty about a lighthouse keeper"}).json()["data"])
    assert lyrics["data"]["status"] == "complete" and "[Chorus]" in lyrics["data"]["text"] and lyrics["data"]["title"]
    batch = suno.post("/suno/fetch", json={"ids": [submitted["data"], "00000000-0000-4000-8000-000000000000", lyrics["task_id"]]}).json()
    assert [t["task_id"] for t in batch["data"]] == [submitted["data"], lyrics["task_id"]]
    # new-api binds action but looks tasks up by id alone
    both = suno.post("/suno/fetch", json={"ids": [submitted["data"], lyrics["task_id"]], "action": "LYRICS"}).json()
    assert [t["action"] for t in both["data"]] == ["MUSIC", "LYRICS"]


@pytest.fixture
def listener():
    with CallbackListener(done=lambda body: body["status"] in ("SUCCESS", "FAILURE")) as received:
        yield received.url, received


@pytest.mark.gptnb(clock="manual")
def test_notify_hook_receives_the_task_object(suno, gptnb, listener) -> None:
    url, received = listener
    task_id = suno.post("/suno/submit/music", json={**CUSTOM, "notify_hook": url}).json()["data"]
    gptnb.clock.advance(60)
    assert received.arrived.wait(10), received.received
    statuses = [b["status"] for b in received.received]
    assert statuses == ["SUCCESS"]  # the relay calls back once, when the task finishes
    last = received.received[-1]
    assert last["task_id"] == task_id and last["notify_hook"] == url and all(c["status"] == "complete" for c in last["data"])
    assert all(c.status == 200 for c in gptnb.callbacks)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "expected"),
    [
        ("POST", "/suno/generate", {"mv": "chirp-v4", "title": "no mode"}, 400, {"detail": "one of prompt, gpt_description_prompt, tags, task or make_instrumental is required"}),
        ("POST", "/suno/generate", {"prompt": "x", "task": "extend"}, 400, {"detail": "continue_clip_id is required"}),
        ("POST", "/suno/generate", {"prompt": "x", "task": "extend", "continue_clip_id": "nope"}, 404, {"detail": "clip not found: nope"}),
        ("POST", "/suno/generate", {"prompt": "x", "task": "cover", "cover_clip_id": "nope"}, 404, {"detail": "clip not found: nope"}),
        ("POST", "/suno/generate", {"prompt": "x", "continue_clip_id": "c", "infill_start_s": 9, "infill_end_s": 3, "task": "infill"}, 400, {"detail": "infill_end_s must be greater than infill_start_s"}),
        ("POST", "/suno/generate/concat", {"clip_id": "nope"}, 404, {"detail": "clip not found: nope"}),
        ("GET", "/suno/feed/nope,also-nope", None, 200, []),
        ("GET", "/suno/fetch/nope", None, 400, {"code": "task_not_exist", "message": "task_not_exist", "data": None}),
        ("POST", "/suno/submit/lyrics", {"prompt": "  "}, 400, {"code": "invalid_request", "message": "prompt_empty", "data": None}),
        ("POST", "/suno/submit/lyrics", {"prompt": ""}, 400, {"code": "invalid_request", "message": "prompt_empty", "data": None}),
        ("POST", "/suno/submit/lyrics", {}, 400, {"code": "invalid_request", "message": "prompt_empty", "data": None}),
        ("GET", "/suno/lyrics/nope", None, 404, {"detail": "Not found."}),
        ("GET", "/suno/uploads/audio/nope", None, 404, {"detail": "Not found."}),
        ("POST", "/suno/submit/concat", {"clip_id": "nope"}, 400, {"code": "task_not_exist", "message": "clip not found: nope", "data": None}),
        ("POST", "/suno/uploads/audio-url", {"url": "ftp://files.example.org/a.mp3"}, 400, None),
    ],
)
def test_documented_errors(suno, method, path, body, status, expected) -> None:
    response = suno.request(method, path, json=body)
    assert response.status_code == status, response.text
    if expected is not None:
        assert response.json() == expected
    else:
        assert response.json()["code"] == "invalid_request" and response.json()["data"] is None


@pytest.mark.gptnb(clock="step")
def test_sources_must_be_usable(suno) -> None:
    running = generate(suno, CUSTOM)[0]["id"]
    early = suno.post("/suno/generate", json={**CUSTOM, "continue_clip_id": running, "task": "extend"})
    assert early.status_code == 400 and "not complete" in early.json()["detail"]
    done = finished_song(suno)
    too_far = suno.post("/suno/generate", json={**CUSTOM, "continue_clip_id": done["id"], "continue_at": 9999, "task": "extend"})
    assert too_far.status_code == 400 and "past the end" in too_far.json()["detail"]
    not_a_chain = suno.post("/suno/generate/concat", json={"clip_id": done["id"]})
    assert not_a_chain.status_code == 400 and "not an extension" in not_a_chain.json()["detail"]


def test_bad_bodies_keys_and_imports(suno) -> None:
    broken = suno.post("/suno/generate", content=b'{"prompt": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and isinstance(broken.json()["detail"], str)
    no_key = httpx.post(f"{BASE}/suno/generate", json=CUSTOM)
    assert no_key.status_code == 401 and no_key.json()["error"]["message"]
    for url in ("https://files.example.org/mock-fail.mp3", "https://cdn.example.invalid/a.mp3"):
        failed = suno.post("/suno/uploads/audio-url", json={"url": url})
        assert failed.status_code == 200 and failed.json()["code"] == "error" and failed.json()["data"] is None


# ---- what web UIs for new-api relays send, and the routes they call beyond the docs ----


@pytest.mark.gptnb(clock="step")
def test_a_web_ui_custom_song_with_empty_options_and_an_instrumental_from_a_style(suno) -> None:
    # Dooy/chatgpt-web-midjourney-proxy src/views/suno/mcInput.vue posts its whole form, unused options as ""
    form = {"prompt": LYRICS, "mv": "chirp-fenix", "title": "Harbor Lights", "tags": "sea shanty", "continue_at": 120, "continue_clip_id": "", "task": ""}
    clips = generate(suno, form)
    assert "task" not in clips[0]["metadata"] and clips[0]["metadata"]["history"] is None
    instrumental = generate(suno, {**form, "prompt": ""})  # no lyrics, a style and a title
    assert instrumental[0]["metadata"]["prompt"] == "" and instrumental[0]["metadata"]["has_vocal"] is False
    described = {"gpt_description_prompt": "", "make_instrumental": True, "mv": "chirp-fenix", "prompt": ""}
    final, _ = feed_until_done(suno, [c["id"] for c in generate(suno, described, path="/suno/generate/description-mode")])
    assert all(c["status"] == "complete" and c["metadata"]["make_instrumental"] for c in final)
    with_description = generate(suno, {**described, "gpt_description_prompt": "a calm song about the tide", "make_instrumental": False}, path="/suno/generate/description-mode")
    assert with_description[0]["metadata"]["gpt_description_prompt"] == "a calm song about the tide"
    nothing = suno.post("/suno/generate", json={"prompt": "", "task": "", "continue_clip_id": "", "mv": "chirp-v4"})
    assert nothing.status_code == 400 and "is required" in nothing.json()["detail"]


@pytest.mark.gptnb(clock="step")
def test_lyrics_are_written_then_polled(suno) -> None:
    # mcInput.vue generateLyrics: POST /suno/generate/lyrics/ {prompt}, then lyricsFetch polls /suno/lyrics/{id}
    lyrics_id = suno.post("/suno/generate/lyrics/", json={"prompt": "a shanty about a lighthouse keeper"}).json()["id"]
    seen = [suno.get(f"/suno/lyrics/{lyrics_id}").json() for _ in range(3)]
    assert [s["status"] for s in seen] == ["running", "complete", "complete"]
    assert seen[0]["text"] == "" and "[Chorus]" in seen[-1]["text"] and seen[-1]["title"]
    assert suno.get(f"/suno/generate/lyrics/{lyrics_id}").json() == seen[-1]  # Suno's own spelling
    assert suno.post("/suno/generate/lyrics", json={"prompt": None}).json() == {"detail": "prompt is required"}
    failed = suno.post("/suno/generate/lyrics/", json={"prompt": "mock-fail"}).json()["id"]
    assert [suno.get(f"/suno/lyrics/{failed}").json()["status"] for _ in range(2)] == ["running", "error"]


@pytest.mark.gptnb(clock="step")
def test_an_audio_upload_in_five_steps_becomes_a_clip(suno) -> None:
    # Dooy/chatgpt-web-midjourney-proxy src/views/suno/mcUploadMp3.vue selectFile
    slot = suno.post("/suno/uploads/audio", json={"extension": "mp3"}).json()
    assert suno.get(f"/suno/uploads/audio/{slot['id']}").json()["status"] == "processing"
    early = suno.post(f"/suno/uploads/audio/{slot['id']}/initialize-clip", json={})
    assert early.status_code == 400 and "not complete" in early.json()["detail"]
    stored = httpx.post(slot["url"], data=slot["fields"], files={"file": ("demo.mp3", b"ID3" + bytes(64), "audio/mpeg")})
    assert stored.status_code == 204
    assert suno.post(f"/suno/uploads/audio/{slot['id']}/upload-finish", json={"upload_type": "file_upload", "upload_filename": "harbor-demo.mp3"}).json() == {}
    statuses = []
    while not statuses or statuses[-1] not in ("complete", "error"):
        statuses.append(suno.get(f"/suno/uploads/audio/{slot['id']}").json()["status"])
        assert len(statuses) < 10, statuses
    assert statuses == ["processing", "passed_audio_processing", "passed_artist_moderation", "complete"]
    clip_id = suno.post(f"/suno/uploads/audio/{slot['id']}/initialize-clip/", json={"user_reviewed_tags": True}).json()["clip_id"]
    assert suno.post(f"/suno/uploads/audio/{slot['id']}/initialize-clip", json={}).json()["clip_id"] == clip_id
    (clip,) = suno.get(f"/suno/feed/{clip_id}").json()
    assert (clip["status"], clip["metadata"]["type"], clip["title"]) == ("complete", "upload", "harbor-demo")
    extension = generate(suno, {**CUSTOM, "task": "upload_extend", "continue_clip_id": clip_id, "continue_at": 5})
    assert extension[0]["metadata"]["history"][0]["type"] == "upload"


@pytest.mark.gptnb(clock="step")
def test_a_refused_upload_says_why(suno) -> None:
    slot = suno.post("/suno/uploads/audio/", json={"extension": "wav"}).json()
    assert slot["fields"]["key"].endswith(".wav")
    suno.post(f"/suno/uploads/audio/{slot['id']}/upload-finish/", json={"upload_type": "file_upload", "upload_filename": "mock-fail.wav"})
    final = [suno.get(f"/suno/uploads/audio/{slot['id']}/").json() for _ in range(3)][-1]
    assert final["status"] == "error" and final["error_message"]
    assert suno.post(f"/suno/uploads/audio/{slot['id']}/initialize-clip", json={}).status_code == 400
    assert httpx.post(slot["url"]).status_code == 400  # a form upload with nothing in it


# ---- clips require only what every clip carries; a broken server is still caught ----


@pytest.mark.parametrize(
    ("break_clip", "field", "rule"),
    [
        (lambda clip: clip.update(audio_url=""), "0/audio_url", "[minLength]"),
        (lambda clip: clip["metadata"].pop("duration"), "0/metadata/duration", "[required]"),
        (lambda clip: clip["metadata"].pop("type"), "0/metadata/type", "[required]"),
        (lambda clip: clip.pop("created_at"), "0/created_at", "[required]"),
        (lambda clip: clip.update(image_url=None), "0/image_url", "[type]"),
        (lambda clip: clip.update(status="done"), "0/status", "[enum]"),
    ],
)
def test_a_server_that_breaks_a_finished_clip_is_still_caught(break_clip, field, rule) -> None:
    def mutate(data: Any) -> Any:
        if isinstance(data, list):
            for clip in data:
                if clip.get("status") == "complete":
                    break_clip(clip)
        return data

    failure = first_failure(Breaker(step_mock(), json_mutation("/suno/feed", mutate)), "suno.official.generate")
    assert failure.startswith("poll") and f"body {field}" in failure and rule in failure, failure


def test_validate_reads_a_web_ui_form_as_the_relay_does(tmp_path, capsys) -> None:
    form = tmp_path / "generate.json"
    form.write_text(json.dumps({"prompt": "", "mv": "chirp-crow", "title": "Night Drive", "tags": "synthwave", "continue_at": 120, "continue_clip_id": "", "task": ""}))
    assert cli(["validate", "--method", "POST", "--path", "/suno/generate", str(form)]) == 0
    form.write_text(json.dumps({"prompt": "", "task": "", "continue_clip_id": ""}))
    assert cli(["validate", "--method", "POST", "--path", "/suno/generate", str(form)]) == 1
    capsys.readouterr()
