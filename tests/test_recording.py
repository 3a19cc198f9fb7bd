"""Cassettes as ``gptnb-mock proxy --record`` writes them: one readable file per exchange with timing,
contract and verdicts, task polls kept in order — and no credential on disk, whatever way the families'
contracts say a key travels (read from the contracts, so a new family's carrier is covered at once)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from mockserver.contracts import default_registry
from mockserver.proxy.cassette import body_bytes, load
from pytest_plugin.strategies import documented_requests

from proxy_helpers import CHAT, STREAM, files_under, proxy_to

OPERATOR_KEY = "sk-operator-key-never-on-disk-9999"


@pytest.fixture
def upstream(standin):
    return standin


def carrier_styles() -> dict[str, tuple[str, str, str, str]]:
    """One contract per way a key travels (where, name, prefix), from every contract's ``auth``."""
    styles: dict[str, tuple[str, str, str, str]] = {}
    for contract in sorted(default_registry(), key=lambda c: c.id):
        for carrier in contract.auth_carriers:
            style = f"{carrier.location}:{carrier.name}:{carrier.prefix.strip()}"
            styles.setdefault(style, (contract.id, carrier.location, carrier.name, carrier.prefix))
    return styles


STYLES = carrier_styles()


def test_every_declared_way_of_sending_a_key_is_exercised() -> None:
    # The families' contracts declare these today; the list grows by itself with new contracts.
    assert {"header:Authorization:Bearer", "header:mj-api-secret:", "header:X-API-KEY:", "subprotocol:openai-insecure-api-key.:"} <= set(STYLES)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_no_credential_reaches_the_disk(style: str, upstream, tmp_path) -> None:
    contract_id, location, name, prefix = STYLES[style]
    secret = f"sk-{location}-{abs(hash(style)) % 10**8:08d}-client-secret"
    cookie = "session=cookie-secret-5555; theme=dark"
    with proxy_to(upstream.url, record=tmp_path, api_key=OPERATOR_KEY) as (_, url):
        if location == "subprotocol":
            asyncio.run(_websocket_with(url, ["realtime", name + prefix + secret], cookie))
        else:
            _, request, _ = documented_requests(contract_id)[0]
            kwargs = request.httpx_kwargs(url)
            carriers = {c.name.lower() for c in default_registry()[contract_id].auth_carriers}
            headers = {k: v for k, v in kwargs.pop("headers").items() if k.lower() not in carriers}
            headers.update({"Cookie": cookie, "x-standin-echo": "1"})  # the upstream quotes every header back
            params = dict(kwargs.pop("params", {}))
            if location == "query":
                params[name] = prefix + secret
            else:
                headers[name] = prefix + secret
            httpx.request(**kwargs, headers=headers, params=params, timeout=30)
    written = files_under(tmp_path)
    assert written, "nothing was recorded"
    on_disk = b"".join(path.read_bytes() for path in written)
    for value in (secret, OPERATOR_KEY, "cookie-secret-5555"):
        assert value.encode() not in on_disk
    assert b"<redacted>" in on_disk


async def _websocket_with(url: str, subprotocols: list[str], cookie: str) -> None:
    target = url.replace("http://", "ws://") + "/v1/realtime?model=gpt-4o-realtime-preview"
    async with websockets.connect(target, subprotocols=subprotocols, additional_headers={"Cookie": cookie}) as ws:
        await ws.recv()


def test_a_key_in_the_query_is_replaced_on_disk_and_in_the_upstream_url(upstream, tmp_path) -> None:
    with proxy_to(upstream.url, record=tmp_path) as (_, url):
        httpx.get(url + "/v1/models", params={"key": "sk-query-key-7777", "limit": "2"}, headers={"x-standin-echo": "1", "Authorization": "Bearer sk-h-8888"})
    (cassette,) = load(tmp_path)
    assert cassette.request["query"] == {"key": "<redacted>", "limit": "2"}
    assert b"sk-query-key-7777" not in cassette.path.read_bytes()


def test_a_cassette_is_readable_with_timing_contract_and_verdicts(upstream, tmp_path) -> None:
    with proxy_to(upstream.url, record=tmp_path) as (_, url), httpx.Client(base_url=url, headers={"Authorization": "Bearer sk-a"}) as client:
        client.post("/v1/chat/completions", json=CHAT)
        client.post("/v1/chat/completions", json=STREAM).read()
    plain, stream = load(tmp_path)
    assert [plain.name, stream.name] == ["0001-openai.chat.completions.json", "0002-openai.chat.completions.json"]
    text = plain.path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "gptnb_cassette": 1,') and json.loads(text) == plain.data  # indented JSON, one value per line
    assert plain.contract == "openai.chat.completions" and plain.request["body"]["json"] == CHAT
    assert plain.data["verdict"]["conforms"] is False and len(plain.data["verdict"]["violations"]) == 3
    assert plain.response["body"]["json"]["provider"] == "standin"
    assert plain.timing["time_to_headers_ms"] > 0 and plain.timing["duration_ms"] >= plain.timing["time_to_headers_ms"]
    chunks = stream.response["body"]["stream"]
    assert [c["text"].startswith("data: ") for c in chunks] == [True] * len(chunks)
    events = stream.timing["events_ms"]
    assert len(events) == 4 and events == sorted(events) and events[-1] - events[0] >= 0.3 * 1000  # three gaps of 0.15 s
    assert body_bytes(stream.response["body"]).endswith(b"data: [DONE]\n\n")


def test_task_polls_are_recorded_with_the_states_they_saw(upstream, tmp_path) -> None:
    with proxy_to(upstream.url, record=tmp_path) as (_, url), httpx.Client(base_url=url, headers={"mj-api-secret": "sk-mj"}) as client:
        task_id = client.post("/mj/submit/imagine", json={"prompt": "a lighthouse"}).json()["result"]
        statuses: list[str] = []
        while not statuses or statuses[-1] != "SUCCESS":  # the stand-in's step clock: one state per poll
            statuses.append(client.get(f"/mj/task/{task_id}/fetch").json()["status"])
    submit, *polls = load(tmp_path)
    assert submit.task == {"id": task_id, "role": "submit", "lifecycle": "midjourney"}
    assert [p.task["status"] for p in polls] == statuses and {p.task["id"] for p in polls} == {task_id}
    assert statuses[:3] == ["NOT_START", "QUEUED", "IN_PROGRESS"] and len(statuses) > 4


def test_recording_continues_the_numbering_of_a_directory(upstream, tmp_path) -> None:
    for _ in range(2):
        with proxy_to(upstream.url, record=tmp_path) as (_, url):
            httpx.get(url + "/v1/models", headers={"Authorization": "Bearer sk-b"})
    assert [c.name for c in load(tmp_path)] == ["0001-openai.models.list.json", "0002-openai.models.list.json"]


def test_a_websocket_session_is_recorded_frame_by_frame(upstream, tmp_path) -> None:
    async def session(url: str) -> None:
        async with websockets.connect(url + "/v1/realtime?model=gpt-4o-realtime-preview", additional_headers={"Authorization": "Bearer sk-ws"}) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            while json.loads(await ws.recv())["type"] != "input_audio_buffer.cleared":
                pass

    with proxy_to(upstream.url, record=tmp_path) as (_, url):
        asyncio.run(session(url.replace("http://", "ws://")))
    (cassette,) = load(tmp_path)
    frames = cassette.frames
    assert cassette.contract == "openai.realtime.session" and cassette.status == 101
    assert frames[0]["from"] == "server" and frames[0]["json"]["type"] == "session.created"
    assert [f["json"] for f in frames if f["from"] == "client"] == [{"type": "input_audio_buffer.clear"}]
    assert [f["at_ms"] for f in frames] == sorted(f["at_ms"] for f in frames)
    assert cassette.data["verdict"] == {"conforms": True, "violations": []}
