"""The patch drift proposes: per case, the JSON Patch operations on the file the fix belongs in, each
carrying ``count`` (how often its case occurred) and ``finding`` (what it answers).

New members, values and types are added as they were seen; new error shapes and new event cases become
alternatives beside the old ones; a required member that was missing stops being required; a bound
moves to what was seen. Operations that replace a whole schema come after edits inside it.
"""

from __future__ import annotations

import copy
from typing import Any

from ..contracts import BASE_URI, ContractRegistry
from ..lifecycles import Lifecycle
from .drift import LIFECYCLES_FILE, REQUEST_MEDIA, Case, Drift
from .infer import infer_all
from .schema_walk import Loc, SchemaWalker, pointer_text


def proposal(drift: Drift) -> dict[str, list[dict[str, Any]]]:
    """File (relative to the contracts directory) -> JSON Patch operations, in applicable order."""
    return Patcher(drift.registry, drift.walker, drift.lifecycles).build(drift.found)


class Patcher:
    def __init__(self, registry: ContractRegistry, walker: SchemaWalker, lifecycles: dict[str, Lifecycle]) -> None:
        self.registry = registry
        self.walker = walker
        self.lifecycles = lifecycles
        self.operations: dict[str, list[dict[str, Any]]] = {}
        self._last: dict[str, list[dict[str, Any]]] = {}

    def build(self, cases: list[Case]) -> dict[str, list[dict[str, Any]]]:
        by_kind: dict[str, list[Case]] = {}
        for case in cases:
            by_kind.setdefault(case.kind, []).append(case)
        for kind, found in by_kind.items():
            method = getattr(self, "_" + kind, None)
            if method is not None:
                method(found)
        for file, late in self._last.items():  # replacements of whole schemas go after edits inside them
            self.operations.setdefault(file, []).extend(late)
        return {file: ops for file, ops in sorted(self.operations.items()) if ops}

    def _op(self, file: str, op: str, parts: tuple[str, ...], cases: list[Case], value: Any = None, last: bool = False) -> None:
        operation: dict[str, Any] = {"op": op, "path": pointer_text(parts)}
        if op != "remove":
            operation["value"] = value
        operation["count"] = sum(c.count for c in cases)
        operation["finding"] = "; ".join(dict.fromkeys(c.detail for c in cases))
        (self._last if last else self.operations).setdefault(file, []).append(operation)

    @staticmethod
    def _by_target(cases: list[Case]) -> dict[Loc, list[Case]]:
        grouped: dict[Loc, list[Case]] = {}
        for case in cases:
            if case.target is not None:
                grouped.setdefault(case.target, []).append(case)
        return grouped

    def _unknown_field(self, cases: list[Case]) -> None:
        # The walker reports unknown members only where a schema lists members: ``properties`` exists.
        for case in cases:
            if case.target is not None:
                schema = _described(infer_all(case.values or [None]), case.count)
                self._op(case.target.file, "add", case.target.pointer + ("properties", case.name), [case], schema)

    def _missing_required(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            missing = {c.name for c in found}
            kept = [name for name in self.walker.node(target)["required"] if name not in missing]
            self._op(target.file, "replace", target.pointer + ("required",), found, kept)

    def _enum_value(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            for case in found:
                self._op(target.file, "add", target.pointer + ("enum", "-"), [case], case.values[0] if case.values else None)

    def _const_value(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            node = self.walker.node(target)
            values = [node["const"], *(c.values[0] for c in found if c.values)]
            self._op(target.file, "remove", target.pointer + ("const",), found)
            self._op(target.file, "add", target.pointer + ("enum",), found, values)

    def _type_change(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            declared = self.walker.node(target)["type"]
            new = [c.extra["type"] for c in found if c.extra.get("type")]
            if isinstance(declared, str):
                self._op(target.file, "replace", target.pointer + ("type",), found, [declared, *dict.fromkeys(new)])
            else:
                for case in found:
                    self._op(target.file, "add", target.pointer + ("type", "-"), [case], case.extra["type"])

    def _bound(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            by_keyword: dict[str, list[Case]] = {}
            for case in found:
                by_keyword.setdefault(case.name, []).append(case)
            for keyword, group in by_keyword.items():
                sizes = [len(v) if isinstance(v, (str, list)) else v for c in group for v in c.values]
                if keyword in ("minimum", "minLength", "minItems") and sizes:
                    self._op(target.file, "replace", target.pointer + (keyword,), group, min(sizes))
                elif keyword in ("maximum", "maxLength", "maxItems") and sizes:
                    self._op(target.file, "replace", target.pointer + (keyword,), group, max(sizes))
                else:  # exclusive bounds, pattern, not: what was seen shows they do not hold
                    self._op(target.file, "remove", target.pointer + (keyword,), group)

    def _new_variant(self, cases: list[Case]) -> None:
        for case in cases:
            if case.target is None:
                continue
            discriminator = {case.name: {"const": _variant_value(case)}}
            seen = infer_all(case.values) if case.values else {"type": "object", "properties": {}}
            properties = {**seen.get("properties", {}), **discriminator}
            if case.target.pointer[-1] == "allOf":
                value = {"if": {"required": [case.name], "properties": discriminator}, "then": {"type": "object", "properties": properties}}
            else:
                value = {"type": "object", "required": [case.name], "properties": properties}
            self._op(case.target.file, "add", case.target.pointer + ("-",), [case], _described(value, case.count))

    def _new_status(self, cases: list[Case]) -> None:
        by_status: dict[tuple[str, str], list[Case]] = {}
        for case in cases:
            by_status.setdefault((self._file(case.contract), str(case.extra["status"])), []).append(case)
        for (file, status), found in by_status.items():
            content = {c.extra["media"] or "application/octet-stream": _media_entry(c) for c in found}
            response = {"description": f"Seen in recorded traffic ({sum(c.count for c in found)} times); not in the documentation.", "content": content}
            self._op(file, "add", ("responses", status), found, response)

    def _new_media(self, cases: list[Case]) -> None:
        for case in cases:
            self._op(self._file(case.contract), "add", ("responses", case.extra["key"], "content", case.extra["media"]), [case], _media_entry(case))

    def _new_error_shape(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            node = self.walker.node(target)
            shapes = []
            for case in found:
                shape = infer_all(case.values)
                if shape.get("type") == "object":
                    shape["required"] = sorted(set.intersection(*(set(v) for v in case.values if isinstance(v, dict))))
                shapes.append(_described(shape, case.count))
            if list(node) == ["anyOf"]:
                for case, shape in zip(found, shapes):
                    self._op(target.file, "add", target.pointer + ("anyOf", "-"), [case], shape, last=True)
            else:
                self._op(target.file, "replace", target.pointer, found, {"anyOf": [copy.deepcopy(node), *shapes]}, last=True)

    def _new_request_media(self, cases: list[Case]) -> None:
        for case in cases:
            if case.extra["media"] in REQUEST_MEDIA:  # the meta-schema knows no other request body types
                self._op(self._file(case.contract), "add", ("request", "content_types", "-"), [case], case.extra["media"])

    def _terminator_missing(self, cases: list[Case]) -> None:
        for target, found in self._by_target(cases).items():
            self._op(target.file, "remove", target.pointer, found)

    def _unknown_status_word(self, cases: list[Case]) -> None:
        for case in cases:
            lifecycle = self.lifecycles[case.target.pointer[0]]  # type: ignore[union-attr]
            after = case.extra.get("after")
            rank = lifecycle.rank(after) if after is not None else None
            word = case.values[0]
            # Beside the status it followed (so neither moves backwards), else as a first state of its own.
            if rank is None:
                self._op(LIFECYCLES_FILE, "add", (lifecycle.name, "order", "0"), [case], [word])
            else:
                self._op(LIFECYCLES_FILE, "add", (lifecycle.name, "order", str(rank), "-"), [case], word)

    def _file(self, contract_id: str) -> str:
        return self.registry[contract_id].uri[len(BASE_URI) :]


def _media_entry(case: Case) -> dict[str, Any]:
    media = case.extra["media"]
    values = [v for v in case.values if v is not None]
    if media == "text/event-stream":
        events = [e for v in values for e in v]
        return {"sse": {"event": infer_all(events) if events else {"type": "object"}}}
    if media.endswith("json"):
        return {"schema": infer_all(values) if values else {}}
    if media.startswith("text/"):
        return {"schema": {"type": "string"}}
    return {"binary": True}


def _described(schema: dict[str, Any], count: int) -> dict[str, Any]:
    return {"description": f"Seen in recorded traffic ({count} times); not in the documentation.", **schema}


def _variant_value(case: Case) -> Any:
    first = case.values[0] if case.values else None
    return first.get(case.name) if isinstance(first, dict) else first
