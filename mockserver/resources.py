"""Find the data directories (contracts/, fixtures/) in a source checkout or an installed wheel.

The wheel ships both directories inside the package as ``mockserver/_data/{contracts,fixtures}``
(they are not import packages: PyPI already has unrelated ``contracts`` and ``fixtures``). A source
checkout keeps them at the repository's top level. ``GPTNB_MOCK_DATA`` points elsewhere when set.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def data_root() -> Path:
    """The directory that holds ``contracts/`` and ``fixtures/``."""
    override = os.environ.get("GPTNB_MOCK_DATA")
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE_DIR / "_data", _PACKAGE_DIR.parent]
    for candidate in candidates:
        if (candidate / "contracts" / "contract.schema.json").is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"gptnb-mock data directories not found (looked in: {searched})")


def contracts_dir() -> Path:
    return data_root() / "contracts"


def fixtures_dir() -> Path:
    return data_root() / "fixtures"
