"""Settings of one mock instance: what ``gptnb-mock serve`` flags and the pytest options set."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .faults.chaos import Chaos
from .faults.physics import Physics

if TYPE_CHECKING:
    from .quota.limits import Limit

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # audio uploads may be 25 MB; the relay refuses beyond that
MAX_DELAY_MS = 60_000
"""The longest delay a rule, scenario header or --latency may ask for (a client that waits longer has gone)."""
GENERATED_JSON = {"full": "all", "minimal": "none"}
"""``Settings.generated_json`` -> which optional properties ``synth.instance`` fills."""


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
    physics: Physics = Physics()
    """How every stream arrives unless a rule, a header or the model's profile says otherwise."""
    model_physics: str | None = None
    """``builtin`` or a JSON profile file mapping model globs to physics (faults/profiles.py)."""
    chaos: Chaos | None = None
    """Serve-wide chaos: the share of requests that get a fault from a mix."""
    chaos_seed: int | None = None
    """Seed of chaos and jitter (default: ``seed``); the same seed and request order give the same faults."""
    quotas: tuple[tuple[str, int], ...] = ()
    """(key, quota points) each key starts with; a key with a quota is refused once it is used up."""
    limits: tuple[Limit, ...] = ()
    """Rate limits and concurrency gates per key or model (quota/limits.py)."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    journal_size: int = 1000
    error_type: str = "new_api_error"
    """``error.type`` of relay-generated errors (deployments rebrand it)."""
    callback_allow: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1"})
    """Hosts callbacks may be POSTed to; loopback only unless the operator adds more."""
    callback_retries: int = 3
    max_tasks: int = 10_000
    """Tasks kept; past this the oldest finished ones are forgotten."""
    task_failure_rate: float = 0.0
    """Share of tasks planned to fail (deterministic per task id)."""
    task_concurrency: int = 10
    """Tasks a family runs at once; more are queued (Midjourney code 22)."""
    task_queue_size: int = 100
    """Tasks a family queues beyond the running ones; more are refused (Midjourney code 23)."""
    banned_words: frozenset[str] = frozenset({"nsfw", "gore", "nude", "bloody"})
    """Prompts with these words are refused (Midjourney code 24)."""
    group: str = "default"
    """The relay user group named in 'no channel' messages."""
    allowed_hosts: frozenset[str] | None = None
    """Host header names served (DNS-rebinding guard, see guard.py); None checks no Host (in-process use)."""
    admin_token: str | None = None
    """When set, admin calls need it in the X-Mock-Admin-Token header."""
    journal_entry_bytes: int = 16 * 1024
    """Bytes of request and response one journal entry keeps; larger values are truncated with a marker."""
    task_param_bytes: int = 16 * 1024
    """Bytes of request parameters a task keeps (base64 images are replaced by their size and digest)."""
    callback_concurrency: int = 16
    """Callback deliveries in flight at once, over one shared HTTP client."""
    realtime_audio_bytes: int = 15 * 1024 * 1024
    """Largest Realtime input audio buffer; appends beyond it get an error event."""
    media_cache_bytes: int = 32 * 1024 * 1024
    """Generated media kept for repeated downloads of the same URL."""
    worker_processes: bool = False
    """Decode huge JSON bodies and make media files in worker processes (``serve`` does; see workers.py)."""
    generated_json: str = "full"
    """JSON the mock makes from a client's schema (tool-call arguments, structured replies): "full" fills
    every optional property, as real models mostly do; "minimal" only the required ones."""
    clock: str = "real"
    """The clock mode a namespace starts with (real, manual, step)."""
    clock_speed: float = 1.0
    namespace_per_key: bool = False
    """Requests without an X-Mock-Namespace header use a namespace of their API key."""

    def __post_init__(self) -> None:
        if self.generated_json not in GENERATED_JSON:
            raise ValueError(f"generated_json must be one of {', '.join(GENERATED_JSON)}, not {self.generated_json!r}")

    @property
    def optional_properties(self) -> str:
        return GENERATED_JSON[self.generated_json]

    def to_json(self) -> str:
        """For worker processes, which rebuild the settings with ``from_json``."""
        return json.dumps({k: sorted(v) if isinstance(v, frozenset) else v for k, v in dataclasses.asdict(self).items()})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        from .quota.limits import Limit

        sets = {f.name for f in dataclasses.fields(cls) if "frozenset" in str(f.type)}
        data = {k: frozenset(v) if k in sets and v is not None else v for k, v in json.loads(text).items()}
        chaos = data.get("chaos")
        return cls(**{
            **data,
            "physics": Physics(**data["physics"]),
            "chaos": Chaos(chaos["probability"], tuple(chaos["mix"])) if chaos is not None else None,
            "quotas": tuple((key, amount) for key, amount in data["quotas"]),
            "limits": tuple(Limit(**limit) for limit in data["limits"]),
        })
