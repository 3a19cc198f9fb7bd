"""gptnb-mock: a contract-driven mock of the GPTNB API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gptnb-mock")
except PackageNotFoundError:  # running from a source checkout that was never installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
