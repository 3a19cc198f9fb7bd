"""The built wheel works on its own: data directories inside the package, every contract, the pytest11 entry point.

The wheel is installed into a fresh venv with ``--no-deps``; its dependencies come from this project's venv
through a ``.pth`` line (no network). A ``.pth`` line only appends a directory: the editable install's own
``.pth`` in that directory is not processed, so the repository never reaches the fresh venv's ``sys.path``.
Every check runs with the fresh interpreter in isolated mode (``-I``) from a directory outside the repo.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver.contracts import ContractRegistry

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@dataclass
class Installed:
    wheel: Path
    python: Path
    site_packages: Path
    workdir: Path
    source_ids: list[str]
    """The contracts of the source tree when the wheel was built (other work may add some meanwhile)."""

    def run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), "-I", *args], cwd=self.workdir, capture_output=True, text=True, timeout=300, **kwargs)

    def probe(self, source: str) -> Any:
        """Run ``source`` in the fresh venv; it prints one JSON document."""
        result = self.run("-c", textwrap.dedent(source))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def run(*command: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    source_ids = sorted(c.id for c in ContractRegistry.load())
    # --no-isolation: build with the hatchling already in this venv instead of downloading one.
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, REPO, cwd=REPO)
    [wheel] = dist.glob("gptnb_mock-*.whl")

    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True
    )
    site_packages = Path(purelib.stdout.strip())
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel)
    (site_packages / "gptnb_mock_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    workdir = root / "elsewhere"
    workdir.mkdir()
    yield Installed(wheel, python, site_packages, workdir, source_ids)


def test_the_fresh_venv_imports_the_wheel_not_the_repo(installed: Installed) -> None:
    found = installed.probe(
        """
        import json, sys, mockserver, pytest_plugin
        print(json.dumps({"mockserver": mockserver.__file__, "pytest_plugin": pytest_plugin.__file__, "path": sys.path}))
        """
    )
    for module in ("mockserver", "pytest_plugin"):
        assert Path(found[module]).is_relative_to(installed.site_packages), found[module]
    assert not any(Path(p) == REPO for p in found["path"] if p)


def test_data_root_is_inside_the_installed_package(installed: Installed) -> None:
    found = installed.probe(
        """
        import json
        from mockserver.resources import contracts_dir, data_root, fixtures_dir
        print(json.dumps({"root": str(data_root()), "contracts": str(contracts_dir()), "fixtures": str(fixtures_dir())}))
        """
    )
    root = Path(found["root"])
    assert root == installed.site_packages / "mockserver" / "_data"
    assert Path(found["contracts"]).is_dir() and Path(found["fixtures"]).is_dir()


def test_every_contract_loads_from_the_wheel(installed: Installed) -> None:
    found = installed.probe(
        """
        import json
        from mockserver.contracts import default_registry
        registry = default_registry()
        print(json.dumps(sorted(c.id for c in registry)))
        """
    )
    assert found == installed.source_ids
    with zipfile.ZipFile(installed.wheel) as wheel:
        shipped = [n for n in wheel.namelist() if n.startswith("mockserver/_data/contracts/") and n.endswith(".json")]
    contract_files = [n for n in shipped if not n.rsplit("/", 1)[1].startswith("_") and not n.endswith("contract.schema.json")]
    assert len(found) == len(contract_files)


def test_fixtures_and_media_samples_ship_byte_for_byte(installed: Installed) -> None:
    data = installed.site_packages / "mockserver" / "_data"
    source_files = sorted(p.relative_to(REPO) for p in (REPO / "fixtures").rglob("*") if p.is_file())
    assert any(str(p).startswith("fixtures/media/") for p in source_files)
    for relative in source_files:
        shipped = data / relative
        assert shipped.is_file(), f"{relative} is missing from the wheel"
        assert shipped.read_bytes() == (REPO / relative).read_bytes(), f"{relative} differs in the wheel"
    for sample in ("tone.wav", "tone.mp3", "sample.mp4"):
        assert (data / "fixtures" / "media" / sample).stat().st_size > 0


def test_the_app_answers_from_the_wheel(installed: Installed) -> None:
    found = installed.probe(
        """
        import json
        from starlette.testclient import TestClient
        from mockserver.app import MockApp
        client = TestClient(MockApp(), headers={"Authorization": "Bearer sk-1"})
        chat = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        speech = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "hi", "response_format": "wav"})
        found = {"chat": chat.status_code, "object": chat.json()["object"]}
        found.update(speech=speech.status_code, riff=speech.content[:4].decode())
        print(json.dumps(found))
        """
    )
    assert found == {"chat": 200, "object": "chat.completion", "speech": 200, "riff": "RIFF"}


def test_the_inspector_page_ships_and_is_served_from_the_wheel(installed: Installed) -> None:
    assets = sorted(p for p in (REPO / "mockserver" / "ui" / "static").iterdir() if p.is_file())
    assert {p.suffix for p in assets} == {".html", ".css", ".js"}
    for asset in assets:
        shipped = installed.site_packages / "mockserver" / "ui" / "static" / asset.name
        assert shipped.is_file() and shipped.read_bytes() == asset.read_bytes(), f"{asset.name} differs in the wheel"
    found = installed.probe(
        """
        import json
        from starlette.testclient import TestClient
        from mockserver.app import MockApp
        from mockserver.ui import ASSETS
        client = TestClient(MockApp())
        served = {name: client.get("/__mock/ui" + ("" if name == "index.html" else "/" + name)) for name in sorted(p.name for p in ASSETS.iterdir())}
        print(json.dumps({"assets": str(ASSETS), "served": {name: [r.status_code, len(r.content)] for name, r in served.items()}}))
        """
    )
    assert Path(found["assets"]).is_relative_to(installed.site_packages)
    assert found["served"] == {p.name: [200, p.stat().st_size] for p in assets}


def test_wheel_metadata_declares_the_entry_points(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = wheel.read(entry_points).decode()
    assert "[pytest11]" in text and "gptnb = pytest_plugin.plugin" in text
    assert "[console_scripts]" in text and "gptnb-mock = mockserver.cli:main" in text
    assert "mockserver/_data/contracts/contract.schema.json" in names
    assert not any(n.startswith(("tests/", "contracts/", "fixtures/", "benchmarks/")) for n in names)

    found = installed.probe(
        """
        import json
        from importlib.metadata import distribution
        dist = distribution("gptnb-mock")
        eps = [(ep.group, ep.name, ep.value) for ep in dist.entry_points]
        print(json.dumps({"eps": eps, "at": str(dist.locate_file(""))}))
        """
    )
    assert ["pytest11", "gptnb", "pytest_plugin.plugin"] in found["eps"]
    assert Path(found["at"]) == installed.site_packages


def test_console_script_from_the_wheel(installed: Installed) -> None:
    script = installed.python.parent / "gptnb-mock"
    result = subprocess.run([str(script), "contracts", "--json"], cwd=installed.workdir, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(row["id"] for row in json.loads(result.stdout)) == installed.source_ids


def test_a_downstream_suite_gets_the_plugin_from_the_wheel(installed: Installed) -> None:
    (installed.workdir / "test_downstream.py").write_text(
        textwrap.dedent(
            """
            import openai
            import pytest_plugin.plugin


            def test_uses_the_fixture(gptnb):
                client = openai.OpenAI(base_url="https://goapi.gptnb.ai/v1", api_key="sk-1", max_retries=0)
                reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
                assert reply.choices[0].message.content
                assert gptnb.calls.last.contract_id == "openai.chat.completions"
                assert "site-packages" in pytest_plugin.plugin.__file__
            """
        ),
        encoding="utf-8",
    )
    result = installed.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_downstream.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
