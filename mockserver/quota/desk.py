"""The quota step of the request path: admit a request (or refuse it as the relay does), then settle.

Refusals, as new-api words them:
- a key whose quota is used up is refused as it authenticates, 401 ``[sk-abc***xyz] 该令牌额度已用尽
  !token.UnlimitedQuota && token.RemainQuota = N`` (model/token.go ValidateUserToken, answered by
  middleware/auth.go TokenAuth through abortWithOpenAiMessage);
- a key with less left than the request will cost is refused by the format's own path:
  403 ``token quota is not enough, token remain quota: ＄X, need quota: ＄Y`` with code
  ``pre_consume_token_quota_failed`` (service/quota.go PreConsumeTokenQuota, service/pre_consume_quota.go),
  Midjourney's ``quota_not_enough`` (relay/mjproxy_handler.go), the task routes' ``{"code":
  "quota_not_enough", "message": "user quota is not enough"}`` 403 (relay/relay_task.go) — the family
  error builders give each its shape;
- a key past its request rate gets 429 ``您已达到请求数限制：1分钟内最多请求3次``
  (middleware/model-rate-limit.go), past a concurrency gate 429 ``You have reached the concurrent
  request limit: at most N in-flight requests`` (middleware/model-concurrency-limit.go);
- a model past its rate gets the upstream's own 429 (OpenAI's ``Rate limit reached for … on requests
  per min (RPM)``), which the relay passes on.
new-api sends no ``Retry-After``; the mock sends it and OpenAI's ``x-ratelimit-*`` headers, counting
down on the mock's clock, so clients' back-off can be tested (the openai SDK honours them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import errors, sse
from ..clock import REAL
from ..errors import ApiError
from ..replies import Reply, StreamReply
from ..usage import Usage, reported
from .ledger import Window
from .limits import Limit
from .prices import Price, count_of, estimate, format_quota, price_for, prompt_tokens

if TYPE_CHECKING:
    from ..pipeline import Call
    from ..state import NamespaceState

CONCURRENCY_MESSAGE = "You have reached the concurrent request limit: at most {limit} in-flight requests"


async def admit(call: Call) -> Admission | None:
    """Refuse what the key or model may not do now; otherwise an admission to settle after the reply
    (None when no quota and no limit holds for this request)."""
    rules = call.state.quota
    key, model = call.api_key, call.model
    limits = [limit for limit in rules.limits if limit.holds_for(key, model)]
    charged = key if key is not None and key in rules.keys else None
    if charged is None and not limits:
        return None
    store, namespace = call.state.store, call.state.namespace
    price = price_for(call)
    if charged is not None:
        balance = await store.balance(namespace, charged)
        if balance is not None and balance <= 0:
            raise ApiError(401, errors.TOKEN_EXHAUSTED, f"{_masked(key)} 该令牌额度已用尽 !token.UnlimitedQuota && token.RemainQuota = {balance}", code="")
        need = estimate(call, price) if price is not None else 0
        if balance is not None and need > balance:
            raise _insufficient(balance, need)
    admission = Admission(call, charged, price)
    now = call.state.clock.now()
    for limit in limits:
        await admission.check(limit, now)
    for limit in limits:
        if limit.concurrency is not None:
            await admission.enter(limit)
    return admission


async def accounts(space: NamespaceState) -> dict[str, dict[str, Any]]:
    """Each key's balance (None: unlimited), quota points used and requests charged."""
    return {key: account.as_dict() for key, account in (await space.store.accounts(space.namespace)).items()}


async def counters(space: NamespaceState) -> list[dict[str, Any]]:
    """Each limit with its windows as they stand now on the namespace's clock, and what is in flight."""
    store, namespace, now = space.store, space.namespace, space.clock.now()
    in_flight = await store.in_flight(namespace)
    found = []
    for limit in space.quota.limits:
        entry: dict[str, Any] = {"limit": limit.as_dict()}
        for kind, most in (("requests", limit.rpm), ("tokens", limit.tpm)):
            if most is not None:
                window = await store.tally(namespace, f"{limit.scope}:{kind}", now, limit.window)
                entry[kind] = {"limit": most, "used": window.used, "remaining": max(most - window.used, 0), "frees_in": round(window.frees_in, 3)}
        if limit.concurrency is not None:
            entry["in_flight"] = {"limit": limit.concurrency, "used": in_flight.get(f"{limit.scope}:in_flight", 0)}
        found.append(entry)
    return found


@dataclass
class Admission:
    """One admitted request: its limits' counts for the headers, its gates, and what it used."""

    call: Call
    key: str | None
    """The key charged for the answer (None: no quota holds for it)."""
    price: Price | None
    headers: dict[str, str] = field(default_factory=dict)
    gates: list[str] = field(default_factory=list)
    usage: Usage | None = None
    events: int = 0
    settled: bool = False

    async def check(self, limit: Limit, now: float) -> None:
        store, namespace, scope = self.call.state.store, self.call.state.namespace, limit.scope
        if limit.rpm is not None:
            window = await store.tally(namespace, f"{scope}:requests", now, limit.window, 1, limit.rpm)
            if not window.allowed:
                raise self._refused(limit, "requests", window, self._rpm_message(limit, window))
            self._note("requests", limit.rpm, window)
        if limit.tpm is not None:
            window = await store.tally(namespace, f"{scope}:tokens", now, limit.window)
            if window.used >= limit.tpm:
                raise self._refused(limit, "tokens", window, self._tpm_message(limit, window))
            self._note("tokens", limit.tpm, window)

    async def enter(self, limit: Limit) -> None:
        gate = f"{limit.scope}:in_flight"
        assert limit.concurrency is not None
        if await self.call.state.store.enter_gate(self.call.state.namespace, gate, limit.concurrency) is None:
            await self.close()  # the gates taken so far
            raise ApiError(429, errors.RATE_LIMITED, CONCURRENCY_MESSAGE.format(limit=limit.concurrency), code="", extra={"headers": {"retry-after": "1"}})
        self.gates.append(gate)

    def socket(self, socket: Any) -> Any:
        """A WebSocket session's socket whose server events are charged as they report usage (each
        Realtime ``response.done``)."""
        return MeteredSocket(socket, self)

    def watch(self, reply: Reply) -> Reply:
        """The reply with its rate-limit headers; a stream is watched for the usage it reports."""
        if self.headers:
            reply = replace(reply, headers={**reply.headers, **self.headers})
        if isinstance(reply, StreamReply):
            return replace(reply, events=self._counted(reply))
        return reply

    async def _counted(self, reply: StreamReply) -> Any:
        async for item in reply.events:
            self.events += 1
            found = reported(sse.payload(item))
            if found is not None:
                self.usage = found
            yield item

    async def settle(self, body: Any, failed: bool) -> None:
        """Charge the key for the answer (nothing for a failed one) and count its tokens; once."""
        if self.settled:
            return
        self.settled = True
        if failed or self.price is None:
            return
        usage = self.usage or reported(body) or (Usage(output_tokens=self.events) if self.events else None)
        if usage is None and self.price.per_call is None:
            usage = Usage(input_tokens=prompt_tokens(self.call))
        points = self.price.of(usage, count_of(self.call))
        space = self.call.state
        if self.key is not None:
            await space.store.spend(space.namespace, self.key, points)
        tokens = usage.input_tokens + usage.output_tokens if usage is not None else 0
        if tokens:
            now = space.clock.now()
            for limit in space.quota.limits:
                if limit.tpm is not None and limit.holds_for(self.call.api_key, self.call.model):
                    await space.store.tally(space.namespace, f"{limit.scope}:tokens", now, limit.window, tokens)

    async def close(self) -> None:
        space = self.call.state
        for gate in self.gates:
            await space.store.leave_gate(space.namespace, gate)
        self.gates = []

    # ---- words and headers ----

    def _note(self, kind: str, limit: int, window: Window) -> None:
        """OpenAI's x-ratelimit-* headers for the tightest limit of each kind."""
        remaining = max(limit - window.used, 0)
        known = self.headers.get(f"x-ratelimit-remaining-{kind}")
        if known is not None and int(known) <= remaining:
            return
        self.headers[f"x-ratelimit-limit-{kind}"] = str(limit)
        self.headers[f"x-ratelimit-remaining-{kind}"] = str(remaining)
        self.headers[f"x-ratelimit-reset-{kind}"] = duration(self._real(window.frees_in))

    def _refused(self, limit: Limit, kind: str, window: Window, message: str) -> ApiError:
        wait = self._real(window.frees_in)
        headers = {
            f"x-ratelimit-limit-{kind}": str(limit.rpm if kind == "requests" else limit.tpm),
            f"x-ratelimit-remaining-{kind}": "0",
            f"x-ratelimit-reset-{kind}": duration(wait),
            "retry-after": str(max(math.ceil(wait), 1)),
            "retry-after-ms": str(max(math.ceil(wait * 1000), 1)),
        }
        upstream = {"type": kind} if limit.model is not None else {}  # the upstream's own error type
        code = "rate_limit_exceeded" if limit.model is not None else ""
        return ApiError(429, errors.RATE_LIMITED, message, code=code, extra={"headers": headers, **upstream})

    def _rpm_message(self, limit: Limit, window: Window) -> str:
        if limit.key is not None:
            return f"您已达到请求数限制：{_span(limit.window)}内最多请求{limit.rpm}次"
        return f"Rate limit reached for {self.call.model} on requests per min (RPM): Limit {limit.rpm}, Used {window.used}, Requested 1. Please try again in {duration(self._real(window.frees_in))}."

    def _tpm_message(self, limit: Limit, window: Window) -> str:
        subject = self.call.model if limit.model is not None else f"key {_masked(self.call.api_key)}"
        requested = max(prompt_tokens(self.call), 1)
        return f"Rate limit reached for {subject} on tokens per min (TPM): Limit {limit.tpm}, Used {window.used}, Requested {requested}. Please try again in {duration(self._real(window.frees_in))}."

    def _real(self, mock_seconds: float) -> float:
        """Mock seconds as the client's seconds: a real clock running faster frees windows sooner."""
        clock = self.call.state.clock
        return mock_seconds / clock.speed if clock.mode == REAL else mock_seconds


class MeteredSocket:
    """Charges the key for every usage a server event reports; everything else is the socket's own."""

    def __init__(self, socket: Any, admission: Admission) -> None:
        self._socket = socket
        self._admission = admission

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)

    async def send_text(self, data: str) -> None:
        await self._socket.send_text(data)
        if '"usage"' in data:
            admission = self._admission
            found = reported(json.loads(data))
            if found is not None:
                admission.usage, admission.settled = found, False
                await admission.settle(None, failed=False)


def _insufficient(balance: int, need: int) -> ApiError:
    message = f"token quota is not enough, token remain quota: {format_quota(balance)}, need quota: {format_quota(need)}"
    return ApiError(403, errors.INSUFFICIENT_QUOTA, message, code="pre_consume_token_quota_failed")


def _masked(key: str | None) -> str:
    """new-api's ``[sk-abc***xyz]``: the key without its ``sk-``, first and last three characters."""
    bare = (key or "").removeprefix("sk-")
    return f"[sk-{bare[:3]}***{bare[-3:]}]"


def _span(seconds: int) -> str:
    return f"{seconds // 60}分钟" if seconds % 60 == 0 else f"{seconds}秒"


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``20ms``, ``1.5s``, ``6m0s``."""
    if seconds < 1:
        return f"{max(math.ceil(seconds * 1000), 0)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text
