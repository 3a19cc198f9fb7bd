"""Files of canned replies: ``serve --fixtures`` (reloaded while serving), the pytest marker, ini key and
``gptnb.load_fixtures``, and clear refusals that name the file and the entry."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import openai
import pytest
import requests
from openai_helpers import sdk
from test_serve import COMMAND, free_port, running_server

from mockserver.rulefiles import RuleFileError

YAML_RULES = """\
rules:
  - name: refund policy
    match:
      user_message: refund
    reply:
      content: Refunds take 5 working days.
  - contract: openai.embeddings.create
    match: {input_text: hello}
    reply: {embedding: [0.1, 0.2]}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def ask(client: openai.OpenAI, text: str) -> str | None:
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}]).choices[0].message.content


def test_yaml_json_and_directories_load_in_order(gptnb, tmp_path: Path) -> None:
    folder = tmp_path / "replies"
    (folder / "more").mkdir(parents=True)
    write(folder / "b.json", json.dumps([{"match": {"user_message": "order"}, "reply": {"content": "from b"}}]))
    write(folder / "a.yaml", "- match: {user_message: order}\n  reply: {content: from a}\n")
    write(folder / "more" / "c.yml", "rules:\n  - match: {user_message: deep}\n    reply: {content: from c}\n")
    write(folder / "notes.txt", "not a rule file")
    loaded = gptnb.load_fixtures(folder)
    assert [r.source for r in loaded] == [f"{folder / 'a.yaml'}: rules[0]", f"{folder / 'b.json'}: rules[0]", f"{folder / 'more' / 'c.yml'}: rules[0]"]
    client = sdk(gptnb)
    assert ask(client, "my order") == "from a"  # file rules: first match wins, in load order
    assert ask(client, "deep") == "from c"


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("broken.json", '{"rules": [', "broken.json: not valid JSON: Expecting value at line 1, column 12"),
        ("broken.yaml", "rules:\n  - match: [\n", "broken.yaml: not valid YAML"),
        ("shape.json", '{"replies": []}', 'shape.json: expected {"rules": [...]}, a list of rules'),
        ("entry.yaml", "- reply: {content: ok}\n- name: second\n  match: {model: 5}\n  reply: {content: x}\n", "entry.yaml: rules[1] ('second'): match.model: expected a name"),
        ("strict.json", '[{"contract": "openai.models.list", "reply": {"body": {"data": 1}}}]', "strict.json: rules[0]: its replies break their contracts (strict mode): reply on openai.models.list: body"),
        ("aimock.json", '{"fixtures": [{"match": {"userMessage": "x"}}]}', "aimock.json: fixtures[0]: an aimock fixture is"),
        ("aimock2.json", '{"fixtures": [{"match": {"userMesage": "x"}, "response": {"content": "y"}}]}', "aimock2.json: fixtures[0]: unknown match fields userMesage"),
    ],
)
def test_malformed_files_are_refused_naming_the_file_the_entry_and_the_problem(gptnb, tmp_path: Path, name: str, text: str, problem: str) -> None:
    with pytest.raises(RuleFileError) as refused:
        gptnb.load_fixtures(write(tmp_path / name, text))
    assert str(refused.value).startswith(str(tmp_path / name))
    assert problem in str(refused.value)
    assert gptnb.controls.rules() == []  # nothing of a refused file is used


def test_a_missing_path_is_named(gptnb, tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="nowhere.yaml: no such file or directory"):
        gptnb.load_fixtures(tmp_path / "nowhere.yaml")


def test_marker_and_ini_key_load_files_for_a_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", project=YAML_RULES)
    pytester.mkdir("tests")
    (pytester.path / "tests" / "local.yaml").write_text("- match: {user_message: local}\n  reply: {content: from the marker}\n")
    pytester.makeini("[pytest]\ngptnb_fixtures = project.yaml\n")
    pytester.makepyfile(
        **{
            "tests/test_files": """
import openai
import pytest


def ask(gptnb, text):
    client = openai.OpenAI(base_url=gptnb.openai_base_url, api_key="sk-test")
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}]).choices[0].message.content


def test_project_wide(gptnb):
    assert ask(gptnb, "a refund?") == "Refunds take 5 working days."
    assert ask(gptnb, "local") != "from the marker"


@pytest.mark.gptnb(fixtures="local.yaml")
def test_own_file_beside_the_project_ones(gptnb):
    assert ask(gptnb, "local") == "from the marker"
    assert ask(gptnb, "a refund?") == "Refunds take 5 working days."


@pytest.mark.gptnb(fixtures=["local.yaml"])
def test_the_live_server_too(gptnb_server):
    assert ask(gptnb_server, "local") == "from the marker"


def test_the_live_server_forgets_the_previous_tests_files(gptnb_server):
    assert ask(gptnb_server, "local") != "from the marker"


@pytest.mark.gptnb(fixtures="missing.yaml")
def test_a_missing_file_fails_the_test_clearly(gptnb):
    pass
"""
        }
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*gptnb fixtures: *missing.yaml: no such file or directory*"])


def rules_of(url: str) -> dict:
    return requests.get(url + "/__mock/rules", timeout=10).json()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the server did not reload in time")


def test_serve_loads_files_and_reloads_them_while_serving(tmp_path: Path) -> None:
    replies = write(tmp_path / "replies.yaml", YAML_RULES)
    aimock = Path(__file__).parent.parent / "fixtures" / "aimock" / "example-greeting.json"
    with running_server(tmp_path / "server.log", "--strict", "--fixtures", str(replies), "--fixtures", str(aimock)) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0)
        assert ask(client, "refund?") == "Refunds take 5 working days."
        assert ask(client, "hello") == "Hello! How can I help you today?"
        listed = rules_of(url)
        assert [r["source"] for r in listed["rules"]] == [f"{replies}: rules[0] ('refund policy')", f"{replies}: rules[1]", f"{aimock}: fixtures[0]", f"{aimock}: fixtures[1]"]
        assert listed["files"] == {"paths": [str(replies), str(aimock)], "error": None, "skipped": []}
        first_id = listed["rules"][0]["id"]
        assert requests.delete(f"{url}/__mock/rules/{first_id}", timeout=10).status_code == 409
        team = openai.OpenAI(base_url=url + "/__mock/ns/team-a/v1", api_key="sk-x", max_retries=0)
        assert ask(team, "refund?") == "Refunds take 5 working days."  # every namespace has the files' rules
        assert rules_of(url + "/__mock/ns/team-a")["rules"][0]["hits"] == 1 and rules_of(url)["rules"][0]["hits"] == 1  # each counts its own

        write(replies, YAML_RULES.replace("5 working days", "3 days"))
        wait_for(lambda: ask(client, "refund?") == "Refunds take 3 days.")

        write(replies, YAML_RULES + "  - match: {model: 5}\n    reply: {content: x}\n")  # broken: the last good set stays
        wait_for(lambda: rules_of(url)["files"]["error"] is not None)
        assert "replies.yaml: rules[2]: match.model: expected a name" in rules_of(url)["files"]["error"]
        assert ask(client, "refund?") == "Refunds take 3 days."

        write(replies, "[]\n")  # fixed: the error clears and the rules follow the file
        wait_for(lambda: rules_of(url)["files"]["error"] is None)
        assert ask(client, "refund?").startswith("You said:")
        assert ask(client, "hello") == "Hello! How can I help you today?"
        assert requests.post(url + "/__mock/reset", timeout=10).status_code == 200
        assert len(rules_of(url)["rules"]) == 2  # reset keeps the file rules


def test_a_namespace_condition_tells_apart_the_namespaces_sharing_a_files_rules(tmp_path: Path) -> None:
    teams = write(tmp_path / "teams.yaml", "- match: {namespace: team-*}\n  reply: {content: for teams}\n")
    with running_server(tmp_path / "server.log", "--fixtures", str(teams)) as url:
        team = openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0, default_headers={"X-Mock-Namespace": "team-a"})
        assert ask(team, "hi") == "for teams"
        assert ask(openai.OpenAI(base_url=url + "/v1", api_key="sk-x", max_retries=0), "hi").startswith("You said:")


def test_serve_refuses_a_malformed_file_at_start_up(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", "- match: {user_message: x}\n  reply: {content: a, body: {}}\n")
    command = [*COMMAND, "serve", "--port", str(free_port()), "--fixtures", str(broken)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{broken}: rules[0]: reply: body and content cannot be combined" in result.stderr
