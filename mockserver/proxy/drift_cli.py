"""``gptnb-mock drift DIR``: the drift of recorded traffic from the contracts, and the patch that mends it."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from ..contracts import META_SCHEMA_FILE, ContractError, ContractRegistry
from ..resources import contracts_dir
from .cassette import Cassette, CassetteError, load
from .drift import Drift, disagreements
from .drift_patch import proposal
from .drift_report import as_data, summary, write_report
from .jsonpatch import PatchError, apply_patch

DEFAULT_APPLY_DIR = Path("contracts.drift")


def add_drift_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, metavar="DIR", help="cassettes written by gptnb-mock proxy --record")
    parser.add_argument("--report", action="append", type=Path, metavar="FILE", help="write the report: .html, .json or .md (repeatable)")
    parser.add_argument(
        "--apply",
        nargs="?",
        const=DEFAULT_APPLY_DIR,
        type=Path,
        metavar="OUT",
        help=f"write a copy of the contracts with the patch applied to OUT (default: {DEFAULT_APPLY_DIR}/; give it after DIR) for review, "
        "check it against the meta-schema and judge the recordings again by it; the contracts themselves are left alone",
    )
    parser.add_argument("--contracts", type=Path, metavar="DIR", help="judge by the contracts in DIR instead of the shipped ones")


def run_drift(args: argparse.Namespace) -> int:
    source = args.contracts or contracts_dir()
    try:
        registry = ContractRegistry.load(source)
        cassettes = load(args.directory)
    except (ContractError, CassetteError) as exc:
        print(f"gptnb-mock: {exc}", file=sys.stderr)
        return 2
    if not cassettes:
        print(f"gptnb-mock: {args.directory} holds no cassettes (record some with gptnb-mock proxy --record)", file=sys.stderr)
        return 2
    drift = Drift(registry).add_all(cassettes)
    cases, patches = drift.found, proposal(drift)
    print(summary(cases, patches, drift.read))
    applied = None
    if args.apply is not None and patches:
        try:
            applied = apply_to_copy(source, args.apply, patches, cassettes)
        except (ContractError, PatchError, OSError, ValueError) as exc:
            print(f"gptnb-mock: the patched copy in {args.apply} is not usable: {exc}", file=sys.stderr)
            return 2
        print(f"patched contracts written to {args.apply}/ ({len(patches)} file(s) changed, meta-schema checked); recordings still breaking them: {len(applied['still_breaking'])}")
    data = as_data(cases, patches, drift.read, applied)
    for path in args.report or ():
        try:
            write_report(path, data)
        except (ValueError, OSError) as exc:
            print(f"gptnb-mock: {exc}", file=sys.stderr)
            return 2
        print(f"report written: {path}", file=sys.stderr)
    return 1 if cases else 0


def apply_to_copy(source: Path, target: Path, patches: dict[str, list[dict[str, Any]]], cassettes: list[Cassette]) -> dict[str, Any]:
    """Copy the contracts to ``target``, apply the patches there, load the copy (the meta-schema judges
    every contract) and judge every recording by it. Returns what changed and what still breaks."""
    if target.exists():
        if not (target / META_SCHEMA_FILE).is_file():
            raise ValueError(f"{target} exists and is not a copy of the contracts; choose another --apply directory")
        shutil.rmtree(target)
    shutil.copytree(source, target)
    for file, operations in patches.items():
        path = target / file
        patched = apply_patch(json.loads(path.read_text(encoding="utf-8")), operations)
        path.write_text(json.dumps(patched, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    registry = ContractRegistry.load(target)
    still = {c.name: found for c in cassettes if (found := disagreements(c, registry))}
    return {"directory": str(target), "files": sorted(patches), "still_breaking": still}
