"""Deterministic, plausible JSON values for a JSON Schema given at request time.

Used for tool-call ``arguments`` and ``response_format: json_schema`` replies.  Values are
built from the keywords directly (small, readable output); jsonschema only arbitrates
between alternatives (enum members, anyOf/oneOf branches, type lists, ``not``) and checks
the final result, which raises ``UnsatisfiableSchema`` rather than return an invalid reply.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import random
import re
import string
import uuid
from typing import Any, Callable

from jsonschema import Draft7Validator, Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, best_match
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

__all__ = ["OPTIONAL_MODES", "UnsatisfiableSchema", "instance", "tool_arguments"]

MAX_DEPTH = 6  # from here on: required properties, minItems and the cheapest branch only
HARD_DEPTH = MAX_DEPTH + 10  # deeper means *required* recursion that never bottoms out
MAX_STR = 64
MAX_OPTIONAL = 3  # optional properties per object in "some" mode: keeps replies small
OPTIONAL_MODES = ("some", "all", "none")
"""Which optional properties an object gets: a seeded few (up to MAX_OPTIONAL), every one (above
MAX_DEPTH), or none (the minimal object the schema allows)."""
UNIQUE_TRIES = 30
BUDGET = 5000  # generated nodes per call: retried branches inside recursion grow exponentially
Schema = dict[str, Any]


class UnsatisfiableSchema(ValueError):
    """The schema is invalid, or no value we could generate validates against it."""


class _GiveUp(Exception):
    """Past HARD_DEPTH or BUDGET: no finite value down this path (and none worth validating:
    checking a deep chain of failing anyOf branches is itself exponential)."""


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@functools.lru_cache(maxsize=256)
def _validator(key: str) -> Any:
    # Keyed by canonical JSON, not id(): request schemas are fresh dicts and ids get reused.
    schema = json.loads(key)
    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError:
        # Undeclared draft-07 spellings (tuple-form ``items``) are invalid under 2020-12.
        if cls is not Draft202012Validator or (isinstance(schema, dict) and "$schema" in schema):
            raise
        Draft7Validator.check_schema(schema)
        cls = Draft7Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _meet_types(a: Any, b: Any) -> Any:
    ta, tb = ([t] if isinstance(t, str) else t for t in (a, b))
    # "integer" is a subtype of "number": it survives meeting "number".
    both = [t for t in ta if t in tb or (t == "integer" and "number" in tb)]
    return both or [t for t in tb if t == "integer" and "number" in ta] or b  # b: a conflict


_COMBINE: dict[str, Callable[[Any, Any], Any]] = {
    "properties": lambda a, b: {**a, **{p: _merge(a[p], s) if p in a else s for p, s in b.items()}},
    "required": lambda a, b: list(dict.fromkeys([*a, *b])),
    "type": _meet_types,
    "not": lambda a, b: {"anyOf": [a, b]},
    "allOf": lambda a, b: [*a, *b],
    **dict.fromkeys(("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"), max),
    **dict.fromkeys(("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"), min),
}


def _merge(a: Any, b: Any) -> Schema:
    """Both schemas as one keyword set (for allOf, $ref siblings and branches); best effort."""
    if a is False or b is False:
        return {"not": {}}
    out = dict({} if a is True else a)
    for k, v in ({} if b is True else b).items():
        if k not in out:
            out[k] = v
        elif k in ("anyOf", "oneOf"):  # X(A) and X(B) == X([a and X(B) for a in A])
            out[k] = [_merge(x, {k: v}) for x in out[k]]
        else:  # other conflicts: later wins, the final validation decides
            out[k] = _COMBINE.get(k, lambda _, new: new)(out[k], v)
    return out


# ---------------------------------------------------------------------------- regex subset
_CLASSES = {"d": string.digits, "w": string.ascii_letters + string.digits + "_", "s": " ",
            "D": string.ascii_letters, "W": "-.", "S": string.ascii_letters}
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_QUANT = {"?": (0, 1), "*": (0, None), "+": (1, None)}
_ANY = string.ascii_letters + string.digits + " -_."  # universe for "." and [^...]
Node = tuple  # ("lit", str) | ("chars", str) | ("alt", [[Node]]) | ("rep", Node, lo, hi|None)


class _Regex:
    """Sampler for literals, ., [classes], \\d \\w \\s, \\uXXXX, ? * + {m,n}, groups, | and ^ $.
    Lookarounds, backreferences, \\b and inline flags parse but emit nothing (best effort:
    the caller re-checks every sample with re.search)."""

    def __init__(self, pattern: str) -> None:
        self.p, self.i = pattern, 0
        self.tree = self._alt()

    def _at(self, k: int = 0) -> str:
        return self.p[self.i + k:self.i + k + 1]

    def _next(self) -> str:
        self.i += 1
        return self.p[self.i - 1:self.i]

    def _alt(self) -> Node:
        branches: list[list[Node]] = [[]]
        while self._at() not in ("", ")"):
            if self._next() == "|":
                branches.append([])
            else:
                branches[-1].append(self._quant(self._atom(self.p[self.i - 1])))
        return ("alt", branches)

    def _atom(self, c: str) -> Node:
        if c == "(":
            m = re.match(r"\?(P?<\w+>|<?[=!]|[a-zA-Z-]*:?\)?)|", self.p[self.i:])
            self.i += len(m.group(0)) if m else 0
            if m and m.group(0).endswith(")"):  # inline flags such as (?i)
                return ("lit", "")
            node = self._alt()
            self.i += 1  # ")"
            return ("lit", "") if m and m.group(1) in ("=", "!", "<=", "<!") else node
        if c == "[":
            return ("chars", self._class())
        if c == "\\":
            return self._escape()
        return ("chars", _ANY) if c == "." else ("lit", "" if c in "^$" else c)

    def _escape(self) -> Node:
        c = self._next()
        if c in _CLASSES:
            return ("chars", _CLASSES[c])
        if c == "u":
            self.i += 4
            return ("lit", chr(int(self.p[self.i - 4:self.i], 16)))
        # Anchors and backreferences consume nothing we could generate.
        return ("lit", "" if c in "bBAZz" or c.isdigit() else _CONTROL.get(c, c))

    def _class(self) -> str:
        negate = self._at() == "^"
        self.i += negate
        chars, start = "", self.i
        while self._at() and (self._at() != "]" or self.i == start):  # a leading "]" is literal
            node = self._escape() if self._next() == "\\" else ("lit", self.p[self.i - 1])
            if node[0] == "lit" and node[1] and self._at() == "-" and self._at(1) not in ("]", ""):
                self.i += 1  # a range such as a-z
                end = (self._escape()[1][:1] if self._next() == "\\" else self.p[self.i - 1]) or node[1]
                chars += "".join(map(chr, range(ord(node[1]), min(ord(end), ord(node[1]) + 255) + 1)))
            else:
                chars += node[1]
        self.i += 1  # "]"
        return "".join(ch for ch in _ANY if ch not in chars) if negate else chars

    def _quant(self, node: Node) -> Node:
        m = re.match(r"[?*+]|\{(\d*)(,?)(\d*)\}", self.p[self.i:])
        if not m or (m.group(0)[0] == "{" and not (m.group(1) or m.group(3))):
            return node  # a "{" that is no quantifier is parsed as a literal next
        self.i += len(m.group(0))
        lo, hi = _QUANT.get(m.group(0)) or (int(m.group(1) or 0), None)
        if m.group(0)[0] == "{":
            hi = lo if not m.group(2) else int(m.group(3)) if m.group(3) else None
        self.i += self._at() in ("?", "+")  # lazy / possessive: same language
        return ("rep", node, lo, hi)

    def sample(self, rng: random.Random, extra: int, stretch: bool) -> str:
        """``extra`` caps unbounded repeats above their minimum; ``stretch`` always takes the
        largest count (to reach a minLength)."""
        def emit(n: Node) -> str:
            if n[0] in ("lit", "chars"):
                return n[1] if n[0] == "lit" else rng.choice(n[1]) if n[1] else ""
            if n[0] == "alt":
                return "".join(emit(x) for x in rng.choice(n[1]))
            _, sub, lo, hi = n
            top = lo + extra if hi is None else min(hi, lo + max(extra, 8))
            return "".join(emit(sub) for _ in range(top if stretch else rng.randint(lo, top)))
        return emit(self.tree)


# ---------------------------------------------------------------------------- plausible strings
_NAMES = ["Alice", "Bob", "Carol", "Dmitri", "Eve", "Farah"]
# Field-name tokens -> sample words, or a format name (a field called "email" wants one).
_HINTS: dict[tuple[str, ...], list[str] | str] = {
    ("city",): ["Paris", "Tokyo", "Boston", "Berlin", "Nairobi", "Lima"],
    ("location", "address"): ["San Francisco, CA", "London, UK", "Tokyo, JP", "Austin, TX"],
    ("country",): ["France", "Japan", "Brazil", "Canada", "Kenya"], ("name", "author", "username"): _NAMES,
    ("color", "colour"): ["red", "green", "blue", "orange"], ("currency",): ["USD", "EUR", "JPY", "GBP"],
    ("lang", "language", "locale"): ["en", "fr", "de", "ja"], ("unit", "units"): ["celsius", "fahrenheit"],
    ("status", "state"): ["active", "pending", "done"],
    ("q", "query", "search", "prompt", "question"): ["weather in Paris", "best coffee nearby"],
    ("title", "subject", "heading"): ["Quarterly report", "Team offsite plan", "Release notes"],
    ("text", "description", "content", "message", "body", "summary", "comment", "note", "reason"):
        ["A short example text.", "This is a sample message.", "Everything looks good."],
    ("email",): "email", ("url", "uri", "link", "website"): "uri", ("uuid", "guid"): "uuid",
    ("timestamp", "at", "datetime"): "date-time", ("date", "birthday"): "date",
}
_FORMAT_ALIASES = {"idn-email": "email", "url": "uri", "iri": "uri", "uri-reference": "uri",
                   "iri-reference": "uri", "idn-hostname": "hostname"}
_GENERIC = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]


def _tokens(hint: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", hint).lower()) if t]


def _format(fmt: str, rng: random.Random, hint: str) -> str | None:
    mo, d, h, mi = rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.choice((0, 15, 30, 45))
    n, slug = rng.randint(1, 254), "-".join(_tokens(hint)) or "item"
    makers: dict[str, Callable[[], str]] = {
        "date-time": lambda: f"2024-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00Z",
        "date": lambda: f"2024-{mo:02d}-{d:02d}",
        "time": lambda: f"{h:02d}:{mi:02d}:00Z",
        "email": lambda: f"{rng.choice(_NAMES).lower()}@example.com",
        "uri": lambda: f"https://example.com/{slug}/{n}",
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ipv4": lambda: f"192.0.2.{n}",  # TEST-NET-1, the documentation range
        "ipv6": lambda: f"2001:db8::{n:x}",
        "hostname": lambda: f"{slug}.example.com",
    }
    maker = makers.get(_FORMAT_ALIASES.get(fmt, fmt))
    return maker() if maker else None


def _plausible(rng: random.Random, hint: str) -> str:
    toks = _tokens(hint)
    if toks and toks[-1] == "id":  # "user_id" -> "user_48213"
        return f"{toks[0] if len(toks) > 1 else 'obj'}_{rng.randint(1000, 99999)}"
    for tok in toks:
        for names, choice in _HINTS.items():
            if tok in names:
                return rng.choice(choice) if isinstance(choice, list) else _format(choice, rng, hint) or ""
    return f"{'-'.join(toks)}-{rng.randint(1, 999)}" if toks else rng.choice(_GENERIC)


def _singular(hint: str) -> str:  # items of "cities" are named like a "city"
    return re.sub(r"(?<=[^s])s$", "", re.sub(r"ies$", "y", hint))


# ---------------------------------------------------------------------------- generator
_INFER = (("object", ("properties", "required", "additionalProperties", "patternProperties",
                      "minProperties", "maxProperties")),
          ("array", ("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")),
          ("string", ("minLength", "maxLength", "pattern", "format")),
          ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")))
_ALL_TYPES = ("string", "integer", "object", "array", "boolean", "null")


def _cost(schema: Any) -> int:  # small, $ref-free branches end a recursion soonest
    return len(_canon(schema)) + 1000 * ('"$ref"' in _canon(schema))


class _Gen:
    def __init__(self, root: Any, seed: int, validator: Any, optional: str = "some") -> None:
        self.v = validator
        self.optional = optional
        # The validator's dialect decides what counts as a subschema (draft-07 tuple items).
        dialect = specification_with(validator.META_SCHEMA.get("$schema", ""), default=DRAFT202012)
        resource = Resource.from_contents(root, default_specification=dialect)
        base = resource.id() or ""
        self.refs = Registry().with_resource(base, resource).crawl().resolver(base_uri=base)
        # One stream consumed in traversal order: deterministic for (schema, seed, hint).
        self.rng = random.Random(f"synth:{seed}")
        self.budget = BUDGET

    def ok(self, schema: Any, value: Any) -> bool:
        # evolve() keeps the root's resolver, so local $refs inside subschemas still resolve.
        return bool(self.v.evolve(schema=schema).is_valid(value))

    def flatten(self, schema: Any) -> Schema:
        """Inline $ref and allOf into one keyword set (bounded, so $ref cycles terminate)."""
        out = _merge(schema, True)
        for _ in range(32):
            if "$ref" in out:
                try:  # resolved against the root: nested $id scopes are not tracked
                    target = self.refs.lookup(out.pop("$ref")).contents
                except Unresolvable:
                    target = {}  # e.g. a remote ref: the final validation reports it
                out = _merge(out, target)
            elif "allOf" in out:
                for part in out.pop("allOf"):
                    out = _merge(out, part)
            elif isinstance(out.get("not"), dict) and list(out["not"]) == ["not"]:
                out = _merge(out, out.pop("not")["not"])  # double negation
            else:
                break
        return out

    def gen(self, schema: Any, hint: str, depth: int) -> Any:
        self.budget -= 1
        if depth > HARD_DEPTH or self.budget < 0:
            raise _GiveUp
        s = self.flatten(schema)
        if "const" in s:
            return copy.deepcopy(s["const"])
        if "enum" in s:
            fits = [e for e in s["enum"] if self.ok(s, e)] or s["enum"]
            return copy.deepcopy(self.rng.choice(fits)) if fits else None
        for key in ("oneOf", "anyOf"):
            if key in s:
                rest = {k: v for k, v in s.items() if k != key}
                branches = sorted(s[key], key=_cost) if depth >= MAX_DEPTH else s[key]
                return self.first_valid(s, [_merge(rest, self.flatten(b)) for b in branches], hint, depth)
        if "if" in s:  # the "then" world first, else the "else" world
            rest = {k: v for k, v in s.items() if k not in ("if", "then", "else")}
            worlds = [_merge(_merge(rest, s["if"]), s.get("then", True)),
                      _merge(_merge(rest, {"not": s["if"]}), s.get("else", True))]
            return self.first_valid(s, worlds, hint, depth)
        if "not" in s:
            rest = {k: v for k, v in s.items() if k != "not"}
            return self.first_valid(s, [rest, *(_merge(rest, {"type": t}) for t in _ALL_TYPES)], hint, depth)
        types = self.types(s, depth)
        if len(types) > 1:
            return self.first_valid(s, [{**s, "type": t} for t in types], hint, depth)
        t = types[0]
        if t in ("object", "array"):
            return (self.object if t == "object" else self.array)(s, hint, depth)
        if t in ("integer", "number"):
            return self.number(s, t == "integer")
        if t == "boolean":
            return self.rng.random() < 0.5
        return None if t == "null" else self.string(s, hint)

    def first_valid(self, whole: Schema, candidates: list[Schema], hint: str, depth: int) -> Any:
        """The first value generated from the candidates in turn that is valid under ``whole``
        (for oneOf: matches exactly one branch); else the first value, to be reported."""
        values = []
        for cand in candidates:
            try:
                value = self.gen(cand, hint, depth)
            except _GiveUp:
                if self.budget < 0:
                    raise
                continue  # this branch never bottoms out: try the next one
            if self.ok(whole, value):
                return value
            values.append(value)
        if not values:
            raise _GiveUp
        return values[0]

    def types(self, s: Schema, depth: int) -> list[str]:
        t = s.get("type")
        if not t:
            inferred = [name for name, keys in _INFER if any(k in s for k in keys)]
            return inferred[:1] or ["string"]  # true / {}: a short string
        t = [t] if isinstance(t, str) else t
        non_null = [x for x in t if x != "null"]
        if "null" not in t:
            return non_null
        # Null goes first only when deep: the cheapest way to end a recursive structure.
        return ["null", *non_null] if depth >= MAX_DEPTH else [*non_null, "null"]

    def object(self, s: Schema, hint: str, depth: int) -> dict[str, Any]:
        props, patterns = s.get("properties", {}), s.get("patternProperties", {})
        addl = s.get("additionalProperties", True)
        required = list(dict.fromkeys(s.get("required", [])))
        optional = [k for k in props if k not in required]
        chosen = self.chosen_optional(optional, depth)
        # minProperties takes the other declared properties first, then invented names.
        invented = [] if addl is False else [f"{'_'.join(_tokens(hint)) or 'extra'}_{i}" for i in range(8)]
        n = max(len(required) + len(chosen), s.get("minProperties", 0))
        n = min(n, max(s.get("maxProperties", n), len(required)))  # drops optional keys only
        keys = list(dict.fromkeys(required + chosen + optional + invented))[:n]
        out: dict[str, Any] = {}
        for k in sorted(keys, key=lambda k: list(props).index(k) if k in props else len(props)):
            matching = [p for pat, p in patterns.items() if re.search(pat, k)]
            sub = props.get(k, {} if matching or not isinstance(addl, dict) else addl)
            for p in matching:
                sub = _merge(sub, p)
            if k in required:
                out[k] = self.gen(sub, k, depth + 1)
                continue
            try:  # an optional property we cannot fill is left out rather than fail the reply
                value = self.gen(sub, k, depth + 1)
            except _GiveUp:
                if self.budget < 0:
                    raise
                continue
            if self.ok(sub, value):
                out[k] = value
        return out

    def chosen_optional(self, optional: list[str], depth: int) -> list[str]:
        if depth >= MAX_DEPTH or self.optional == "none":
            return []
        if self.optional == "all":
            return optional
        return [k for k in optional if self.rng.random() < 0.5][:MAX_OPTIONAL]

    def array(self, s: Schema, hint: str, depth: int) -> list[Any]:
        prefix, items = s.get("prefixItems", []), s.get("items", {})
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = items, s.get("additionalItems", {})
        # A tuple reads best complete; past MAX_DEPTH only what minItems demands.
        n = s.get("minItems", 0) if depth >= MAX_DEPTH else max(s.get("minItems", 0), 1, len(prefix))
        n = min(n, s.get("maxItems", n), len(prefix) if items is False else n)
        seen: set[str] = set()
        out = []
        for i in range(n):
            sub = prefix[i] if i < len(prefix) else items
            sub = _merge(sub, s["contains"]) if i == 0 and "contains" in s else sub
            for _ in range(UNIQUE_TRIES if s.get("uniqueItems") else 1):  # retries: fresh RNG state
                value = self.gen(sub, _singular(hint), depth + 1)
                if _canon(value) not in seen:
                    break
            seen.add(_canon(value))
            out.append(value)
        return out

    def number(self, s: Schema, integer: bool) -> int | float:
        lo, hi = s.get("minimum"), s.get("maximum")
        if "exclusiveMinimum" in s and (lo is None or s["exclusiveMinimum"] >= lo):
            lo = s["exclusiveMinimum"]
        if "exclusiveMaximum" in s and (hi is None or s["exclusiveMaximum"] <= hi):
            hi = s["exclusiveMaximum"]
        if lo is None:  # unbounded sides get a small, human-looking range
            lo = 0 if hi is None or hi > 0 else hi - 100
        hi = max(lo, 0) + 100 if hi is None else hi
        step = s.get("multipleOf") or 1
        if not integer and "multipleOf" not in s and 0 < hi - lo < 10:  # narrow: 0.1-ish steps
            step = 10.0 ** (math.floor(math.log10(hi - lo)) - 1)
        k_lo, k_hi = math.ceil(lo / step), math.floor(hi / step)
        span = k_hi - k_lo + 1
        start = self.rng.randint(k_lo, k_hi) if span > 0 else 0
        # Scan multiples from a random one: bounds may be exclusive, and jsonschema's float
        # multipleOf check rejects some products (0.07 / 0.01 != 7).
        for j in range(min(span, 64)):
            base = round((k_lo + (start - k_lo + j) % span) * step, 12)
            # A plain "number" reads better as 21.5, and stays distinct from "integer".
            for value in (base + 0.5, base) if not integer and step == 1 else (base,):
                value = int(value) if float(value).is_integer() else value
                if self.ok(s, value):
                    return value
        mid = (lo + hi) / 2  # no usable multiple (e.g. 0 < x < 1)
        return int(mid) if integer and mid.is_integer() else mid

    def string(self, s: Schema, hint: str) -> str:
        lo, hi, pattern = s.get("minLength", 0), s.get("maxLength"), s.get("pattern")
        text = _format(s["format"], self.rng, hint) if "format" in s else None
        if text is None:  # only free text is padded / cut: that would break a format
            limit = hi if hi is not None else max(lo, MAX_STR)
            word = text = _plausible(self.rng, hint)
            if len(word) > limit:  # cutting would drop the varying part: use a short word
                word = text = self.rng.choice(_GENERIC)
            while len(text) < lo:
                text += "-" + word
            text = text[:limit]
        if not pattern or re.search(pattern, text):
            return text
        try:
            regex = _Regex(pattern)
        except (ValueError, IndexError):  # outside the subset (e.g. a malformed \u escape)
            return text
        for extra, stretch in [(3, False)] * 6 + [(max(lo, 1), True)]:
            sample = regex.sample(self.rng, extra, stretch)
            if lo <= len(sample) <= (len(sample) if hi is None else hi) and re.search(pattern, sample):
                return sample
        return text


def instance(schema: Any, *, seed: int = 0, hint: str = "", optional: str = "some") -> Any:
    """A JSON value valid under ``schema``; deterministic for (schema, seed, hint, optional).

    ``hint`` names the value (e.g. the function name) and shapes plausible strings. ``optional`` is one
    of OPTIONAL_MODES; "all" falls back to "some" for a schema whose every optional branch would not
    fit the size budget (wide recursive structures).
    Raises UnsatisfiableSchema if the schema is invalid or no generated value validates.
    """
    if optional not in OPTIONAL_MODES:
        raise ValueError(f"optional must be one of {OPTIONAL_MODES}, not {optional!r}")
    try:
        validator = _validator(_canon(schema))
    except (SchemaError, TypeError, ValueError) as exc:
        raise UnsatisfiableSchema(f"invalid JSON Schema: {exc}") from exc
    try:
        try:
            value = _Gen(schema, seed, validator, optional).gen(schema, hint, 0)
        except _GiveUp:
            if optional != "all":
                raise
            value = _Gen(schema, seed, validator, "some").gen(schema, hint, 0)
        error = best_match(validator.iter_errors(value))
    except _GiveUp as exc:
        raise UnsatisfiableSchema("no finite instance found within the depth/size limits") from exc
    except (re.error, RecursionError, Unresolvable) as exc:
        raise UnsatisfiableSchema(f"cannot generate an instance: {exc}") from exc
    if error is not None:
        raise UnsatisfiableSchema(f"no valid instance found: {error.message}")
    return value


def tool_arguments(parameters: Any, *, seed: int = 0, hint: str = "", optional: str = "some") -> Any:
    """Arguments for a function call, valid under the function's ``parameters`` schema.

    A function declared without parameters (or with a non-object) takes an empty object, as every
    format's tools allow. ``optional`` as for ``instance``. Raises UnsatisfiableSchema like ``instance``.
    """
    schema = parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}
    return instance(schema, seed=seed, hint=hint, optional=optional)
