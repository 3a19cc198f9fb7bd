"""Workers and replicas on one Redis behave as one mock: real ``gptnb-mock serve`` processes, a real
``redis-server``. Each test works in a namespace of its own, so they share the servers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from callback_listener import CallbackListener
from processes import COMMAND, RedisServer, free_port, running_server

AUTH = {"Authorization": "Bearer sk-scale"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello workers"}]}
TIMEOUT = 30


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis-scale")) as server:
        yield server


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scale-logs")


@pytest.fixture(scope="module")
def replicas(redis: RedisServer, logs: Path) -> Iterator[tuple[str, str]]:
    """Two replicas on two ports, one Redis."""
    with running_server(logs / "a.log", "--store", redis.url) as a, running_server(logs / "b.log", "--store", redis.url) as b:
        yield a, b


@pytest.fixture(scope="module")
def workers(redis: RedisServer, logs: Path) -> Iterator[str]:
    """One port, two uvicorn workers, the same Redis."""
    with running_server(logs / "workers.log", "--store", redis.url, "--workers", "2") as url:
        yield url


def space(request: pytest.FixtureRequest) -> dict[str, str]:
    return {**AUTH, "X-Mock-Namespace": request.node.name.replace("[", "-").replace("]", "")[:90]}


def use_step_clock(url: str, headers: dict[str, str]) -> None:
    assert requests.post(url + "/__mock/clock", json={"mode": "step"}, headers=headers, timeout=TIMEOUT).status_code == 200


def imagine(url: str, headers: dict[str, str], **extra: Any) -> str:
    answer = requests.post(url + "/mj/submit/imagine", json={"prompt": "a lighthouse", **extra}, headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def fetch(url: str, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    answer = requests.get(f"{url}/mj/task/{task_id}/fetch", headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def planned_statuses(url: str, headers: dict[str, str], task_id: str) -> list[str]:
    task = requests.get(f"{url}/__mock/tasks/{task_id}", headers=headers, timeout=TIMEOUT).json()
    return [step["status"] for step in task["steps"]]


def journal(url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    return requests.get(url + "/__mock/journal", params={"limit": 1000}, headers=headers, timeout=TIMEOUT).json()["calls"]


def test_a_task_made_by_one_replica_moves_through_every_state_when_polled_through_another(replicas: tuple[str, str], request: pytest.FixtureRequest) -> None:
    a, b = replicas
    headers = space(request)
    use_step_clock(a, headers)
    task_id = imagine(a, headers)
    seen = [fetch(b, headers, task_id) for _ in planned_statuses(a, headers, task_id)]
    assert [task["status"] for task in seen] == ["NOT_START", "SUBMITTED", *["IN_PROGRESS"] * (len(seen) - 3), "SUCCESS"]
    assert [task["progress"] for task in seen][-1] == "100%"
    image = requests.get(seen[-1]["imageUrl"].replace(b, a), timeout=TIMEOUT)  # a link from B, downloaded from A
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_a_rule_with_times_fires_exactly_that_often_across_two_workers_under_concurrent_load(
    replicas: tuple[str, str], workers: str, request: pytest.FixtureRequest
) -> None:
    headers = space(request)
    rule = {"contract": "openai.chat.completions", "status": 429, "times": 5}
    assert requests.post(workers + "/__mock/rules", json=rule, headers=headers, timeout=TIMEOUT).status_code == 201
    targets = [workers] * 40 + [*replicas] * 10  # a fresh connection each: the workers take turns accepting them

    def call(url: str) -> int:
        return requests.post(url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=TIMEOUT).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(call, targets))
    assert statuses.count(429) == 5 and statuses.count(200) == len(targets) - 5
    assert requests.get(replicas[0] + "/__mock/rules", headers=headers, timeout=TIMEOUT).json()["rules"][0]["hits"] == 5
    assert len(journal(replicas[1], headers)) == len(targets)


def test_a_rule_or_clock_set_through_one_replica_holds_at_once_on_another_that_answered_before(
    replicas: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    a, b = replicas
    headers = space(request)

    def chat() -> requests.Response:
        return requests.post(a + "/v1/chat/completions", json=CHAT, headers=headers, timeout=TIMEOUT)

    assert chat().status_code == 200  # A has read the namespace: no rules
    requests.post(b + "/__mock/rules", json={"contract": "openai.chat.completions", "status": 503, "times": 1}, headers=headers, timeout=TIMEOUT)
    assert chat().status_code == 503
    assert chat().status_code == 200
    requests.post(b + "/__mock/clock", json={"mode": "manual"}, headers=headers, timeout=TIMEOUT)
    set_to = requests.post(b + "/__mock/clock", json={"set": 4_000_000_000}, headers=headers, timeout=TIMEOUT).json()["now"]
    assert chat().json()["created"] == int(set_to)
    assert [c["status"] for c in journal(b, headers)] == [200, 503, 200, 200]


def test_callbacks_are_delivered_once_per_state_change_in_order_whichever_worker_moves_the_task(
    replicas: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    a, b = replicas
    headers = space(request)
    use_step_clock(a, headers)
    with CallbackListener(lambda body: False) as listener:
        tasks = [imagine(a if i % 2 else b, headers, notifyHook=listener.url) for i in range(3)]
        plans = {task_id: planned_statuses(a, headers, task_id) for task_id in tasks}
        for turn in range(max(len(p) for p in plans.values())):
            for task_id in tasks:
                fetch((a, b)[turn % 2], headers, task_id)
        expected = sum(len(p) for p in plans.values())
        deadline = time.monotonic() + TIMEOUT
        while len(listener.received) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # a duplicate would arrive within this
    for task_id, plan in plans.items():
        received = [(body["status"], body["progress"]) for body in listener.received if body["id"] == task_id]
        assert [status for status, _ in received] == plan, task_id
        assert len(set(received)) == len(received), task_id
    attempts = [c for c in journal(b, headers) if c["kind"] == "callback"]
    assert len(attempts) == expected == len(listener.received)


def test_two_namespaces_running_the_same_flow_in_parallel_see_only_their_own_calls_and_tasks(
    replicas: tuple[str, str], request: pytest.FixtureRequest
) -> None:
    base = space(request)["X-Mock-Namespace"]
    spaces = [{**AUTH, "X-Mock-Namespace": f"{base}-{n}"} for n in (1, 2)]

    def flow(headers: dict[str, str]) -> str:
        for url in replicas:
            assert requests.post(url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=TIMEOUT).status_code == 200
        task_id = imagine(replicas[0], headers)
        fetch(replicas[1], headers, task_id)
        return task_id

    with ThreadPoolExecutor(2) as pool:
        made = list(pool.map(flow, spaces))
    for headers, task_id in zip(spaces, made):
        calls = journal(replicas[1], headers)
        assert [c["contract"] for c in calls] == ["openai.chat.completions"] * 2 + ["midjourney.submit.imagine", "midjourney.task.fetch"]
        listed = requests.get(replicas[0] + "/__mock/tasks", headers=headers, timeout=TIMEOUT).json()["tasks"]
        assert [t["id"] for t in listed] == [task_id]
    names = [n["name"] for n in requests.get(replicas[0] + "/__mock/namespaces", timeout=TIMEOUT).json()["namespaces"]]
    assert {h["X-Mock-Namespace"] for h in spaces} <= set(names)


def test_a_restart_keeps_tasks_rules_and_the_clock(redis: RedisServer, logs: Path, request: pytest.FixtureRequest) -> None:
    headers = space(request)
    port = free_port()
    with running_server(logs / "restart.log", "--store", redis.url, port=port) as url:
        assert requests.post(url + "/__mock/clock", json={"mode": "manual"}, headers=headers, timeout=TIMEOUT).status_code == 200
        requests.post(url + "/__mock/clock", json={"advance": 2.0}, headers=headers, timeout=TIMEOUT)
        task_id = imagine(url, headers)
        requests.post(url + "/__mock/rules", json={"contract": "openai.models.list", "status": 503}, headers=headers, timeout=TIMEOUT)
        before = (fetch(url, headers, task_id), requests.get(url + "/__mock/clock", headers=headers, timeout=TIMEOUT).json())
    with running_server(logs / "restart.log", "--store", redis.url, port=port) as url:
        after = fetch(url, headers, task_id)
        assert after["status"] == before[0]["status"] and after["submitTime"] == before[0]["submitTime"]
        assert requests.get(url + "/__mock/clock", headers=headers, timeout=TIMEOUT).json() == before[1]
        assert requests.get(url + "/v1/models", headers=headers, timeout=TIMEOUT).status_code == 503
        requests.post(url + "/__mock/clock", json={"advance": 60}, headers=headers, timeout=TIMEOUT)
        assert fetch(url, headers, task_id)["status"] == "SUCCESS"


def test_redis_killed_mid_run_gives_clear_errors_then_recovers(tmp_path: Path, logs: Path) -> None:
    own = RedisServer(tmp_path).start()
    try:
        with running_server(logs / "killed.log", "--store", own.url) as url:

            def chat() -> requests.Response:
                return requests.post(url + "/v1/chat/completions", json=CHAT, headers=AUTH, timeout=TIMEOUT)

            assert chat().status_code == 200
            task_id = imagine(url, AUTH)
            own.kill()
            refused = chat()
            assert refused.status_code == 503
            assert "state store" in refused.json()["error"]["message"] and own.url.split("//")[1] in refused.json()["error"]["message"]
            polled = requests.get(f"{url}/mj/task/{task_id}/fetch", headers=AUTH, timeout=TIMEOUT)
            assert polled.status_code >= 500 and "state store" in polled.text
            admin = requests.get(url + "/__mock/journal", timeout=TIMEOUT)
            assert admin.status_code == 503 and admin.json()["error"]["type"] == "mock_admin_error"
            assert requests.get(url + "/__mock/health", timeout=TIMEOUT).status_code == 200  # the process lives on
            own.start()
            assert chat().status_code == 200
            assert imagine(url, AUTH)  # scripts reloaded into the new Redis
            assert [c["status"] for c in journal(url, AUTH)][-2:] == [200, 200]
    finally:
        own.kill()


def test_an_unreachable_redis_at_start_is_a_clear_error_and_exit() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run([*COMMAND, "serve", "--port", str(free_port()), "--store", url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot reach the state store at {url}" in result.stderr


def test_several_workers_need_a_shared_store() -> None:
    result = subprocess.run([*COMMAND, "serve", "--port", str(free_port()), "--workers", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--store redis://" in result.stderr


def test_workers_share_tasks_whichever_accepts_the_connection(workers: str, request: pytest.FixtureRequest) -> None:
    headers = space(request)
    made = [imagine(workers, headers) for _ in range(6)]
    listed = requests.get(workers + "/__mock/tasks", headers=headers, timeout=TIMEOUT).json()["tasks"]
    assert sorted(t["id"] for t in listed) == sorted(made)
    assert all(fetch(workers, headers, task_id)["id"] == task_id for task_id in made for _ in range(3))


def chat_status(url: str, headers: dict[str, str]) -> int:
    return requests.post(url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=TIMEOUT).status_code


def test_quota_and_rate_limits_are_counted_together_by_replicas_and_workers(
    replicas: tuple[str, str], workers: str, request: pytest.FixtureRequest
) -> None:
    a, b = replicas
    headers = space(request)
    assert requests.post(a + "/__mock/limits", json={"key": "sk-scale", "rpm": 4}, headers=headers, timeout=TIMEOUT).status_code == 201
    assert requests.post(b + "/__mock/quota", json={"key": "sk-scale", "balance": 1_000_000}, headers=headers, timeout=TIMEOUT).status_code == 200
    targets = [workers] * 6 + [a, b] * 3
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda url: chat_status(url, headers), targets))
    assert statuses.count(200) == 4 and statuses.count(429) == len(targets) - 4
    account = requests.get(workers + "/__mock/quota", headers=headers, timeout=TIMEOUT).json()["accounts"]["sk-scale"]
    assert account["requests"] == 4 and account["used"] > 0 and account["balance"] == 1_000_000 - account["used"]
    (limit,) = requests.get(b + "/__mock/limits", headers=headers, timeout=TIMEOUT).json()["limits"]
    assert limit["requests"]["used"] == 4 and limit["requests"]["remaining"] == 0


def test_chaos_draws_are_numbered_per_namespace_whichever_replica_answers(
    replicas: tuple[str, str], workers: str, request: pytest.FixtureRequest
) -> None:
    a, b = replicas
    base = space(request)["X-Mock-Namespace"]
    rule = {"contract": "openai.chat.completions", "chaos": 0.5, "chaos_mix": ["code=500", "code=503", "code=429"]}

    def faults(namespace: str, urls: list[str]) -> list[str]:
        headers = {**AUTH, "X-Mock-Namespace": namespace}
        assert requests.post(urls[0] + "/__mock/rules", json=rule, headers=headers, timeout=TIMEOUT).status_code == 201
        for url in urls:
            chat_status(url, headers)
        return [call["fault"] for call in journal(a, headers)]

    alone = faults(f"{base}-alone", [a] * 12)
    spread = faults(f"{base}-spread", [a, b, workers] * 4)
    assert alone == spread and "chaos: none" in alone and len(set(alone)) > 2


def test_quota_and_limit_flags_hold_in_every_worker(redis: RedisServer, logs: Path, request: pytest.FixtureRequest) -> None:
    headers = space(request)
    flags = ("--store", redis.url, "--workers", "2", "--quota", "sk-scale=$1", "--limit", "key=sk-scale,rpm=3", "--chaos", "0", "--tps", "500")
    with running_server(logs / "flags.log", *flags) as url:
        statuses = [chat_status(url, headers) for _ in range(6)]  # a fresh connection each: both workers answer
        accounts = requests.get(url + "/__mock/quota", headers=headers, timeout=TIMEOUT).json()["accounts"]
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert accounts["sk-scale"]["requests"] == 3 and accounts["sk-scale"]["balance"] == 500_000 - accounts["sk-scale"]["used"]


def test_canned_replies_from_files_and_metrics_hold_across_workers(tmp_path: Path, logs: Path) -> None:
    """Rules from --fixtures live in the store, shared by every namespace, their ordered replies and
    sequences counted there; a scrape of either worker counts the requests both answered."""
    replies = tmp_path / "replies.yaml"
    replies.write_text(
        "- name: order status\n  match: {user_message: order}\n  replies: [{content: first}, {content: second}]\n"
        "- match: {user_message: poll, sequence_index: 1}\n  reply: {content: second poll}\n",
        encoding="utf-8",
    )
    own = RedisServer(tmp_path).start()  # its own: the files' rules would answer the other tests' chats
    try:
        with running_server(logs / "files.log", "--store", own.url, "--workers", "2", "--fixtures", str(replies)) as url:

            def say(text: str, namespace: str = "default") -> str:
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
                answer = requests.post(url + "/v1/chat/completions", json=body, headers={**AUTH, "X-Mock-Namespace": namespace}, timeout=TIMEOUT)
                return str(answer.json()["choices"][0]["message"]["content"])

            # A fresh connection each: the workers take turns, and each answer follows the one before.
            assert [say("my order") for _ in range(4)] == ["first", "second", "second", "second"]
            assert [say("poll").startswith("You said:"), say("poll"), say("poll").startswith("You said:")] == [True, "second poll", True]
            assert say("my order", "team-a") == "first"  # another namespace counts on its own
            listed = requests.get(url + "/__mock/rules", timeout=TIMEOUT).json()["rules"]
            assert [(r.get("name"), r["hits"], r["layer"]) for r in listed] == [("order status", 4, "shared"), (None, 1, "shared")]

            def scraped() -> dict[tuple[str, str], float]:
                text = requests.get(url + "/__mock/metrics", timeout=TIMEOUT).text
                found = {}
                for family in text_string_to_metric_families(text):
                    for sample in family.samples:
                        if sample.name == "gptnb_mock_requests_total" and sample.labels["contract"] == "openai.chat.completions":
                            found[("requests", sample.labels["namespace"])] = sample.value
                        if sample.name == "gptnb_mock_rule_hits_total":
                            found[("hits", sample.labels["rule"])] = sample.value
                return found

            deadline = time.monotonic() + TIMEOUT
            while scraped().get(("requests", "default")) != 7 and time.monotonic() < deadline:
                time.sleep(0.2)  # the other worker adds its counts within a second
            totals = scraped()
            assert (totals[("requests", "default")], totals[("requests", "team-a")], totals[("hits", "order status")]) == (7, 1, 5)
    finally:
        own.kill()
