"""The README's test examples run as written, in a downstream-style pytest run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
