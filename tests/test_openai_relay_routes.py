"""More OpenAI-format routes the relay serves: image edits and variations, moderations, rerank.

Through the official SDK where it has the call (images.edit, images.create_variation, moderations),
raw httpx / httpx2 otherwise; images are opened with Pillow, so the bytes must be real pictures.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, CLIENT_MODULES, open_png, sdk
from PIL import Image

from mockserver import media


@pytest.fixture
def client(gptnb: Any) -> openai.OpenAI:
    return sdk(gptnb)


def png(side: int, seed: int = 1, height: int | None = None) -> tuple[str, bytes, str]:
    return ("picture.png", media.png(side, height or side, seed=seed), "image/png")


def fetched_png(url: str) -> Image.Image:
    response = httpx.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return open_png(response.content)


# --- image edits ----------------------------------------------------------------------------------


def test_a_dall_e_2_edit_answers_downloadable_pngs_of_the_asked_size(client: openai.OpenAI, gptnb: Any) -> None:
    result = client.images.edit(model="dall-e-2", image=png(256), mask=png(256, seed=2), prompt="Add a red balloon", n=2, size="512x512")
    assert len(result.data) == 2 and result.data[0].url != result.data[1].url
    assert all(fetched_png(item.url).size == (512, 512) for item in result.data)
    call = gptnb.calls.last
    assert call.contract_id == "openai.images.edits" and call.body["prompt"] == "Add a red balloon"
    assert call.body["image"][0]["content_type"] == "image/png" and call.body["mask"][0]["size"] > 0


def test_an_edit_depends_on_the_uploaded_picture(client: openai.OpenAI) -> None:
    def edited(seed: int) -> str:
        return client.images.edit(model="dall-e-2", image=png(256, seed=seed), prompt="Same prompt", response_format="b64_json").data[0].b64_json

    assert edited(1) == edited(1) and edited(1) != edited(2)
    assert open_png(base64.b64decode(edited(1))).size == (1024, 1024)


def test_gpt_image_edits_several_images_into_the_asked_format(client: openai.OpenAI) -> None:
    jpeg = ("photo.jpg", media.image(300, 200, "jpeg", seed=3), "image/jpeg")
    result = client.images.edit(model="gpt-image-1", image=[png(128), jpeg], prompt="A gift basket with both", size="1536x1024", output_format="webp", quality="high")
    picture = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.format == "WEBP" and picture.size == (1536, 1024)
    assert result.output_format == "webp" and result.size == "1536x1024" and result.quality == "high"
    usage = result.usage
    assert usage.input_tokens_details.image_tokens > 0 and usage.total_tokens == usage.input_tokens + usage.output_tokens


@pytest.mark.parametrize(
    ("form", "files", "param"),
    [
        ({"model": "dall-e-2", "prompt": "x"}, {"image": png(256, height=128)}, "image"),
        ({"model": "dall-e-2", "prompt": "x"}, {"image": png(256), "mask": png(128)}, "mask"),
        ({"model": "dall-e-2", "prompt": "x", "size": "1536x1024"}, {"image": png(256)}, "size"),
        ({"model": "dall-e-2", "prompt": "x"}, {"image": ("notes.txt", b"not a picture", "text/plain")}, "image"),
        ({"model": "gpt-image-1", "prompt": "x", "response_format": "url"}, {"image": png(64)}, "response_format"),
    ],
    ids=["not-square", "mask-size", "size", "not-an-image", "gpt-image-url"],
)
def test_bad_edits_are_refused_with_the_parameter_named(gptnb: Any, form: dict[str, str], files: dict[str, Any], param: str) -> None:
    response = httpx.post(f"{BASE}/v1/images/edits", data=form, files=files, headers=AUTH)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_an_edit_without_an_image_is_a_400(gptnb: Any) -> None:
    response = httpx.post(f"{BASE}/v1/images/edits", data={"prompt": "x"}, files={"mask": png(64)}, headers=AUTH)
    assert response.status_code == 400 and "image" in response.json()["error"]["message"]


# --- image variations -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks create_variation deprecated
def test_variations_of_a_square_png(client: openai.OpenAI) -> None:
    result = client.images.create_variation(image=png(256), n=3, size="256x256")
    assert len({item.url for item in result.data}) == 3
    assert all(fetched_png(item.url).size == (256, 256) for item in result.data)
    encoded = client.images.create_variation(image=png(256), response_format="b64_json")
    assert open_png(base64.b64decode(encoded.data[0].b64_json)).size == (1024, 1024)


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variations_refuse_what_dall_e_2_cannot_vary_and_the_relay_answer_is_documented(client: openai.OpenAI, gptnb: Any) -> None:
    with pytest.raises(openai.BadRequestError):
        client.images.create_variation(image=png(256, height=200))
    with pytest.raises(openai.InternalServerError) as no_channel:
        client.images.create_variation(image=png(256), model="gpt-image-1")
    assert no_channel.value.status_code == 503
    # The relay's own answer: its distributor reads no model from a multipart body, named or not.
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.create_variation(image=png(256), model="dall-e-2", extra_headers={"X-Mock-Scenario": "example=relay"})
    assert caught.value.body["type"] == "new_api_error" and caught.value.code == ""
    assert caught.value.body["message"].startswith("未指定模型名称，模型名称不能为空 (request id: ")


# --- moderations ----------------------------------------------------------------------------------


def test_a_violent_sentence_is_flagged_and_a_kind_one_is_not(client: openai.OpenAI) -> None:
    result = client.moderations.create(model="omni-moderation-latest", input=["I will kill them all.", "Have a lovely day."])
    assert result.id.startswith("modr-") and result.model == "omni-moderation-latest"
    violent, kind = result.results
    assert violent.flagged and violent.categories.violence and not violent.categories.sexual
    assert violent.category_scores.violence > 0.9 > violent.category_scores.hate
    assert not kind.flagged and max(kind.category_scores.model_dump().values()) < 0.1
    assert client.moderations.create(input="I will kill them all.").results[0].category_scores == violent.category_scores


def test_sub_categories_flag_their_parent_and_images_are_judged(client: openai.OpenAI) -> None:
    result = client.moderations.create(input=[{"type": "text", "text": "I want to die tonight"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}])
    (only,) = result.results
    assert only.categories.self_harm_intent and only.categories.self_harm
    applied = only.category_applied_input_types
    assert applied.self_harm == ["text", "image"] and applied.hate == ["text"]


# --- rerank ---------------------------------------------------------------------------------------


@CLIENT_MODULES
def test_rerank_puts_the_matching_document_first(gptnb: Any, client_module: Any) -> None:
    documents = ["Gardening tools for small balconies", "Organic skincare for sensitive skin", {"text": "Skincare routines for sensitive skin in winter"}, "Kitchen knives"]
    body = {"model": "bge-reranker-v2-m3", "query": "skincare for sensitive skin", "documents": documents, "top_n": 2, "return_documents": True}
    answer = client_module.post(f"{BASE}/v1/rerank", json=body, headers=AUTH).json()
    results = answer["results"]
    assert len(results) == 2 and {r["index"] for r in results} == {1, 2}
    assert results[0]["relevance_score"] >= results[1]["relevance_score"]
    assert results[0]["document"] in ({"text": documents[1]}, documents[2])
    assert answer["usage"]["total_tokens"] == answer["usage"]["prompt_tokens"] > 0
    everything = client_module.post(f"{BASE}/v1/rerank", json={**body, "top_n": None, "return_documents": False}, headers=AUTH).json()["results"]
    assert sorted(r["index"] for r in everything) == [0, 1, 2, 3] and all("document" not in r for r in everything)


@pytest.mark.parametrize(("change", "field"), [({"query": ""}, "query"), ({"documents": []}, "documents"), ({"model": None}, "model")])
def test_rerank_refuses_an_empty_query_or_no_documents(gptnb: Any, change: dict[str, Any], field: str) -> None:
    body = {"model": "jina-reranker-m0", "query": "q", "documents": ["a"], **change}
    response = httpx.post(f"{BASE}/v1/rerank", json={k: v for k, v in body.items() if v is not None}, headers=AUTH)
    assert response.status_code == 400 and field in response.json()["error"]["message"]
