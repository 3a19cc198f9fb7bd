"""ASGIBridge, Interceptor and LiveServer against a toy Starlette app (they must work with any ASGI app)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpcore
import httpcore2
import httpx
import httpx2
import openai
import pytest
from respx.mocks import Mocker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from pytest_plugin.bridge import ASGIBridge, Message, Receive, Scope, Send
from pytest_plugin.interception import Interceptor
from pytest_plugin.server import LiveServer

HOST = "goapi.gptnb.ai"
BASE = f"https://{HOST}"
# Long enough that a buffering implementation fails (the app gives up waiting) instead of hanging.
GATE_TIMEOUT = 10.0
CLIENTS = pytest.mark.parametrize("client_module", [httpx, httpx2], ids=["httpx", "httpx2"])


class Gate:
    """Lets the toy app wait for the test without blocking whichever loop the app runs on."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def open(self) -> None:
        self._event.set()

    async def wait(self) -> bool:
        return await asyncio.to_thread(self._event.wait, GATE_TIMEOUT)


class Toy:
    """What the toy app saw; shared by the test and the app."""

    def __init__(self) -> None:
        self.gate = Gate()
        self.seen: list[dict[str, Any]] = []
        self.stream_outcome: list[str] = []
        self.stream_ended = threading.Event()


def chat_chunk(content: str | None, finish_reason: str | None = None) -> bytes:
    delta = {} if content is None else {"role": "assistant", "content": content}
    chunk = {
        "id": "chatcmpl-toy",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def make_app(toy: Toy) -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        toy.seen.append(
            {
                "method": request.method,
                "path": request.scope["path"],
                "raw_path": request.scope["raw_path"],
                "query_string": request.scope["query_string"],
                "headers": dict(request.headers),
                "body": body,
                "client": request.scope["client"],
                "server": request.scope["server"],
                "scheme": request.scope["scheme"],
            }
        )
        return JSONResponse({"echo": json.loads(body or b"null")}, status_code=201, headers={"x-toy": "yes"})

    async def events(request: Request) -> Response:
        async def body() -> Any:
            yield b"event: first\ndata: 1\n\n"
            opened = await toy.gate.wait()
            yield b"event: second\ndata: " + (b"released" if opened else b"gate-timed-out") + b"\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    async def chat(request: Request) -> Response:
        payload = await request.json()
        toy.seen.append({"headers": dict(request.headers), "json": payload})
        if not payload.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-toy",
                    "object": "chat.completion",
                    "created": 1700000000,
                    "model": payload["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "Hello from toy"},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
                }
            )

        async def body() -> Any:
            yield chat_chunk("Hello")
            opened = await toy.gate.wait()
            yield chat_chunk(" world" if opened else " gate-timed-out")
            yield chat_chunk(None, finish_reason="stop")
            yield b"data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    async def broken(request: Request) -> Response:
        raise ValueError("toy bug")

    async def ticker(scope: Scope, receive: Receive, send: Send) -> None:
        """A raw ASGI app that streams until it is stopped from outside."""
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
                await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            toy.stream_outcome.append("cancelled")
            raise
        finally:
            toy.stream_ended.set()

    return Starlette(
        routes=[
            Route("/echo/{rest:path}", echo, methods=["GET", "POST"]),
            Route("/events", events),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/broken", broken),
            Mount("/ticker", app=ticker),
        ]
    )


@pytest.fixture
def toy() -> Iterator[Toy]:
    toy = Toy()
    yield toy
    toy.gate.open()  # frees a toy still waiting in a worker thread


@pytest.fixture
def bridge(toy: Toy) -> Iterator[ASGIBridge]:
    with ASGIBridge(make_app(toy)) as bridge:
        yield bridge


@pytest.fixture
def intercepted(bridge: ASGIBridge) -> Iterator[Interceptor]:
    with Interceptor(bridge, [HOST]) as interceptor:
        yield interceptor


@pytest.fixture
def live_toy() -> Toy:
    return Toy()


@pytest.fixture
def live(live_toy: Toy) -> Iterator[LiveServer]:
    with LiveServer(make_app(live_toy)) as server:
        yield server
    live_toy.gate.open()


def assert_echo(response: Any, toy: Toy) -> None:
    assert response.status_code == 201
    assert response.headers["x-toy"] == "yes"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"echo": {"prompt": "hi", "n": 1}}
    (seen,) = toy.seen
    assert seen["method"] == "POST"
    assert seen["path"] == "/echo/a b"
    assert seen["raw_path"] == b"/echo/a%20b"
    assert seen["query_string"] == b"q=1&r=two"
    assert json.loads(seen["body"]) == {"prompt": "hi", "n": 1}
    assert seen["headers"]["host"] == HOST
    assert seen["headers"]["authorization"] == "Bearer sk-test"
    assert seen["headers"]["x-custom"] == "Value"
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["scheme"] == "https"
    assert tuple(seen["server"]) == (HOST, 443)
    assert tuple(seen["client"]) == ("127.0.0.1", 50000)


ECHO_KWARGS: dict[str, Any] = {
    "params": {"q": "1", "r": "two"},
    "json": {"prompt": "hi", "n": 1},
    "headers": {"Authorization": "Bearer sk-test", "X-Custom": "Value"},
}


# --- JSON through every client -------------------------------------------------------------------


@CLIENTS
def test_json_round_trip_sync(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    with client_module.Client() as client:
        response = client.post(f"{BASE}/echo/a%20b", **ECHO_KWARGS)
    assert isinstance(response, client_module.Response)
    assert_echo(response, toy)


@CLIENTS
@pytest.mark.anyio
async def test_json_round_trip_async(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    async with client_module.AsyncClient() as client:
        response = await client.post(f"{BASE}/echo/a%20b", **ECHO_KWARGS)
    assert isinstance(response, client_module.Response)
    assert_echo(response, toy)


# --- streaming: event 1 must arrive while the app is still waiting to produce event 2 ------------


@CLIENTS
def test_sse_streams_sync(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    with client_module.Client() as client, client.stream("GET", f"{BASE}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert [next(lines), next(lines)] == ["event: first", "data: 1"]
        toy.gate.open()  # only now can the app produce event 2
        assert [line for line in lines if line] == ["event: second", "data: released"]


@CLIENTS
@pytest.mark.anyio
async def test_sse_streams_async(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    async with client_module.AsyncClient() as client, client.stream("GET", f"{BASE}/events") as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert [await anext(lines), await anext(lines)] == ["event: first", "data: 1"]
        toy.gate.open()
        assert [line async for line in lines if line] == ["event: second", "data: released"]


# --- the official openai SDK (httpx2 underneath) -------------------------------------------------

CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def test_openai_sync(toy: Toy, intercepted: Interceptor) -> None:
    client = openai.OpenAI(base_url=f"{BASE}/v1", api_key="sk-test", max_retries=0)
    completion = client.chat.completions.create(**CHAT)
    assert completion.choices[0].message.content == "Hello from toy"
    assert completion.usage is not None and completion.usage.total_tokens == 6

    stream = client.chat.completions.create(**CHAT, stream=True)
    first = next(iter(stream))
    assert first.choices[0].delta.content == "Hello"
    toy.gate.open()
    rest = [chunk.choices[0].delta.content for chunk in stream]
    assert rest == [" world", None]

    assert [seen["json"].get("stream", False) for seen in toy.seen] == [False, True]
    assert all(seen["headers"]["authorization"] == "Bearer sk-test" for seen in toy.seen)
    assert toy.seen[0]["json"]["messages"] == CHAT["messages"]
    client.close()


@pytest.mark.anyio
async def test_openai_async(toy: Toy, intercepted: Interceptor) -> None:
    async with openai.AsyncOpenAI(base_url=f"{BASE}/v1", api_key="sk-test", max_retries=0) as client:
        completion = await client.chat.completions.create(**CHAT)
        assert completion.choices[0].message.content == "Hello from toy"

        stream = await client.chat.completions.create(**CHAT, stream=True)
        chunks = stream.__aiter__()
        assert (await anext(chunks)).choices[0].delta.content == "Hello"
        toy.gate.open()
        assert [chunk.choices[0].delta.content async for chunk in chunks] == [" world", None]
    assert toy.seen[1]["json"]["stream"] is True
    assert toy.seen[1]["headers"]["authorization"] == "Bearer sk-test"


# --- what is not intercepted goes over the network ----------------------------------------------


@CLIENTS
def test_other_hosts_pass_through_sync(
    client_module: Any, toy: Toy, live_toy: Toy, live: LiveServer, intercepted: Interceptor
) -> None:
    with client_module.Client() as client:
        response = client.post(f"{live.url}/echo/x", json={"prompt": "hi", "n": 1})
    assert response.status_code == 201
    assert toy.seen == []  # the bridge never saw it
    (seen,) = live_toy.seen
    assert seen["client"][1] != 50000  # a real socket peer, not the bridge's made-up client
    assert tuple(seen["server"]) == ("127.0.0.1", live.port)


@CLIENTS
@pytest.mark.anyio
async def test_other_hosts_pass_through_async(
    client_module: Any, toy: Toy, live_toy: Toy, live: LiveServer, intercepted: Interceptor
) -> None:
    async with client_module.AsyncClient() as client:
        response = await client.get(f"{live.url}/echo/x")
    assert response.status_code == 201
    assert toy.seen == []
    assert len(live_toy.seen) == 1 and live_toy.seen[0]["client"][1] != 50000


def test_host_matching_with_and_without_port(
    toy: Toy, bridge: ASGIBridge, live: LiveServer, live_toy: Toy
) -> None:
    hosts = [HOST, "api.example.test:8443", "127.0.0.1:1"]
    with Interceptor(bridge, hosts), httpx.Client() as client:
        assert client.get(f"https://{HOST}:443/echo/1").status_code == 201  # explicit default port
        assert client.get(f"https://{HOST}:9999/echo/2").status_code == 201  # any port for a bare host
        assert client.get("https://api.example.test:8443/echo/3").status_code == 201
        assert client.get("http://127.0.0.1:1/echo/4").status_code == 201
        assert client.get(f"{live.url}/echo/5").status_code == 201  # same IP, other port: network
    assert [seen["path"] for seen in toy.seen] == ["/echo/1", "/echo/2", "/echo/3", "/echo/4"]
    assert [seen["path"] for seen in live_toy.seen] == ["/echo/5"]


def patched() -> list[bool]:
    return [bool(Mocker.registry[name]._patches) for name in ("httpcore", "httpcore2")]


def test_interceptors_nest_and_do_not_leak_patches(live: LiveServer, live_toy: Toy) -> None:
    outer_toy, inner_toy = Toy(), Toy()
    original = (httpcore.ConnectionPool.handle_request, httpcore2.AsyncConnectionPool.handle_async_request)
    assert patched() == [False, False]
    with ASGIBridge(make_app(outer_toy)) as outer_bridge, ASGIBridge(make_app(inner_toy)) as inner_bridge:
        with Interceptor(outer_bridge, [HOST]), httpx2.Client() as client:
            assert patched() == [True, True]
            with Interceptor(inner_bridge, [f"127.0.0.1:{live.port}"]):
                # The outer catch-all must not swallow what the inner interceptor claims.
                assert client.get(f"{live.url}/echo/inner").status_code == 201
                assert client.get(f"{BASE}/echo/outer").status_code == 201
            assert patched() == [True, True]  # the outer one is still active
            assert client.get(f"{live.url}/echo/network").status_code == 201
        assert patched() == [False, False]
    assert (httpcore.ConnectionPool.handle_request, httpcore2.AsyncConnectionPool.handle_async_request) == original
    assert [seen["path"] for seen in inner_toy.seen] == ["/echo/inner"]
    assert [seen["path"] for seen in outer_toy.seen] == ["/echo/outer"]
    assert [seen["path"] for seen in live_toy.seen] == ["/echo/network"]


# --- early close, errors, disconnect -------------------------------------------------------------


@CLIENTS
def test_early_close_cancels_app_sync(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    with client_module.Client() as client, client.stream("GET", f"{BASE}/ticker/") as response:
        assert next(response.iter_lines()) == "tick"
    # close() waited for the app task: by now it has been cancelled and has run its cleanup.
    assert toy.stream_ended.is_set()
    assert toy.stream_outcome == ["cancelled"]


@CLIENTS
@pytest.mark.anyio
async def test_early_close_cancels_app_async(client_module: Any, toy: Toy, intercepted: Interceptor) -> None:
    async with client_module.AsyncClient() as client, client.stream("GET", f"{BASE}/ticker/") as response:
        assert await anext(response.aiter_lines()) == "tick"
    assert toy.stream_ended.is_set()
    assert toy.stream_outcome == ["cancelled"]


def test_early_close_of_waiting_sse_does_not_hang(toy: Toy, intercepted: Interceptor) -> None:
    with httpx2.Client() as client, client.stream("GET", f"{BASE}/events") as response:
        assert next(response.iter_lines()) == "event: first"
    # Reaching this line without opening the gate is the point.


@CLIENTS
def test_app_exception_reaches_the_caller(client_module: Any, intercepted: Interceptor) -> None:
    # Starlette answers 500 and then re-raises; the bridge hands that exception to the caller.
    with client_module.Client() as client, pytest.raises(ValueError, match="toy bug"):
        client.get(f"{BASE}/broken")


def request(path: str = "/", method: str = "GET", content: bytes | None = None) -> httpx.Request:
    return httpx.Request(method, f"{BASE}{path}", content=content)


async def fails_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    raise KeyError("before start")


async def fails_mid_stream(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"part one", "more_body": True})
    raise RuntimeError("mid stream")


def test_bridge_errors_sync() -> None:
    with ASGIBridge(fails_before_start) as bridge, pytest.raises(KeyError, match="before start"):
        bridge.handle_sync(request())
    with ASGIBridge(fails_mid_stream) as bridge:
        response = bridge.handle_sync(request())
        assert response.status_code == 200
        chunks = response.iter_bytes()
        assert next(chunks) == b"part one"
        with pytest.raises(RuntimeError, match="mid stream"):
            next(chunks)
        response.close()


@pytest.mark.anyio
async def test_bridge_errors_async() -> None:
    with pytest.raises(KeyError, match="before start"):
        await ASGIBridge(fails_before_start).handle_async(request())
    response = await ASGIBridge(fails_mid_stream).handle_async(request())
    chunks = response.aiter_bytes()
    assert await anext(chunks) == b"part one"
    with pytest.raises(RuntimeError, match="mid stream"):
        await anext(chunks)
    await response.aclose()


@pytest.mark.anyio
async def test_caller_giving_up_before_the_start_cancels_the_app() -> None:
    outcome: list[str] = []

    async def never_starts(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(GATE_TIMEOUT)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ASGIBridge(never_starts).handle_async(request()), 0.05)
    assert outcome == ["cancelled"]


def scope_recorder(record: list[Any]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        record.append(dict(scope))
        record.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"X-Raw", b"1")]})
        await send({"type": "http.response.body", "body": b"done"})
        record.append(await receive())  # the response is finished: this must not block

    return app


def test_bridge_scope_and_messages_sync() -> None:
    record: list[Message] = []
    with ASGIBridge(scope_recorder(record)) as bridge:
        req = httpx.Request("PUT", "http://Example.test:8080/a%2Fb/c d?x=%20y", content=b"payload")
        response = bridge.handle_sync(req)
        assert response.read() == b"done"
        response.close()
    scope, first, last = record
    assert response.headers["x-raw"] == "1"
    assert scope["type"] == "http" and scope["asgi"] == {"version": "3.0"} and scope["http_version"] == "1.1"
    assert (scope["method"], scope["scheme"], scope["root_path"]) == ("PUT", "http", "")
    assert (scope["path"], scope["raw_path"]) == ("/a/b/c d", b"/a%2Fb/c%20d")
    assert scope["query_string"] == b"x=%20y"
    assert (b"host", b"example.test:8080") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["server"] == ("example.test", 8080) and scope["client"] == ("127.0.0.1", 50000)
    assert first == {"type": "http.request", "body": b"payload", "more_body": False}
    assert last == {"type": "http.disconnect"}


@pytest.mark.anyio
async def test_bridge_scope_and_messages_async() -> None:
    record: list[Message] = []
    response = await ASGIBridge(scope_recorder(record)).handle_async(request("/p", "POST", b"xyz"))
    assert await response.aread() == b"done"
    await response.aclose()
    scope, first, last = record
    assert scope["server"] == (HOST, 443) and scope["path"] == "/p"
    assert first["body"] == b"xyz" and last == {"type": "http.disconnect"}


def test_sync_bridge_reuses_one_loop_thread_and_close_stops_it(toy: Toy) -> None:
    bridge = ASGIBridge(make_app(toy))
    for _ in range(3):
        bridge.handle_sync(request("/echo/x")).close()
    workers = [thread for thread in threading.enumerate() if thread.name == "asgi-bridge"]
    assert len(workers) == 1 and workers[0].daemon
    bridge.close()
    assert not workers[0].is_alive()


# --- LiveServer -------------------------------------------------------------------------------


def test_live_server_serves_over_a_socket_and_stops(live_toy: Toy) -> None:
    server = LiveServer(make_app(live_toy))
    server.start()
    url = server.url
    assert url == f"http://127.0.0.1:{server.port}" and server.port > 0
    response = httpx.post(f"{url}/echo/x", json={"prompt": "hi", "n": 1})
    assert response.status_code == 201 and response.json() == {"echo": {"prompt": "hi", "n": 1}}
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/echo/x")


def test_two_live_servers_get_different_ports() -> None:
    with LiveServer(make_app(Toy())) as first, LiveServer(make_app(Toy())) as second:
        assert first.port != second.port
        assert httpx.get(f"{first.url}/echo/1").status_code == 201
        assert httpx.get(f"{second.url}/echo/2").status_code == 201


def test_live_server_reports_a_failed_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"failed to start on 127.0.0.1:{port}"):
            LiveServer(make_app(Toy()), port=port, log_level="critical").start()
