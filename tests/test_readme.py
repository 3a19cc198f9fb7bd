"""The README's test examples run as written, in a downstream-style pytest run."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

from mockserver.contracts import default_registry

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```python\n# (test_\w+\.py)\n(.*?)```", re.S)
DATA = re.compile(r"```yaml\n# ([\w-]+\.yaml)\n(.*?)```", re.S)
"""Files the examples read (canned replies), written beside them."""


def examples() -> list[tuple[str, str]]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_has_runnable_examples() -> None:
    assert {name for name, _ in examples()} >= {"test_example.py", "test_properties.py", "test_canned.py"}


@pytest.mark.parametrize(("name", "source"), examples(), ids=[name for name, _ in examples()])
def test_readme_example_passes(pytester: pytest.Pytester, name: str, source: str) -> None:
    pytester.makepyfile(**{name.removesuffix(".py"): source})
    for data_name, text in DATA.findall(README.read_text(encoding="utf-8")):
        (pytester.path / data_name).write_text(text, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "anyio", "-q")
    collected = len(re.findall(r"^def test_", source, re.M))
    result.assert_outcomes(passed=collected)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def test_the_contract_counts_are_the_registry_s() -> None:
    """What is covered: the total, the number of families and each family's row match the contracts."""
    covered = section("What is covered")
    per_family = Counter(contract.family for contract in default_registry())
    total = re.search(r"(\d+) contracts in (\d+) families", covered)
    assert total and (int(total.group(1)), int(total.group(2))) == (sum(per_family.values()), len(per_family))
    rows = {family: int(count) for family, count in re.findall(r"^\| `([\w-]+)` \| (\d+) \|", covered, re.M)}
    assert rows == dict(per_family)


def test_the_rules_example_does_what_its_comments_say(gptnb) -> None:
    """The steering section's rules, added in its order: two 503s for chat, then the delay rule answers."""
    steering = section("Steering: errors, delays, canned replies")
    bodies = [json.loads(body) for body in re.findall(r"__mock/rules[^\n]*\\\n\s*-d '([^']*)'", steering)]
    assert len(bodies) == 2
    with httpx.Client(base_url=gptnb.url, headers={"Authorization": "Bearer sk-readme"}) as client:
        for body in bodies:
            assert client.post("/__mock/rules", json=body).status_code == 201
        chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
        statuses = [client.post("/v1/chat/completions", json=chat).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [call.duration_ms >= 300 for call in gptnb.calls] == [False, False, True]
