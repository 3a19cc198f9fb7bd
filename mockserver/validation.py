"""Compiled JSON-Schema checks and the violations they report.

Validation runs on every request (and, in strict mode, every response), so schemas are compiled once
with jsonschema-rs and the common case — a valid instance — costs one ``is_valid`` call. Only an
invalid instance pays for collecting readable violations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

# A handful of violations tells a user what to fix; thousands (a huge wrong array) would not.
MAX_VIOLATIONS = 10


@dataclass(frozen=True)
class Violation:
    """One broken rule: where in the instance, which keyword, and the validator's message."""

    path: str
    keyword: str
    message: str

    @property
    def field(self) -> str | None:
        """The top-level field the violation is in, or None for the instance as a whole."""
        return self.path.split("/", 1)[0] or None

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message} [{self.keyword}]"


class SchemaCheck:
    """One compiled schema: ``violations(instance)`` is empty when the instance conforms."""

    def __init__(self, uri: str, validator: Any) -> None:
        self.uri = uri
        self._validator = validator
        # The validator's own method, not a wrapper: every request calls it several times.
        self.is_valid: Callable[[Any], bool] = validator.is_valid

    @classmethod
    def compile(cls, uri: str, registry: jsonschema_rs.Registry) -> SchemaCheck:
        validator = jsonschema_rs.Draft202012Validator({"$ref": uri}, registry=registry, validate_formats=False)
        return cls(uri, validator)

    def violations(self, instance: Any) -> list[Violation]:
        if self._validator.is_valid(instance):
            return []
        found: list[Violation] = []
        for error in self._validator.iter_errors(instance):
            parts = list(error.instance_path)
            if error.kind.name == "required":  # point at the missing field, not at its parent
                parts.append(error.kind.property)
            path = "/".join(str(part) for part in parts)
            found.append(Violation(path=path, keyword=error.kind.name, message=error.message))
            if len(found) >= MAX_VIOLATIONS:
                break
        # Report the deepest problem first: "messages/0/role" says more than "messages".
        found.sort(key=lambda v: -v.path.count("/"))
        return found


def build_rs_registry(documents: dict[str, Any], base_uri: str) -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(base_uri + rel, doc) for rel, doc in documents.items()])
