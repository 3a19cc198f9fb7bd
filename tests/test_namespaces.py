"""Namespaces: a header, a path prefix or an API key keeps tasks, rules, journal and clock apart; the
admin API lists, inspects and drops them; ``gptnb_server`` gives every test its own, also on a mock
served elsewhere (``--gptnb-server-url``)."""

from __future__ import annotations

import httpx
import pytest

from mockserver.app import MockApp
from mockserver.config import Settings
from mockserver.namespaces import of_key
from processes import running_server
from pytest_plugin.bridge import ASGIBridge

BASE = "https://goapi.gptnb.ai"
AUTH = {"Authorization": "Bearer sk-ns"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def client_for(settings: Settings = Settings(strict=True)) -> httpx.Client:
    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(ASGIBridge(MockApp(settings)).handle_sync), headers=AUTH)


def calls(http: httpx.Client, **headers: str) -> list[str]:
    return [c["path"] for c in http.get("/__mock/journal", headers=headers).json()["calls"]]


def test_a_header_keeps_calls_rules_tasks_and_clock_apart() -> None:
    http = client_for()
    team = {"X-Mock-Namespace": "team-a"}
    http.post("/__mock/rules", json={"contract": "openai.chat.completions", "status": 503}, headers=team)
    http.post("/__mock/clock", json={"mode": "manual"}, headers=team)
    assert http.post("/v1/chat/completions", json=CHAT, headers=team).status_code == 503
    assert http.post("/v1/chat/completions", json=CHAT).status_code == 200  # the default namespace has no rule
    task_id = http.post("/mj/submit/imagine", json={"prompt": "a cat"}, headers=team).json()["result"]
    assert http.get(f"/mj/task/{task_id}/fetch", headers=team).status_code == 200
    assert http.get(f"/mj/task/{task_id}/fetch").status_code == 400  # not a task of the default namespace
    assert calls(http, **team) == ["/v1/chat/completions", "/mj/submit/imagine", f"/mj/task/{task_id}/fetch"]
    assert calls(http) == ["/v1/chat/completions", f"/mj/task/{task_id}/fetch"]
    assert http.get("/__mock/clock", headers=team).json()["mode"] == "manual" and http.get("/__mock/clock").json()["mode"] == "real"


def test_a_path_prefix_names_the_namespace_and_the_links_the_mock_hands_out_keep_it() -> None:
    http = client_for(Settings(strict=True, clock="step"))
    prefix = "/__mock/ns/links"
    task_id = http.post(prefix + "/mj/submit/imagine", json={"prompt": "a cat"}).json()["result"]
    while (task := http.get(f"{prefix}/mj/task/{task_id}/fetch").json())["status"] != "SUCCESS":
        pass
    assert task["imageUrl"].startswith(f"{BASE}{prefix}/mj/image/{task_id}")
    assert http.get(task["imageUrl"]).headers["content-type"] == "image/png"  # found in its namespace
    header_made = http.post("/mj/submit/imagine", json={"prompt": "a dog"}, headers={"X-Mock-Namespace": "links"}).json()["result"]
    assert http.get(f"{prefix}/mj/task/{header_made}/fetch").status_code == 200  # header and prefix: one namespace
    assert calls(http, **{"X-Mock-Namespace": "links"})[0] == "/mj/submit/imagine"
    assert http.get(prefix + "/__mock/journal").json()["total"] == len(calls(http, **{"X-Mock-Namespace": "links"}))


def test_per_key_namespaces_keep_keys_apart_without_headers() -> None:
    http = client_for(Settings(strict=True, namespace_per_key=True))
    for key in ("sk-one", "sk-two", "sk-two"):
        http.post("/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {key}"})
    names = {n["name"]: n for n in http.get("/__mock/namespaces").json()["namespaces"]}
    assert names[of_key("sk-one")]["journal"] == 1 and names[of_key("sk-two")]["journal"] == 2
    assert not any("sk-" in name for name in names)  # keys never show
    explicit = {"Authorization": "Bearer sk-one", "X-Mock-Namespace": "chosen"}
    http.post("/v1/chat/completions", json=CHAT, headers=explicit)
    assert calls(http, **{"X-Mock-Namespace": "chosen"}) == ["/v1/chat/completions"]


def test_a_malformed_namespace_is_refused_in_the_family_shape_or_the_admin_shape() -> None:
    http = client_for()
    refused = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Namespace": "no spaces/or slashes"})
    assert refused.status_code == 400 and "invalid namespace" in refused.json()["error"]["message"]
    prefixed = http.get("/__mock/ns/%20bad/v1/models")
    assert prefixed.status_code == 400 and prefixed.json()["error"]["type"] == "mock_admin_error"
    admin = http.get("/__mock/journal", headers={"X-Mock-Namespace": "../etc"})
    assert admin.status_code == 400 and admin.json()["error"]["type"] == "mock_admin_error"


def test_admin_lists_inspects_and_drops_namespaces() -> None:
    http = client_for()
    for name in ("one", "two"):
        http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Namespace": name})
    http.post("/__mock/rules", json={"status": 500}, headers={"X-Mock-Namespace": "two"})
    listed = http.get("/__mock/namespaces").json()["namespaces"]
    assert [n["name"] for n in listed] == ["two", "one"]  # most recently used first
    two = http.get("/__mock/namespaces/two").json()
    assert (two["journal"], two["rules"], two["tasks"], two["clock"]["mode"]) == (1, 1, 0, "real")
    assert http.delete("/__mock/namespaces/two").json() == {"dropped": "two"}
    assert http.get("/__mock/namespaces/two").status_code == 404 and http.delete("/__mock/namespaces/two").status_code == 404
    assert [n["name"] for n in http.get("/__mock/namespaces").json()["namespaces"]] == ["one"]
    assert calls(http, **{"X-Mock-Namespace": "two"}) == []


def test_reset_forgets_only_its_own_namespace() -> None:
    http = client_for()
    for name in ("kept", "reset"):
        http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Namespace": name})
    http.post("/__mock/reset", headers={"X-Mock-Namespace": "reset"})
    assert calls(http, **{"X-Mock-Namespace": "reset"}) == [] and calls(http, **{"X-Mock-Namespace": "kept"}) == ["/v1/chat/completions"]


PER_TEST = """
import requests

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_one(gptnb_server):
    gptnb_server.route("openai.chat.completions").fail(503)
    assert requests.post(gptnb_server.url + "/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer k"}).status_code == 503
    assert [c.contract_id for c in gptnb_server.calls] == ["openai.chat.completions"]


def test_two_sees_nothing_of_test_one(gptnb_server):
    assert gptnb_server.calls == []
    assert requests.post(gptnb_server.url + "/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer k"}).status_code == 200


@pytest.mark.gptnb(clock="step")
def test_clock_marker_applies_to_the_namespace(gptnb_server):
    base = gptnb_server.url
    task_id = requests.post(base + "/mj/submit/imagine", json={"prompt": "a cat"}, headers={"Authorization": "Bearer k"}).json()["result"]
    seen = [requests.get(f"{base}/mj/task/{task_id}/fetch", headers={"Authorization": "Bearer k"}).json()["status"] for _ in range(2)]
    assert seen == ["NOT_START", "SUBMITTED"] and gptnb_server.clock.mode == "step"
    assert gptnb_server.tasks.get(task_id).status == "IN_PROGRESS"
"""


@pytest.mark.parametrize("where", ["started here", "served elsewhere"])
def test_gptnb_server_gives_each_test_a_fresh_namespace(pytester: pytest.Pytester, tmp_path, where: str) -> None:
    pytester.makepyfile("import pytest\n" + PER_TEST)
    if where == "started here":
        pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
        return
    with running_server(tmp_path / "shared.log", "--strict") as url:
        pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--gptnb-server-url={url}", timeout=120).assert_outcomes(passed=3)
        assert httpx.get(url + "/__mock/namespaces").json()["namespaces"] == []  # each test dropped its own


def test_an_unreachable_server_url_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(gptnb_server):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--gptnb-server-url=http://127.0.0.1:9")
    assert "no gptnb-mock answers there" in result.stdout.str() + result.stderr.str()
