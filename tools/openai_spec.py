"""Cut OpenAI's published OpenAPI document down to what the mock's OpenAI-format endpoints answer.

    python tools/openai_spec.py openapi.yaml > tests/specs/openai-openapi.json     (or: make openai-spec SPEC=openapi.yaml)

The input is ``openapi.yaml`` of the openai/openai-openapi repository. The output keeps, verbatim, the
2xx responses of the paths below and every component schema they reach, plus the Realtime server
events (the WebSocket session has no path in the document). ``tests/test_openai_spec.py`` judges the
mock's answers by it. To cover a new OpenAI route, add its path here and regenerate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

PATHS = (
    "/chat/completions",
    "/completions",
    "/embeddings",
    "/images/generations",
    "/images/edits",
    "/images/variations",
    "/audio/transcriptions",
    "/audio/translations",
    "/audio/speech",
    "/models",
    "/models/{model}",
    "/moderations",
    "/responses",
    "/responses/{response_id}",
    "/responses/{response_id}/cancel",
    "/responses/{response_id}/input_items",
    "/responses/compact",
    "/videos",
    "/videos/{video_id}",
    "/videos/{video_id}/content",
    "/videos/{video_id}/remix",
)
EVENT_PREFIXES = ("RealtimeServerEvent", "RealtimeBetaServerEvent")
SCHEMA_REF = "#/components/schemas/"


def subset(document: dict[str, Any], source: str) -> dict[str, Any]:
    paths = {}
    for path in PATHS:
        operations = {}
        for method, operation in document["paths"][path].items():
            if method in ("get", "post", "delete"):
                ok = {status: answer for status, answer in operation.get("responses", {}).items() if status.startswith("2")}
                operations[method] = {"operationId": operation.get("operationId"), "responses": ok}
        paths[path] = operations
    schemas = document["components"]["schemas"]
    wanted = _refs(paths) | {name for name in schemas if name.startswith(EVENT_PREFIXES)}
    kept: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name not in kept:
            kept[name] = schemas[name]
            wanted |= _refs(schemas[name]) - kept.keys()
    info = dict(document["info"])
    info["x-gptnb-subset"] = {"source": source, "paths": list(PATHS), "events": list(EVENT_PREFIXES)}
    return {"openapi": document["openapi"], "info": info, "paths": paths, "components": {"schemas": dict(sorted(kept.items()))}}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"][len(SCHEMA_REF) :]} if str(node.get("$ref", "")).startswith(SCHEMA_REF) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(Path(argv[1]).read_text(encoding="utf-8"), Loader=loader)
    source = f"openai/openai-openapi openapi.yaml, info.version {document['info']['version']}"
    json.dump(subset(document, source), sys.stdout, indent=1, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
