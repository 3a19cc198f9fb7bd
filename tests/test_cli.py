"""The ``gptnb-mock`` console script: help, ``contracts``, ``validate`` — run as a user runs it."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from mockserver.cli import build_parser, main
from mockserver.contracts import ContractRegistry, default_registry
from mockserver.examples import example_files
from mockserver.resources import fixtures_dir

SCRIPT = Path(sys.executable).parent / "gptnb-mock"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "mockserver.cli"]
CHAT = "/v1/chat/completions"
GOOD_CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def gptnb_mock(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, input=stdin, cwd=cwd, timeout=60)


def example(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / "openai" / f"{name}.json").read_text(encoding="utf-8"))


def sse(events: list[Any], terminator: str | None = "[DONE]", named_by: str | None = None) -> str:
    """A stream of ``events``; with ``named_by`` each carries an ``event:`` line naming it after that field."""
    frames = [(f"event: {e[named_by]}\n" if named_by else "") + f"data: {json.dumps(e)}\n\n" for e in events]
    if terminator is not None:
        frames.append(f"data: {terminator}\n\n")
    return "".join(frames)


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(name: str, payload: Any) -> str:
        path = tmp_path / name
        path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
        return str(path)

    return write


def options_of(parser: argparse.ArgumentParser) -> list[str]:
    return [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


# --- help -------------------------------------------------------------------------------------------


def test_help_names_every_command_and_shows_examples() -> None:
    result = gptnb_mock("--help")
    assert result.returncode == 0
    for command in ("serve", "contracts", "validate"):
        assert command in result.stdout
    assert "gptnb-mock serve --port" in result.stdout
    assert "/__mock/" in result.stdout


def test_version() -> None:
    result = gptnb_mock("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("gptnb-mock ")


def test_no_command_is_a_usage_error() -> None:
    result = gptnb_mock()
    assert result.returncode == 2
    assert "COMMAND" in result.stderr


SERVE_FLAGS = [
    "--host", "--port", "--seed", "--api-key", "--latency", "--chunk-delay", "--strict", "--max-body",
    "--journal-size", "--error-type", "--clock", "--clock-speed", "--log-level", "--access-log", "--no-access-log",
]  # fmt: skip


def test_serve_help_mentions_every_flag() -> None:
    result = gptnb_mock("serve", "--help")
    assert result.returncode == 0
    # the flags this page documents, and any flag added since (read from the parser itself)
    for flag in {*SERVE_FLAGS, *options_of(subcommands()["serve"])}:
        assert flag in result.stdout, f"serve --help does not mention {flag}"


@pytest.mark.parametrize("command", ["contracts", "validate"])
def test_every_subcommand_help_mentions_every_flag(command: str) -> None:
    result = gptnb_mock(command, "--help")
    assert result.returncode == 0
    for flag in options_of(subcommands()[command]):
        assert flag in result.stdout, f"{command} --help does not mention {flag}"


def test_unknown_flag_is_a_usage_error() -> None:
    result = gptnb_mock("serve", "--no-such-flag")
    assert result.returncode == 2
    assert "--no-such-flag" in result.stderr


# --- contracts --------------------------------------------------------------------------------------


def test_contracts_lists_every_contract_with_method_and_path() -> None:
    registry = ContractRegistry.load()  # fresh: the cached default may predate contracts added since
    result = gptnb_mock("contracts")
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert {row[0] for row in rows} == {c.id for c in registry}
    for row in rows:
        contract = registry[row[0]]
        assert (row[1], row[2]) == (contract.method, contract.path)
    assert f"{len(registry)} contracts" in result.stderr


def test_contracts_family_filter() -> None:
    result = gptnb_mock("contracts", "--family", "openai")
    assert result.returncode == 0
    ids = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert ids and all(i.startswith("openai.") for i in ids)
    assert "openai.chat.completions" in ids


def test_contracts_json() -> None:
    registry = ContractRegistry.load()  # fresh: the cached default may predate contracts added since
    result = gptnb_mock("contracts", "--json")
    assert result.returncode == 0
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [c.id for c in registry]
    by_id = {r["id"]: r for r in rows}
    chat = by_id["openai.chat.completions"]
    assert (chat["method"], chat["path"], chat["family"]) == ("POST", CHAT, "openai")
    assert by_id["openai.models.retrieve"]["path"] == "/v1/models/{model}"
    for row in rows:
        assert {"id", "family", "method", "path", "aliases", "title", "summary", "kind", "cost"} <= row.keys()
        assert row["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"} and row["path"].startswith("/")


# --- validate: request bodies -------------------------------------------------------------------------


def test_validate_a_good_request_body(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, write("good.json", GOOD_CHAT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "openai.chat.completions: request body conforms" in result.stdout


def test_validate_a_bad_request_body_names_each_violation(write) -> None:  # type: ignore[no-untyped-def]
    bad = {"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "hi"}], "temperature": "hot"}
    result = gptnb_mock("validate", "--method", "post", "--path", CHAT, write("bad.json", bad))
    assert result.returncode == 1
    assert "does NOT conform (2 violation(s))" in result.stdout
    lines = result.stdout.splitlines()
    assert any("messages/0" in line for line in lines), result.stdout
    assert any("temperature" in line and "hot" in line for line in lines), result.stdout


def test_validate_a_missing_required_field(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, write("bad.json", {"model": "gpt-4o-mini"}))
    assert result.returncode == 1
    assert "'messages' is a required property" in result.stdout or '"messages" is a required property' in result.stdout


def test_validate_reads_standard_input() -> None:
    good = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "-", stdin=json.dumps(GOOD_CHAT))
    bad = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "-", stdin=json.dumps({"messages": "x"}))
    assert (good.returncode, bad.returncode) == (0, 1)


def test_validate_picks_the_variant_by_the_request_body(write) -> None:  # type: ignore[no-untyped-def]
    gizmo = {**GOOD_CHAT, "model": "gpt-4-gizmo-g-abc123"}
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, write("gizmo.json", gizmo))
    assert result.returncode == 0
    assert result.stdout.startswith("openai.chat.gpts:")


def test_validate_a_body_on_an_endpoint_without_one(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "GET", "--path", "/v1/models", write("body.json", {}))
    assert result.returncode == 1
    assert "takes no request body" in result.stdout


# --- validate: responses ------------------------------------------------------------------------------


def test_validate_a_good_response(write) -> None:  # type: ignore[no-untyped-def]
    body = example("chat.completions.basic")["response"]["body"]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("response.json", body))
    assert result.returncode == 0, result.stdout
    assert "openai.chat.completions: response 200 conforms" in result.stdout


def test_validate_a_bad_response_names_each_violation(write) -> None:  # type: ignore[no-untyped-def]
    body = example("chat.completions.basic")["response"]["body"]
    body["choices"][0]["message"]["content"] = 1
    body["choices"][0]["finish_reason"] = "done"
    del body["usage"]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("response.json", body))
    assert result.returncode == 1
    assert "response 200 does NOT conform (3 violation(s))" in result.stdout
    for where in ("choices/0/message/content", "choices/0/finish_reason", "usage"):
        assert where in result.stdout, result.stdout


def test_validate_an_error_response(write) -> None:  # type: ignore[no-untyped-def]
    error = example("chat.completions.no_channel")["response"]["body"]
    ok = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "503", write("error.json", error))
    assert ok.returncode == 0, ok.stdout
    broken = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "503", write("broken.json", {"error": "no"}))
    assert broken.returncode == 1


# --- validate: SSE streams ----------------------------------------------------------------------------


@pytest.fixture
def stream_events() -> list[dict[str, Any]]:
    return example("chat.completions.stream")["response"]["events"]


def test_validate_a_good_stream(write, stream_events) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("stream.sse", sse(stream_events)))
    assert result.returncode == 0, result.stdout
    # a stream carries no request body, so the base contract judges it, not a variant
    assert result.stdout.strip() == "openai.chat.completions: response 200 conforms"


def test_validate_a_stream_without_done(write, stream_events) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("stream.sse", sse(stream_events, None)))
    assert result.returncode == 1
    assert "the stream does not end with data: [DONE]" in result.stdout


def test_validate_a_stream_with_a_wrongly_typed_chunk(write, stream_events) -> None:  # type: ignore[no-untyped-def]
    stream_events[1] = {**stream_events[1], "choices": "not a list"}
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("stream.sse", sse(stream_events)))
    assert result.returncode == 1
    assert "(1 violation(s))" in result.stdout
    assert "event 1" in result.stdout and "not a list" in result.stdout


def test_validate_a_stream_with_a_chunk_that_is_not_json(write, stream_events) -> None:  # type: ignore[no-untyped-def]
    text = sse(stream_events[:1]).replace("data: [DONE]", "data: {oops\n\ndata: [DONE]")
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--status", "200", write("stream.sse", text))
    assert result.returncode == 1
    assert "data is not JSON" in result.stdout


def test_validate_a_legacy_completions_stream(write) -> None:  # type: ignore[no-untyped-def]
    events = example("completions.create.stream")["response"]["events"]
    result = gptnb_mock("validate", "--method", "POST", "--path", "/v1/completions", "--status", "200", write("s.sse", sse(events)))
    assert result.returncode == 0, result.stdout


# --- validate: usage errors (exit 2) ------------------------------------------------------------------


def test_validate_an_unknown_path_exits_2(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", "/v1/no/such/thing", write("x.json", GOOD_CHAT))
    assert result.returncode == 2
    assert "no contract serves POST /v1/no/such/thing" in result.stderr
    assert result.stdout == ""


def test_validate_a_known_path_with_another_method_exits_2(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "DELETE", "--path", CHAT, write("x.json", GOOD_CHAT))
    assert result.returncode == 2


def test_validate_an_unknown_contract_exits_2(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, "--contract", "openai.nope", write("x.json", GOOD_CHAT))
    assert result.returncode == 2
    assert "openai.nope" in result.stderr


def test_validate_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_validate_a_file_that_is_not_json_exits_2(write) -> None:  # type: ignore[no-untyped-def]
    result = gptnb_mock("validate", "--method", "POST", "--path", CHAT, write("x.txt", "hello there"))
    assert result.returncode == 2
    assert "is not JSON" in result.stderr and "--content-type" in result.stderr


# --- validate agrees with every documented example (in process: one case per example) -----------------


def documented_examples() -> list[Any]:
    return [pytest.param(path, id=f"{path.parent.name}/{path.stem}") for path in example_files()]


def run_main(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.mark.parametrize("path", documented_examples())
def test_validate_accepts_every_documented_example(path: Path, tmp_path: Path) -> None:
    documented = json.loads(path.read_text(encoding="utf-8"))
    request, response = documented["request"], documented["response"]
    # The query goes with the path: some contracts are picked by it (Jimeng's Action).
    path = request["path"] + (f"?{urlencode(request['query'], doseq=True)}" if request.get("query") else "")
    if "body" in request:
        (tmp_path / "request.json").write_text(json.dumps(request["body"]), encoding="utf-8")
        code, out = run_main("validate", "--method", request["method"], "--path", path, str(tmp_path / "request.json"))
        assert (code, out.split(":")[0]) == (0, documented["contract"]), out
    if "body" in response:
        payload = json.dumps(response["body"])
    elif "events" in response:
        named_by = default_registry()[documented["contract"]].event_stream(response["status"]).get("named_by")
        payload = sse(response["events"], response.get("terminator"), named_by)
    else:
        return  # binary answers (audio, images) are not JSON or SSE
    (tmp_path / "response").write_text(payload, encoding="utf-8")
    code, out = run_main(
        "validate", "--method", request["method"], "--path", path, "--status", str(response["status"]),
        "--contract", documented["contract"], str(tmp_path / "response"),
    )  # fmt: skip
    assert code == 0, out
