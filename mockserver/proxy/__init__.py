"""Real traffic, judged and kept: a validating proxy to the real upstream, cassettes of what it saw,
replay of them by the mock, and drift reports that turn them into proposed contract patches.

The proxy reuses what the checks use — the contract registry, the response judge and the event-stream
reader — so a verdict means the same in ``gptnb-mock check``, strict mode and here. Its doors into
the rest are narrow: the journal (verdicts), ``MockState.replay`` (answers before the fake), the CLI.
"""

from .app import ProxyApp, ProxyOptions

__all__ = ["ProxyApp", "ProxyOptions"]
