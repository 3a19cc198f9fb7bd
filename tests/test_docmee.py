"""Docmee (文多多 PPT) through the gptnb fixture: streams, async builds, real .pptx files, state, errors."""

from __future__ import annotations

import base64
import gzip
import io
import json
from typing import Any

import httpx
import pytest
from pptx import Presentation

BASE = "https://goapi.gptnb.ai"
API = "/docmee/v1/api"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OUTLINE = "# 城市低空物流\n## 1 行业背景\n### 1.1 政策窗口\n## 2 关键技术\n### 2.1 无人机\n## 3 商业模式\n### 3.1 成本\n## 4 风险\n"


@pytest.fixture
def docmee(gptnb):
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        yield client


def events(client: httpx.Client, path: str, body: dict[str, Any], **headers: str) -> list[dict[str, Any]]:
    """A streaming client's reading: every data: line as JSON, as Docmee's own demos parse them."""
    found = []
    with client.stream("POST", path, json=body, headers=headers) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                found.append(json.loads(line.removeprefix("data:").strip()))
    return found


def envelope(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    return response.json()


def data(response: httpx.Response) -> Any:
    body = envelope(response)
    assert body["code"] == 0, body
    return body["data"]


def unpack(packed: str) -> dict[str, Any]:
    return json.loads(gzip.decompress(base64.b64decode(packed)))


def chapters(markdown: str) -> list[str]:
    return [line[3:].strip() for line in markdown.splitlines() if line.startswith("## ")]


def levels(node: dict[str, Any]) -> set[int]:
    return {node["level"]}.union(*(levels(child) for child in node.get("children") or []))


def direct(client: httpx.Client, subject: str, **headers: str) -> dict[str, Any]:
    return data(client.post(f"{API}/ppt/directGeneratePptx", json={"subject": subject, "stream": False, "length": "short"}, headers=headers))["pptInfo"]


@pytest.mark.gptnb(clock="step")
def test_token_outline_async_build_download_flow(docmee, gptnb) -> None:
    token = data(docmee.post(f"{API}/user/createApiToken", json={"uid": "teacher-7", "limit": 3}))
    assert token["token"].startswith("sk_") and token["expireTime"] == 7200
    auth = {"token": token["token"]}

    outline = events(docmee, f"{API}/ppt/generateOutline", {"subject": "城市低空物流", "length": "medium"}, **auth)
    assert outline[-1]["status"] == 4 and all(e["status"] == 3 for e in outline[:-1])
    markdown = "".join(e["text"] for e in outline)
    sections = chapters(markdown)
    tree = outline[-1]["result"]
    assert tree["name"] == "城市低空物流" and [c["name"] for c in tree["children"]] == sections and len(sections) >= 3

    template = data(docmee.post(f"{API}/ppt/templates", json={"page": 1, "size": 1, "filters": {"type": 1}}))[0]
    content = events(docmee, f"{API}/ppt/generateContent", {"outlineMarkdown": markdown, "asyncGenPptx": True, "templateId": template["id"]}, **auth)
    progress = [e for e in content if "pptId" in e]
    ppt_id = progress[0]["pptId"]
    assert content.index(progress[0]) <= 2, "the first progress event reveals the pptId early"
    assert {e["pptId"] for e in progress} == {ppt_id} and all(e["total"] == len(sections) and 1 <= e["current"] <= e["total"] for e in progress)
    assert content[-1]["status"] == 4 and 0 in levels(content[-1]["result"])  # content adds body paragraphs
    assert "[DONE]" not in json.dumps(content)

    assert data(docmee.post(f"{API}/ppt/downloadPptx", json={"id": ppt_id}, headers=auth))["fileUrl"] is None  # still rendering
    seen = []
    for _ in range(len(sections) + 2):
        info = data(docmee.get(f"{API}/ppt/asyncPptInfo", params={"pptId": ppt_id}, headers=auth))
        seen.append(info["current"])
        assert len(unpack(info["pptxProperty"])["pages"]) == info["current"]
        if info["current"] >= info["total"]:
            break
    assert seen == list(range(1, len(sections) + 1))  # the step clock renders one page per poll

    link = data(docmee.post(f"{API}/ppt/downloadPptx", json={"id": ppt_id}, headers=auth))
    assert link["id"] == ppt_id and link["fileUrl"].startswith(BASE)
    file = httpx.get(link["fileUrl"])  # a pre-signed link: no key
    assert file.status_code == 200 and file.headers["content-type"] == PPTX
    deck = Presentation(io.BytesIO(file.content))
    assert len(deck.slides) == len(sections)
    assert [slide.shapes[0].text_frame.text for slide in deck.slides] == sections

    loaded = data(docmee.get(f"{API}/ppt/loadPptx", params={"id": ppt_id}, headers=auth))["pptInfo"]
    assert loaded["templateId"] == template["id"] and len(unpack(loaded["pptxProperty"])["pages"]) == len(sections)
    assert data(docmee.get(f"{API}/user/apiInfo"))["usedCount"] == 1


def test_null_options_read_as_not_given(docmee) -> None:
    """Docmee's demos send null for every option they leave unset (veasion/aippt-api-python-demo api.py)."""
    outline = events(docmee, f"{API}/ppt/generateOutline", {"subject": "城市低空物流", "length": None, "lang": None, "stream": None, "prompt": None, "dataUrl": None})
    assert outline[-1]["status"] == 4 and len(chapters("".join(e["text"] for e in outline))) == 5  # medium, the default length
    token = data(docmee.post(f"{API}/user/createApiToken", json={"uid": None, "limit": None, "timeOfHours": None}))
    assert token["token"].startswith("sk_") and token["expireTime"] == 7200
    listed = envelope(docmee.post(f"{API}/ppt/randomTemplates", json={"size": 2, "filters": {"type": 1, "category": None, "style": None, "themeColor": None, "neq_id": None}}))
    assert listed["code"] == 0 and len(listed["data"]) == 2
    assert envelope(docmee.post(f"{API}/ppt/generateOutline", json={"subject": None, "dataUrl": None}))["code"] != 0  # nothing given at all


def test_list_rename_save_delete(docmee) -> None:
    first, second = direct(docmee, "高校实验室安全培训"), direct(docmee, "新员工入职指南")
    listed = envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 10}))
    assert listed["total"] == 2 and [row["id"] for row in listed["data"]] == [second["id"], first["id"]]
    assert all("fileUrl" not in row and "pptxProperty" not in row for row in listed["data"])
    assert [r["id"] for r in data(docmee.post(f"{API}/ppt/listPptx", json={"page": 2, "size": 1}))] == [first["id"]]

    assert envelope(docmee.post(f"{API}/ppt/updatePptxAttr", json={"id": first["id"], "name": "实验室安全（终版）"})) == {"code": 0, "message": "操作成功"}
    renamed = data(docmee.get(f"{API}/ppt/loadPptx", params={"id": first["id"]}))["pptInfo"]
    assert renamed["name"] == "实验室安全（终版）" and renamed["subject"] == "高校实验室安全培训" and renamed["updateTime"]

    edited = {"version": "1.0", "width": 960, "height": 540, "pages": [{"page": 1, "children": [{"type": "text", "point": [80, 80, 800, 100], "text": "只剩一页"}]}]}
    saved = data(docmee.post(f"{API}/ppt/savePptx", json={"id": first["id"], "pptxProperty": edited, "drawPptx": True}))["pptInfo"]
    deck = Presentation(io.BytesIO(httpx.get(saved["fileUrl"]).content))
    assert len(deck.slides) == 1 and deck.slides[0].shapes[0].text_frame.text == "只剩一页"

    link = data(docmee.post(f"{API}/ppt/downloadPptx", json={"id": second["id"]}))["fileUrl"]
    assert envelope(docmee.post(f"{API}/ppt/delete", json={"id": second["id"]})) == {"code": 0, "message": "操作成功"}
    assert envelope(docmee.get(f"{API}/ppt/loadPptx", params={"id": second["id"]}))["code"] == 1001
    assert httpx.get(link).status_code == 404
    assert envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 10}))["total"] == 1


def test_json2ppt_and_ppt2json_round_trip(docmee) -> None:
    texts = [["封面标题", "副标题\n第二行"], ["第二页"], ["Third page", "with two boxes"]]
    prop = {
        "version": "1.0", "width": 960, "height": 540, "font": [], "slideMasters": [],
        "pages": [{"page": n, "children": [{"id": f"{n}-{i}", "type": "text", "depth": 1, "point": [60, 60 + 120 * i, 800, 100], "text": t, "children": []} for i, t in enumerate(page)]} for n, page in enumerate(texts, 1)],
    }
    built = docmee.post(f"{API}/pptjson/json2ppt", json=prop)
    assert built.status_code == 200 and built.headers["content-type"] == PPTX
    assert len(Presentation(io.BytesIO(built.content)).slides) == len(texts)

    for path in (f"{API}/pptjson/ppt2json", f"{API}/ppt/ppt2json"):
        parsed = docmee.post(path, files={"file": ("deck.pptx", built.content, PPTX)}).json()
        assert (parsed["width"], parsed["height"]) == (960, 540)
        assert [[n["text"] for n in page["children"] if n["type"] == "text"] for page in parsed["pages"]] == texts
        assert parsed["pages"][0]["children"][1]["point"] == [60, 180, 800, 100]
    again = docmee.post(f"{API}/ppt/json2ppt", json=parsed)
    assert len(Presentation(io.BytesIO(again.content)).slides) == len(texts)

    not_a_deck = docmee.post(f"{API}/pptjson/ppt2json", files={"file": ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png")})
    assert envelope(not_a_deck)["code"] == -1


def test_direct_generate_stream_ends_with_the_ppt(docmee) -> None:
    streamed = events(docmee, f"{API}/ppt/directGeneratePptx", {"subject": "Solar power for schools", "lang": "en", "length": "long", "pptxProperty": True})
    final, announced = streamed[-1], streamed[-2]
    assert final["status"] == 4 and announced == {"text": "", "status": 3, "pptId": final["result"]["id"]}
    info = final["result"]
    sections = chapters("".join(e["text"] for e in streamed))
    assert info["subject"] == "Solar power for schools" and len(unpack(info["pptxProperty"])["pages"]) == len(sections) == 7
    assert len(Presentation(io.BytesIO(httpx.get(info["fileUrl"]).content)).slides) == len(sections)
    without = direct(docmee, "Solar power for schools")
    assert without["pptxProperty"] is None and without["id"] != info["id"]


def test_parsed_document_feeds_the_outline(docmee) -> None:
    parsed = data(docmee.post(f"{API}/ppt/parseFileData", data={"websearch": "低空经济"}, files={"file": ("brief.md", "季度销售回顾\n华东区增长 18%".encode(), "text/markdown")}))
    streamed = events(docmee, f"{API}/ppt/generateOutline", {"dataUrl": parsed["dataUrl"], "length": "short"})
    assert streamed[0] == {"text": "", "status": 1} and streamed[-1]["result"]["name"] == "季度销售回顾"
    assert envelope(docmee.post(f"{API}/ppt/parseFileData", files={"content": (None, " ")}))["code"] == 1010


def test_outline_revision_json_mode_and_both_update_paths(docmee) -> None:
    plain = data(docmee.post(f"{API}/ppt/generateOutline", json={"subject": "Remote work", "lang": "en", "length": "short", "stream": False}))
    assert len(chapters(plain["text"])) == len(plain["result"]["children"]) == 3
    for path in (f"{API}/ppt/updateOutline", "/docmee/v1/ppt/updateOutline"):
        revised = events(docmee, path, {"outlineMarkdown": OUTLINE, "length": "long", "question": "强化大纲结构和过渡"})
        names = chapters("".join(e["text"] for e in revised))
        assert len(names) == 7 and names[:4] == ["1 行业背景", "2 关键技术", "3 商业模式", "4 风险"]
    content = data(docmee.post(f"{API}/ppt/generateContent", json={"outlineMarkdown": OUTLINE, "stream": False}))
    assert content["text"].count("\n- ") >= len(chapters(OUTLINE)) and content["result"]["name"] == "城市低空物流"


def test_templates_filter_page_and_exclude(docmee) -> None:
    everything = envelope(docmee.post(f"{API}/ppt/templates", json={"page": 0, "size": 500, "filters": {"type": 1}}))
    assert everything["total"] == len(everything["data"]) > 20
    blue = envelope(docmee.post(f"{API}/ppt/templates", json={"page": 1, "size": 3, "filters": {"type": 1, "themeColor": "#589AFD", "category": ""}}))
    assert len(blue["data"]) == 3 and blue["total"] < everything["total"] and {t["themeColor"] for t in blue["data"]} == {"#589AFD"}
    assert envelope(docmee.post(f"{API}/ppt/templates", json={"page": 1, "size": 5, "filters": {"type": 4}})) == {"code": 0, "message": "操作成功", "total": 0, "data": []}
    shown = [t["id"] for t in blue["data"]]
    picked = envelope(docmee.post(f"{API}/ppt/randomTemplates", json={"size": 4, "filters": {"type": 1, "neq_id": shown}}))
    assert picked["total"] == len(picked["data"]) == 4 and not set(shown) & {t["id"] for t in picked["data"]}
    cover = httpx.get(picked["data"][0]["coverUrl"])
    assert cover.headers["content-type"] == "image/png"


@pytest.mark.gptnb(clock="manual")
def test_manual_clock_renders_pages_only_as_time_passes(docmee, gptnb) -> None:
    content = events(docmee, f"{API}/ppt/generateContent", {"outlineMarkdown": OUTLINE, "asyncGenPptx": True})
    ppt_id = next(e["pptId"] for e in content if "pptId" in e)

    def current() -> int:
        return data(docmee.get(f"{API}/ppt/asyncPptInfo", params={"pptId": ppt_id}))["current"]

    assert current() == current() == 1
    gptnb.clock.advance(60)
    assert current() == len(chapters(OUTLINE))


def test_tokens_scope_data_and_limit_generations(docmee) -> None:
    alice = {"token": data(docmee.post(f"{API}/user/createApiToken", json={"uid": "alice", "limit": 1}))["token"]}
    bob = {"token": data(docmee.post(f"{API}/user/createApiToken", json={"uid": "bob", "limit": 0}))["token"]}
    mine = direct(docmee, "Alice's deck", **alice)
    assert mine["userId"] == "alice"
    assert envelope(docmee.post(f"{API}/ppt/directGeneratePptx", json={"subject": "again", "stream": False}, headers=alice))["code"] == 88
    assert envelope(docmee.post(f"{API}/ppt/directGeneratePptx", json={"subject": "none", "stream": False}, headers=bob))["code"] == 88
    assert envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 10}, headers=bob))["total"] == 0
    assert envelope(docmee.get(f"{API}/ppt/loadPptx", params={"id": mine["id"]}, headers=bob))["code"] == 1003
    replaced = data(docmee.post(f"{API}/user/createApiToken", json={"uid": "alice"}))["token"]
    assert envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 10}, headers=alice))["code"] == 98  # revoked
    assert envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 10}, headers={"token": replaced}))["total"] == 1


def test_unknown_ids_and_bad_input_are_business_errors(docmee) -> None:
    unknown = "1000000000000000001"
    answers = [
        docmee.get(f"{API}/ppt/loadPptx", params={"id": unknown}),
        docmee.get(f"{API}/ppt/asyncPptInfo", params={"pptId": unknown}),
        docmee.post(f"{API}/ppt/downloadPptx", json={"id": unknown}),
        docmee.post(f"{API}/ppt/updatePptxAttr", json={"id": unknown, "name": "x"}),
        docmee.post(f"{API}/ppt/savePptx", json={"id": unknown}),
        docmee.post(f"{API}/ppt/delete", json={"id": unknown}),
        docmee.post(f"{API}/ppt/updatePptTemplate", json={"pptId": unknown, "templateId": "1"}),
    ]
    assert [envelope(a)["code"] for a in answers] == [1001] * len(answers)
    assert envelope(docmee.post(f"{API}/ppt/generateContent", json={"stream": True}))["code"] == 1010
    assert envelope(docmee.post(f"{API}/ppt/generateOutline", json={"length": "short"})) == {"code": 1010, "message": "参数错误：subject不能为空"}
    assert envelope(docmee.post(f"{API}/ppt/generateContent", json={"outlineMarkdown": OUTLINE, "asyncGenPptx": True, "templateId": "42"}))["code"] == -1
    assert envelope(docmee.post(f"{API}/ppt/generateOutline", json={"subject": "a nsfw topic"}))["code"] == 1006
    assert envelope(docmee.post(f"{API}/ppt/listPptx", json={"page": 1, "size": 1}, headers={"token": "sk_nope"}))["code"] == 98
    assert envelope(docmee.post(f"{API}/ppt/listPptx", content=b"{oops", headers={"content-type": "application/json"}))["code"] == -1
    assert envelope(docmee.post(f"{API}/ppt/templates", json={"page": 1, "size": 1, "filters": {}}))["code"] == 1010
    ppt = direct(docmee, "模板更换")
    assert envelope(docmee.post(f"{API}/ppt/updatePptTemplate", json={"pptId": ppt["id"], "templateId": "42"}))["code"] == -1
    forged = ppt["fileUrl"].replace("Signature=", "Signature=x")
    assert httpx.get(forged).json()["Code"] == "AccessDenied"


def test_relay_key_forms_and_relay_errors(docmee) -> None:
    for key in ("Bearer sk-test", "sk-test"):
        assert data(docmee.get(f"{API}/user/apiInfo", headers={"Authorization": key}))["usedCount"] == 0
    refused = httpx.get(f"{BASE}{API}/user/apiInfo")
    assert refused.status_code == 401 and "error" in refused.json()


@pytest.mark.gptnb(clock="step")
def test_a_failing_model_ends_the_stream_and_the_build(docmee) -> None:
    streamed = events(docmee, f"{API}/ppt/generateContent", {"outlineMarkdown": OUTLINE + "### mock-fail\n", "asyncGenPptx": True})
    assert streamed[-1] == {"status": -1, "error": "AI模型执行异常"} and all(e["status"] != 4 for e in streamed)
    ppt_id = next(e["pptId"] for e in streamed if "pptId" in e)
    codes = [envelope(docmee.get(f"{API}/ppt/asyncPptInfo", params={"pptId": ppt_id}))["code"] for _ in range(5)]
    assert codes[0] == 0 and codes[-1] == 1009
    assert envelope(docmee.post(f"{API}/ppt/generateOutline", json={"subject": "mock-fail", "stream": False}))["code"] == 1009
