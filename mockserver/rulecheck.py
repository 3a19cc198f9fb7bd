"""Before a rule is used: which contracts can it answer, and do its canned replies fit them?

A rule reaches the contracts its globs name that can give every one of its replies: an assistant
turn only where the handler renders turns (chat, Responses, Claude, Gemini ...), an embedding only
where it renders embeddings, a task outcome only on task submits (with media URLs, where the family
hands them out), conversation conditions only where requests are read as conversations. A body is
judged against each reached contract's response schema, an example must exist in each. A rule that
reaches nothing is refused; one whose replies break a contract is refused in strict mode and kept,
with notes, otherwise.
"""

from __future__ import annotations

import fnmatch

from . import conversation, taskflow
from .canned import Canned
from .contracts import Contract, ContractRegistry
from .examples import find_example
from .parsing import MAX_JSON_DEPTH, too_deep
from .responses import ResponseJudge
from .steering import Rule, ScenarioError

TASK_SUBMIT = "task-submit"
_SHOWN = 6  # contract ids named in a message before "…"


def prepare(rule: Rule, registry: ContractRegistry, strict: bool) -> Rule:
    """Work out ``rule.contracts`` and judge the replies; raise ScenarioError when it cannot stand."""
    if rule.side_effect is not None:
        return rule  # Python decides per call; nothing to judge in advance
    named = [c for c in registry if any(fnmatch.fnmatchcase(c.id, glob) for glob in rule.globs)]
    if not named:
        raise ScenarioError(f"contract {_globs(rule)} names no contract (see GET /__mock/contracts)")
    reached, why_not = _reach(rule, named)
    if not reached:
        raise ScenarioError(f"the rule reaches no contract: {why_not}")
    problems = [p for index, reply in enumerate(rule.replies) for p in _judge(reply, reached, registry, _label(rule, index))]
    if problems and strict:
        raise ScenarioError("its replies break their contracts (strict mode): " + "; ".join(problems))
    rule.contracts = frozenset(c.id for c in reached)
    rule.notes = tuple(problems)
    return rule


def _reach(rule: Rule, named: list[Contract]) -> tuple[list[Contract], str]:
    """The named contracts that can give every reply, and, when none can, why."""
    kept = named
    needs = set().union(*(reply.rendered for reply in rule.replies))
    if needs:
        kept = [c for c in kept if needs <= conversation.renders(c.id)]
        if not kept:
            givers = [c.id for c in named if needs <= conversation.renders(c.id)] or ["none of them"]
            return [], f"{_globs(rule)} cannot answer {', '.join(sorted(needs))} (contracts that can: {_ids(givers)})"
    tasks = [reply.task for reply in rule.replies if reply.task is not None]
    if tasks:
        kept = [c for c in kept if c.kind == TASK_SUBMIT]
        if not kept:
            return [], f"a task outcome needs a task submit, and {_globs(rule)} names none"
        if any(task.urls for task in tasks):
            kept = [c for c in kept if taskflow.delivers_urls(c.family)]
            if not kept:
                return [], f"{_globs(rule)}: these families take no media URLs for their tasks (those that do: {', '.join(sorted(taskflow.url_families()))})"
    if rule.match is not None and (rule.match.needs_conversation or rule.match.needs_input):
        read = [c for c in kept if conversation.reads_request(c.id)]
        if not read:
            return [], f"{_globs(rule)}: no request of these contracts is read as a conversation or an input text"
        kept = read
    return kept, ""


def _judge(reply: Canned, reached: list[Contract], registry: ContractRegistry, label: str) -> list[str]:
    problems = []
    if too_deep(reply.body):
        problems.append(f"{label}: body nests deeper than {MAX_JSON_DEPTH} levels")
    elif reply.body is not None:
        status = reply.status or 200
        for contract in reached:
            found = ResponseJudge(contract, registry).body_violations(status, "application/json", reply.body)
            problems += [f"{label} on {contract.id}: {v}" for v in found[:3]]
    if reply.example is not None:
        missing = [c.id for c in reached if find_example(c, reply.example) is None]
        if missing:
            problems.append(f"{label}: no documented example {reply.example!r} in {_ids(missing)}")
    return problems


def _label(rule: Rule, index: int) -> str:
    return "reply" if len(rule.replies) == 1 else f"replies[{index}]"


def _globs(rule: Rule) -> str:
    return " or ".join(repr(g) for g in rule.globs)


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:_SHOWN]) + (", …" if len(ids) > _SHOWN else "")
