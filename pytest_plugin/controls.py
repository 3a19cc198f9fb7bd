"""How the fixtures reach a mock's state: directly in this process, or over the admin API.

``InProcess`` drives the in-memory store of an app running here (the ``gptnb`` fixture, and the live
server ``gptnb_server`` starts by default); ``OverHttp`` talks to any served mock, a team instance or a
container (``--gptnb-server-url``). Both act on one namespace and give the same answers.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from mockserver.journal import JournalEntry
from mockserver.quota import desk as quota_desk
from mockserver.quota.limits import Limit
from mockserver.state import MockState
from mockserver.steering import FILES, LAYER_NAMES, SHARED, Rule, rule_from_json, rule_to_json
from mockserver.store import run_sync
from mockserver.tasks import Step, Task, TaskView

ADMIN_TIMEOUT = 10.0
PAGE = 1000  # the admin API's largest page


class Controls(Protocol):
    namespace: str

    def add_rule(self, rule: Rule) -> Rule: ...
    def rules(self) -> list[Rule]: ...
    def replace_rules(self, rules: list[Rule]) -> None: ...
    def journal(self) -> list[JournalEntry]: ...
    def clear_journal(self) -> None: ...
    def tasks(self, family: str | None) -> list[TaskView]: ...
    def task(self, task_id: str) -> TaskView | None: ...
    def finish(self, task_id: str, failed: bool, reason: str | None) -> TaskView: ...
    def clock(self) -> dict[str, Any]: ...
    def change_clock(self, change: dict[str, Any]) -> None: ...
    def reset(self) -> None: ...
    def strict(self) -> bool: ...
    def set_balance(self, key: str, amount: int) -> None: ...
    def accounts(self) -> dict[str, dict[str, Any]]: ...
    def clear_quota(self) -> None: ...
    def add_limit(self, limit: Limit) -> None: ...
    def limit_counters(self) -> list[dict[str, Any]]: ...
    def clear_limits(self) -> None: ...


class InProcess:
    def __init__(self, state: MockState, namespace: str) -> None:
        self.state = state
        self.namespace = namespace

    def _space(self) -> Any:
        return run_sync(self.state.enter(self.namespace))

    def add_rule(self, rule: Rule) -> Rule:
        return run_sync(self.state.store.add_rule(self.namespace, rule))

    def rules(self) -> list[Rule]:
        return run_sync(self.state.store.rules(self.namespace))

    def replace_rules(self, rules: list[Rule]) -> None:
        run_sync(self.state.store.replace_rules(self.namespace, rules))

    def journal(self) -> list[JournalEntry]:
        return run_sync(self.state.store.journal(self.namespace))

    def clear_journal(self) -> None:
        run_sync(self.state.store.clear_journal(self.namespace))

    def tasks(self, family: str | None) -> list[TaskView]:
        space = self._space()
        return [space.tasks.view(t) for t in run_sync(space.tasks.tasks(family))]

    def task(self, task_id: str) -> TaskView | None:
        space = self._space()
        found = run_sync(space.tasks.get(task_id))
        return space.tasks.view(found) if found is not None else None

    def finish(self, task_id: str, failed: bool, reason: str | None) -> TaskView:
        space = self._space()
        found = run_sync(space.tasks.get(task_id))
        if found is None:
            raise KeyError(f"no task {task_id!r}")
        return run_sync(space.tasks.finish(found, failed=failed, reason=reason))

    def clock(self) -> dict[str, Any]:
        return self._space().clock.as_dict()  # type: ignore[no-any-return]

    def change_clock(self, change: dict[str, Any]) -> None:
        from mockserver.admin import change_clock

        run_sync(change_clock(self.state, self.namespace, change))

    def reset(self) -> None:
        run_sync(self.state.reset(self.namespace))

    def strict(self) -> bool:
        return self.state.settings.strict

    def set_balance(self, key: str, amount: int) -> None:
        run_sync(self.state.store.set_balance(self.namespace, key, amount))

    def accounts(self) -> dict[str, dict[str, Any]]:
        return run_sync(quota_desk.accounts(self._space()))

    def clear_quota(self) -> None:
        run_sync(self.state.store.clear_quota(self.namespace))

    def add_limit(self, limit: Limit) -> None:
        run_sync(self.state.store.add_limit(self.namespace, limit))

    def limit_counters(self) -> list[dict[str, Any]]:
        return run_sync(quota_desk.counters(self._space()))

    def clear_limits(self) -> None:
        run_sync(self.state.store.clear_limits(self.namespace))


class OverHttp:
    """The admin API of a served mock, in one namespace (the ``X-Mock-Namespace`` header)."""

    def __init__(self, base_url: str, namespace: str) -> None:
        self.namespace = namespace
        self.http = httpx.Client(base_url=base_url.rstrip("/") + "/__mock", headers={"X-Mock-Namespace": namespace}, timeout=ADMIN_TIMEOUT)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code == 404 and path.startswith("/tasks/"):
            return None
        if answer.status_code >= 400:
            raise RuntimeError(f"gptnb-mock admin API: {method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def add_rule(self, rule: Rule) -> Rule:
        if rule.side_effect is not None:
            raise TypeError("Python side effects (respond(text=/content=/headers=), mock(side_effect=)) need the in-process mock: drop --gptnb-server-url")
        sent = rule_to_json(rule)
        if rule.layer == FILES:
            sent["source"] = rule.source  # tried after the rules added at run time, as a file's
        return _listed_rule(self._call("POST", "/rules", json=sent))

    def rules(self) -> list[Rule]:
        return [_listed_rule(r) for r in self._call("GET", "/rules")["rules"]]

    def replace_rules(self, rules: list[Rule]) -> None:
        self._call("DELETE", "/rules")
        own = [rule for rule in rules if rule.layer != SHARED]
        for rule in sorted(own, key=lambda r: r.id):  # in the order first added, so they are tried as before
            self.add_rule(rule)

    def journal(self) -> list[JournalEntry]:
        calls: list[dict[str, Any]] = []
        after: int | None = 0
        while after is not None:  # pages of the admin API's largest size, oldest first
            page = self._call("GET", "/journal", params={"after": after, "limit": PAGE})
            calls += page["calls"]
            after = page["next"]
        return [JournalEntry.from_dict(c) for c in calls]

    def clear_journal(self) -> None:
        self._call("DELETE", "/journal")

    def tasks(self, family: str | None) -> list[TaskView]:
        found: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            page = self._call("GET", "/tasks", params={"offset": offset, "limit": PAGE, **({"family": family} if family else {})})
            found += page["tasks"]
            offset = page["next"]
        return [_view(t) for t in found]

    def task(self, task_id: str) -> TaskView | None:
        found = self._call("GET", f"/tasks/{task_id}")
        return _view(found) if found is not None else None

    def finish(self, task_id: str, failed: bool, reason: str | None) -> TaskView:
        found = self._call("POST", f"/tasks/{task_id}/{'fail' if failed else 'complete'}", json={"reason": reason} if reason else {})
        if found is None:
            raise KeyError(f"no task {task_id!r}")
        return _view(found)

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")  # type: ignore[no-any-return]

    def change_clock(self, change: dict[str, Any]) -> None:
        self._call("POST", "/clock", json=change)

    def reset(self) -> None:
        self._call("POST", "/reset")

    def strict(self) -> bool:
        return bool(self._call("GET", "/health")["strict"])

    def set_balance(self, key: str, amount: int) -> None:
        self._call("POST", "/quota", json={"key": key, "balance": amount})

    def accounts(self) -> dict[str, dict[str, Any]]:
        return self._call("GET", "/quota")["accounts"]  # type: ignore[no-any-return]

    def clear_quota(self) -> None:
        self._call("DELETE", "/quota")

    def add_limit(self, limit: Limit) -> None:
        self._call("POST", "/limits", json=limit.as_dict())

    def limit_counters(self) -> list[dict[str, Any]]:
        return self._call("GET", "/limits")["limits"]  # type: ignore[no-any-return]

    def clear_limits(self) -> None:
        self._call("DELETE", "/limits")

    def drop(self) -> None:
        self.http.delete(f"/namespaces/{self.namespace}")
        self.http.close()


def _listed_rule(listed: dict[str, Any]) -> Rule:
    """A rule as the admin API lists it."""
    own = {k: v for k, v in listed.items() if k not in ("id", "hits", "source", "layer", "notes", "python")}
    rule = rule_from_json(own, listed["source"])
    rule.id, rule.hits, rule.notes = listed["id"], listed["hits"], tuple(listed["notes"])
    rule.layer = next(layer for layer, name in LAYER_NAMES.items() if name == listed["layer"])
    return rule


def _view(summary: dict[str, Any]) -> TaskView:
    """A task as the admin API describes it, as the object the in-process controls return."""
    task = Task(
        id=summary["id"], family=summary["family"], kind=summary["kind"], params={},
        steps=tuple(Step(s["status"], s["at"], s["progress"], s.get("failed", False)) for s in summary["steps"]),
        created_at=summary["created_at"], parent_id=summary["parent_id"], callback_url=summary["callback_url"],
        fail_reason=summary["fail_reason"], polls=summary["polls"],
    )
    return TaskView(task, summary["index"], summary["entered_at"], summary["now"])
