"""Settings of one mock instance: what ``gptnb-mock serve`` flags and the pytest options set."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # audio uploads may be 25 MB; the relay refuses beyond that


@dataclass(frozen=True)
class Settings:
    api_keys: frozenset[str] = field(default_factory=frozenset)
    """Accepted keys; empty means any well-formed key is accepted."""
    seed: int = 0
    """Default seed for generated content when a request carries none."""
    strict: bool = False
    """Validate every response against its contract; violations are journalled and reported."""
    latency_ms: int = 0
    """Added before every answer, to imitate a remote service."""
    chunk_delay_ms: int = 0
    """Pause between streamed events, to watch a stream arrive."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    journal_size: int = 1000
    error_type: str = "new_api_error"
    """``error.type`` of relay-generated errors (deployments rebrand it)."""
    group: str = "default"
    """The relay user group named in 'no channel' messages."""

