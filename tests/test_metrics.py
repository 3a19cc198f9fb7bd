"""GET /__mock/metrics: Prometheus text a scraper reads, counting what the mock actually did."""

from __future__ import annotations

import time

import httpx
import openai
import pytest
from openai_helpers import AUTH, BASE, sdk
from prometheus_client.parser import text_string_to_metric_families

from callback_listener import CallbackListener
from test_serve import free_port


def scrape(url: str = BASE) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{url}/__mock/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(answer.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_by_contract_status_and_namespace_with_latency(gptnb) -> None:
    client = sdk(gptnb)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Mock-Namespace": "team-a"})
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    httpx.get(f"{BASE}/nowhere", headers=AUTH)
    samples = scrape()
    assert value(samples, "gptnb_mock_requests_total", contract="openai.chat.completions", status="200", namespace="default") == 1
    assert value(samples, "gptnb_mock_requests_total", contract="openai.chat.completions", status="200", namespace="team-a") == 1
    assert value(samples, "gptnb_mock_requests_total", contract="openai.chat.completions", status="400", namespace="default") == 1
    assert value(samples, "gptnb_mock_requests_total", contract="none", status="404", namespace="default") == 1
    assert value(samples, "gptnb_mock_request_seconds_count", contract="openai.chat.completions") == 3
    assert value(samples, "gptnb_mock_request_seconds_bucket", contract="openai.chat.completions", le="+Inf") == 3
    assert value(samples, "gptnb_mock_request_seconds_sum", contract="openai.chat.completions") > 0


def test_more_requests_than_are_noted_before_counting_are_all_counted(gptnb) -> None:
    """The request path notes answers and counts them in bulk (every FOLD_EVERY, and when scraped):
    across several bulk counts and a scrape, nothing is lost or counted twice."""
    from mockserver.metrics import FOLD_EVERY

    asked = FOLD_EVERY * 2 + 7
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        for i in range(asked):
            assert client.get("/v1/models" if i % 2 else "/nowhere").status_code in (200, 404)
    samples = scrape()
    listed, missed = asked // 2, (asked + 1) // 2  # odd i lists the models, even i asks for nothing
    assert value(samples, "gptnb_mock_requests_total", contract="openai.models.list", status="200", namespace="default") == listed
    assert value(samples, "gptnb_mock_requests_total", contract="none", status="404", namespace="default") == missed
    assert value(samples, "gptnb_mock_request_seconds_count", contract="openai.models.list") == listed
    assert value(samples, "gptnb_mock_request_seconds_bucket", contract="none", le="+Inf") == missed


def test_streams_and_their_events(gptnb) -> None:
    chunks = list(sdk(gptnb).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True))
    samples = scrape()
    assert value(samples, "gptnb_mock_streams_total", contract="openai.chat.completions") == 1
    assert value(samples, "gptnb_mock_stream_events_total", contract="openai.chat.completions") == len(chunks)


@pytest.mark.gptnb(clock="manual")
def test_tasks_by_family_and_state(gptnb) -> None:
    with httpx.Client(base_url=BASE, headers=AUTH) as client:
        ids = [client.post("/mj/submit/imagine", json={"prompt": f"a boat {i}"}).json()["result"] for i in range(3)]
    gptnb.tasks.complete(ids[0])
    gptnb.tasks.fail(ids[1])
    samples = scrape()
    assert value(samples, "gptnb_mock_tasks", family="midjourney", state="succeeded", status="SUCCESS") == 1
    assert value(samples, "gptnb_mock_tasks", family="midjourney", state="failed", status="FAILURE") == 1
    assert value(samples, "gptnb_mock_tasks", family="midjourney", state="running", status="NOT_START") == 1


def test_rule_hits_by_rule_and_source(gptnb) -> None:
    gptnb.add_rule({"name": "greeting", "match": {"user_message": "hello"}, "reply": {"content": "Hi!"}})
    client = sdk(gptnb)
    for text in ("hello", "hello again", "other"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    assert value(scrape(), "gptnb_mock_rule_hits_total", rule="greeting", source="fixture") == 2


def settled(gptnb) -> list:
    """The callback attempts once no more arrive (deliveries run on their own thread)."""
    seen = -1
    while len(gptnb.callbacks) != seen:
        seen = len(gptnb.callbacks)
        time.sleep(0.5)
    return gptnb.callbacks


@pytest.mark.gptnb(clock="step", callback_retries=0)
def test_callback_deliveries_and_failures(gptnb) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every attempt fails
    with CallbackListener(lambda body: body.get("status") == "SUCCESS") as listener, httpx.Client(base_url=BASE, headers=AUTH) as client:
        for hook in (listener.url, closed, "http://example.com/hook"):
            task_id = client.post("/mj/submit/imagine", json={"prompt": "a boat", "notifyHook": hook}).json()["result"]
            while client.get(f"/mj/task/{task_id}/fetch").json()["status"] != "SUCCESS":
                pass
        assert listener.arrived.wait(10)
        attempts = settled(gptnb)
    samples = scrape()
    delivered = [a for a in attempts if a.status == 200]
    failed = [a for a in attempts if a.status == 0 and not a.response.startswith("refused")]
    assert len(delivered) == len(listener.received) > 0 and failed
    assert value(samples, "gptnb_mock_callback_deliveries_total", outcome="delivered") == len(delivered)
    assert value(samples, "gptnb_mock_callback_deliveries_total", outcome="failed") == len(failed)
    assert value(samples, "gptnb_mock_callback_deliveries_total", outcome="refused") == 1


def test_a_live_server_serves_the_same_metrics(gptnb_server) -> None:
    sdk(gptnb_server).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert value(scrape(gptnb_server.url), "gptnb_mock_requests_total", contract="openai.chat.completions", status="200", namespace=gptnb_server.namespace) == 1


def test_a_scraper_asking_for_openmetrics_gets_it(gptnb) -> None:
    answer = httpx.get(f"{BASE}/__mock/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text") and answer.text.endswith("# EOF\n")
