"""Midjourney's speed-mode prefixes: every route new-api registers under /mj is served under each of them.

new-api registers its Midjourney group twice, as ``/mj`` and as ``/:mode/mj`` (QuantumNous/new-api
router/relay-router.go setMJRouter + registerMjRouterGroup), so a client that puts ``/mj-fast`` or
``/mj-turbo-proxy`` in front of any route reaches the same handler. The contracts spell the prefixes
GPTNB's docs name as aliases; these tests hold every Midjourney contract to the same list and send each
route the relay registers under each prefix.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.contracts import default_registry

BASE = "https://goapi.gptnb.ai"
SPEEDS = ("fast", "relax", "turbo")
ROUTINGS = ("relay", "origin", "proxy")
MODES = (
    *(f"mj-{word}" for word in (*SPEEDS, *ROUTINGS)),
    *(f"mj-{speed}-{routing}" for speed in SPEEDS for routing in ROUTINGS),
)

# registerMjRouterGroup's routes (the commented-out /notify left aside), with the contract serving each.
RELAY_ROUTES = [
    ("GET", "/mj/image/1700000000000001", "midjourney.image.proxy"),
    ("POST", "/mj/submit/action", "midjourney.submit.action"),
    ("POST", "/mj/submit/shorten", "midjourney.submit.shorten"),
    ("POST", "/mj/submit/modal", "midjourney.submit.modal"),
    ("POST", "/mj/submit/imagine", "midjourney.submit.imagine"),
    ("POST", "/mj/submit/change", "midjourney.submit.change"),
    ("POST", "/mj/submit/simple-change", "midjourney.submit.simple_change"),
    ("POST", "/mj/submit/describe", "midjourney.submit.describe"),
    ("POST", "/mj/submit/blend", "midjourney.submit.blend"),
    ("POST", "/mj/submit/edits", "midjourney.submit.edits"),
    ("POST", "/mj/submit/video", "midjourney.submit.video"),
    ("POST", "/mj/submit/upload-discord-images", "midjourney.submit.upload_discord_images"),
    ("GET", "/mj/task/1700000000000001/fetch", "midjourney.task.fetch"),
    ("GET", "/mj/task/1700000000000001/image-seed", "midjourney.task.image_seed"),
    ("POST", "/mj/task/list-by-condition", "midjourney.task.list_by_condition"),
    ("POST", "/mj/insight-face/swap", "midjourney.insight_face.swap"),
]


@pytest.mark.parametrize("contract", [c for c in default_registry() if c.family == "midjourney"], ids=lambda c: c.id)
def test_every_midjourney_path_is_declared_under_every_mode(contract: Any) -> None:
    plain = [path for path in contract.paths if path.startswith("/mj/")]
    assert plain, "a Midjourney contract has a /mj/ path"
    for path in plain:
        missing = [mode for mode in MODES if f"/{mode}{path}" not in contract.paths]
        assert not missing, f"{path} lacks the speed-mode prefixes {missing}"


def test_every_route_the_relay_registers_has_its_contract() -> None:
    registry = default_registry()
    for method, _, contract_id in RELAY_ROUTES:
        assert registry[contract_id].method == method


@pytest.mark.parametrize(("method", "path", "contract_id"), RELAY_ROUTES, ids=[route[1] for route in RELAY_ROUTES])
def test_each_relay_route_answers_under_each_mode(gptnb: Any, method: str, path: str, contract_id: str) -> None:
    with httpx.Client(base_url=BASE, headers={"Authorization": "Bearer sk-test"}) as client:
        for mode in MODES:
            answer = client.request(method, f"/{mode}{path}", json={} if method == "POST" else None)
            # Whatever the route makes of an empty body or an unknown id, its contract answered it.
            served = gptnb.calls.last
            assert (served.path, served.contract_id) == (f"/{mode}{path}", contract_id), (mode, answer.status_code, answer.text)
