"""The image, tool and PPT families' contracts were loosened to what real servers reliably send;
a server that breaks what they still require is caught by the conformance runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_conformance import Breaker, first_failure, json_mutation, step_mock

from mockserver.contracts import default_registry
from mockserver.responses import ResponseJudge


def flux_ready_without_result(data: Any) -> Any:
    if data.get("status") == "Ready":
        data.pop("result")
    return data


def flux_status_word(data: Any) -> Any:
    if data.get("status") == "Ready":
        data["status"] = "Done"
    return data


def flux_progress_as_text(data: Any) -> Any:
    data["progress"] = "40%"
    return data


def ideogram_item_without_seed(data: Any) -> Any:
    for item in data.get("data", [])[:1]:
        item.pop("seed")
    return data


def picwish_state_as_text(data: Any) -> Any:
    if "state" in data.get("data", {}):
        data["data"]["state"] = str(data["data"]["state"])
    return data


def picwish_without_progress(data: Any) -> Any:
    data.get("data", {}).pop("progress", None)
    return data


def mewx_without_uuid(data: Any) -> Any:
    if isinstance(data.get("data"), dict):
        data["data"].pop("img_uuid", None)
    return data


def docmee_template_without_id(data: Any) -> Any:
    for item in (data.get("data") or [])[:1]:
        item.pop("id")
    return data


BROKEN: list[tuple[str, str, Callable[[Any], Any], tuple[str, ...]]] = [
    ("flux.submit.image", "/flux/v1/get_result", flux_ready_without_result, ("result", "required")),
    ("flux.submit.image", "/flux/v1/get_result", flux_status_word, ("Done",)),
    ("flux.submit.image", "/flux/v1/get_result", flux_progress_as_text, ("progress",)),
    ("ideogram.generate", "/ideogram/generate", ideogram_item_without_seed, ("seed", "required")),
    ("picwish.segmentation.create", "/api/tasks/visual/segmentation/", picwish_state_as_text, ("state",)),
    ("picwish.segmentation.create", "/api/tasks/visual/segmentation/", picwish_without_progress, ("progress", "required")),
    ("mewx.qrcode.generate", "/api/v1/images/generate", mewx_without_uuid, ("response_schema_conformance", "\"data\":{}")),
    ("docmee.templates.random", "/docmee/v1/api/ppt/randomTemplates", docmee_template_without_id, ("id",)),
]


@pytest.mark.parametrize(("contract_id", "path", "change", "words"), BROKEN, ids=[f"{b[0]}-{b[2].__name__}" for b in BROKEN])
def test_a_server_breaking_what_is_still_required_is_caught(contract_id: str, path: str, change: Callable[[Any], Any], words: tuple[str, ...]) -> None:
    failure = first_failure(Breaker(step_mock(), json_mutation(path, change)), contract_id)
    assert all(word in failure for word in words), failure


def test_a_docmee_stream_event_without_its_status_is_caught() -> None:
    def unstatused(path: str, body: bytes) -> bytes:
        return body.replace(b'"status":', b'"state":') if path.endswith("/generateOutline") else body

    failure = first_failure(Breaker(step_mock(), unstatused), "docmee.outline.generate")
    assert "status" in failure, failure


# ---- and what real servers send without those fields is accepted ----

REGISTRY = default_registry()


def violations(contract_id: str, body: Any, status: int = 200) -> list[str]:
    return ResponseJudge(REGISTRY[contract_id], REGISTRY).body_violations(status, "application/json", body)


def test_bfl_answers_are_judged_by_their_status() -> None:
    task = "3f1c2a9e-7b4d-4c1e-9a60-2d5e8f0b7c11"
    assert violations("flux.task.get_result", {"id": task, "status": "Pending"}) == []
    assert violations("flux.task.get_result", {"id": task, "status": "Pending", "result": {}, "progress": 0.4, "details": None, "preview": None}) == []
    moderated = {"id": task, "status": "Content Moderated", "result": None, "details": {"Moderation Reasons": ["Derivative Works Filter"]}}
    assert violations("flux.task.get_result", moderated) == []
    assert violations("flux.task.get_result", {"id": task, "status": "Ready", "result": {}}) != []  # Ready still needs result.sample


def test_an_unsafe_ideogram_image_without_url_is_accepted() -> None:
    item = {"prompt": "a harbour", "resolution": "1024x1024", "is_image_safe": False, "seed": 7, "style_type": None}
    assert violations("ideogram.generate", {"created": "2024-12-15T17:32:00.965408+00:00", "data": [item]}) == []


def test_a_picwish_result_needs_only_task_id_state_and_progress() -> None:
    body = {"status": 200, "data": {"task_id": "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4", "state": 4, "progress": 60}}
    assert violations("picwish.segmentation.get", body) == []
    assert violations("picwish.segmentation.get", {"status": 200, "data": {"task_id": "x", "state": "4", "progress": 60}}) != []


def test_a_docmee_ppt_info_needs_only_what_clients_read() -> None:
    info = {"id": "1833839690764124160", "subject": "低空经济", "coverUrl": "https://example.org/cover.png", "fileUrl": None}
    assert violations("docmee.pptx.load", {"code": 0, "message": "操作成功", "data": {"pptInfo": info}}) == []
    assert violations("docmee.pptx.load", {"code": 0, "data": {"pptInfo": {k: v for k, v in info.items() if k != "id"}}}) != []


def test_a_finished_mewx_generation_must_carry_its_urls() -> None:
    assert violations("mewx.detail.get", {"code": 0, "data": {"status": 0}}) == []
    assert violations("mewx.detail.get", {"code": 0, "data": {"status": 1, "urls": ["https://cdn.mewx.art/a.png"], "duration": 3}}) == []
    assert violations("mewx.detail.get", {"code": 0, "data": {"status": 1, "duration": 3}}) != []
