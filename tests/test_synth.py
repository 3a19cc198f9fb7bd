"""Tests for mockserver.synth: schema-driven, deterministic instance generation."""
from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator, validators

from mockserver.synth import MAX_DEPTH, MAX_OPTIONAL, MAX_STR, UnsatisfiableSchema, instance

DRAFT7 = "http://json-schema.org/draft-07/schema#"


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required is not None:
        schema["required"] = required
    return schema


STR = {"type": "string"}
INT = {"type": "integer"}
ADDRESS = obj({"street": STR, "city": STR, "zip": {"type": "string", "pattern": r"^\d{5}$"}},
              ["street", "city", "zip"], additionalProperties=False)

# (name, schema): the name doubles as the hint, like a function name for tool calls.
SCHEMAS: list[tuple[str, Any]] = [
    ("get_weather", obj({"location": {"type": "string", "description": "City and state"},
                         "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                        ["location", "unit"], additionalProperties=False)),
    ("get_current_weather", obj({"city": STR, "unit": {"enum": ["celsius", "fahrenheit"]}}, ["city"])),
    ("search_web", obj({"query": {"type": "string", "minLength": 1, "maxLength": 200},
                        "num_results": {"type": "integer", "minimum": 1, "maximum": 10},
                        "safe_search": {"type": "boolean"}}, ["query"])),
    ("send_email", obj({"to": {"type": "string", "format": "email"},
                        "cc": {"type": "array", "items": {"type": "string", "format": "email"}},
                        "subject": STR, "body": STR}, ["to", "subject", "body"])),
    ("create_event", obj({"title": STR,
                          "start": {"type": "string", "format": "date-time"},
                          "end": {"type": "string", "format": "date-time"},
                          "attendees": {"type": "array", "minItems": 1,
                                        "items": obj({"name": STR, "email": {"type": "string", "format": "email"}},
                                                     ["name", "email"])},
                          "location": {"type": ["string", "null"]}},
                         ["title", "start", "end", "attendees", "location"], additionalProperties=False)),
    ("book_flight", obj({"origin": {"type": "string", "pattern": "^[A-Z]{3}$"},
                         "destination": {"type": "string", "pattern": "^[A-Z]{3}$"},
                         "date": {"type": "string", "format": "date"},
                         "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
                         "cabin": {"enum": ["economy", "premium", "business", "first"]}},
                        ["origin", "destination", "date", "passengers"])),
    ("place_order", obj({"items": {"type": "array", "minItems": 1, "items": obj(
        {"sku": {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"},
         "quantity": {"type": "integer", "minimum": 1},
         "price": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01}},
        ["sku", "quantity", "price"], additionalProperties=False)}}, ["items"])),
    ("api_key", {"type": "string", "pattern": "^sk-[A-Za-z0-9]{48}$"}),
    ("sku", {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"}),
    ("http_method", {"type": "string", "pattern": "^(GET|POST|PUT|DELETE)$"}),
    ("phone", {"type": "string", "pattern": r"^\+?[1-9]\d{1,14}$"}),
    ("hex_color", {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}),
    ("request_id", {"type": "string", "format": "uuid"}),
    ("server", obj({"ip": {"type": "string", "format": "ipv4"}, "host": {"type": "string", "format": "hostname"},
                    "url": {"type": "string", "format": "uri"}, "opens": {"type": "string", "format": "time"}},
                   ["ip", "host", "url", "opens"])),
    ("probability", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
    ("bucket", {"type": "integer", "minimum": 12, "maximum": 48, "multipleOf": 5}),
    ("quarter_steps", {"type": "number", "minimum": -3, "maximum": -1, "multipleOf": 0.25}),
    ("negative", {"type": "integer", "exclusiveMaximum": 0}),
    ("temperature", {"type": "number", "minimum": -273.15}),
    ("shape", {"oneOf": [
        obj({"kind": {"const": "circle"}, "radius": {"type": "number", "minimum": 0}}, ["kind", "radius"]),
        obj({"kind": {"const": "rect"}, "width": {"type": "number"}, "height": {"type": "number"}},
            ["kind", "width", "height"])]}),
    ("int_or_positive", {"oneOf": [INT, {"type": "number", "minimum": 0}]}),
    ("due", {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}),
    ("user", {"$defs": {"base": obj({"id": INT, "name": STR}, ["id", "name"])},
              "allOf": [{"$ref": "#/$defs/base"}, obj({"email": {"type": "string", "format": "email"}}, ["email"])]}),
    ("checkout", {"$defs": {"address": ADDRESS},
                  **obj({"billing": {"$ref": "#/$defs/address"}, "shipping": {"$ref": "#/$defs/address"}},
                        ["billing", "shipping"])}),
    ("tree", {"$defs": {"node": obj({"name": STR, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                                    ["name", "children"])},
              "$ref": "#/$defs/node"}),
    ("linked_list", {"$defs": {"node": obj({"value": INT, "next": {"anyOf": [{"$ref": "#/$defs/node"},
                                                                             {"type": "null"}]}},
                                           ["value", "next"])},
                     "$ref": "#/$defs/node"}),
    ("settings", obj({k: {"type": "boolean"} for k in ("dark_mode", "beta", "emails", "sms", "push")},
                     ["dark_mode"], additionalProperties=False)),
    ("versioned", obj({"version": {"const": "v1"}, "payload": obj({"data": STR}, ["data"])}, ["version", "payload"])),
    ("nickname", {"type": ["string", "null"], "maxLength": 5}),
    ("maybe_count", {"type": ["null", "integer"], "minimum": 0}),
    ("colors", {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "uniqueItems": True, "minItems": 3}),
    ("tags", {"type": "array", "items": STR, "minItems": 3, "uniqueItems": True}),
    ("nothing", {"type": "array", "items": INT, "maxItems": 0}),
    ("coordinates", {"type": "array", "prefixItems": [{"type": "number", "minimum": -90, "maximum": 90},
                                                      {"type": "number", "minimum": -180, "maximum": 180}],
                     "items": False}),
    ("draft7_tuple", {"$schema": DRAFT7, "definitions": {"name": {"type": "string", "minLength": 2}},
                      "type": "array", "items": [{"$ref": "#/definitions/name"}, INT], "additionalItems": False}),
    ("headers", {"type": "object", "patternProperties": {"^x-[a-z-]+$": STR}, "additionalProperties": False,
                 "required": ["x-request-id"]}),
    ("labels", {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}, "minProperties": 2}),
    ("username", {"type": "string", "minLength": 3, "not": {"enum": ["admin", "root"]}}),
    ("not_text", {"not": {"type": ["string", "object"]}}),
    ("anything", {}),
    ("true_schema", True),
    ("mixed_enum", {"enum": [1, "two", None, {"three": 3}]}),
    ("essay", {"type": "string", "minLength": 100}),
    ("math_reasoning", obj({"steps": {"type": "array", "items": obj({"explanation": STR, "output": STR},
                                                                    ["explanation", "output"],
                                                                    additionalProperties=False)},
                            "final_answer": STR}, ["steps", "final_answer"], additionalProperties=False)),
    ("int_or_str", {"type": ["integer", "string"], "minimum": 10, "maximum": 20}),
    ("with_contains", {"type": "array", "items": STR, "contains": {"const": "urgent"}}),
    ("bounded_object", obj({k: INT for k in "abcdef"}, ["a"], minProperties=3, maxProperties=4)),
    ("shipping_address", {**obj({"country": {"enum": ["US", "CA"]}, "zip": STR, "postal_code": STR}, ["country"]),
                          "if": obj({"country": {"const": "US"}}, ["country"]),
                          "then": {"required": ["zip"]}, "else": {"required": ["postal_code"]}}),
]
IDS = [name for name, _ in SCHEMAS]
# Schemas that admit exactly one value (or where the seed cannot matter).
FIXED = {"nothing", "with_contains"}


def validator_for(schema: Any) -> Any:
    cls = validators.validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(schema: Any, value: Any) -> None:
    # What a client does with a response_format reply: serialise, parse, validate.
    parsed = json.loads(json.dumps(value))
    assert parsed == value
    errors = [e.message for e in validator_for(schema).iter_errors(parsed)]
    assert not errors, (value, errors)


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [s for child in children for s in strings_in(child)]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=IDS)
def test_output_validates(name: str, schema: Any, seed: int) -> None:
    value = instance(schema, seed=seed, hint=name)
    assert_valid(schema, value)
    assert depth_of(value) <= MAX_DEPTH + 2
    if name != "essay":
        assert all(len(s) <= MAX_STR for s in strings_in(value))


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=IDS)
def test_deterministic_per_seed(name: str, schema: Any) -> None:
    first = json.dumps(instance(schema, seed=7, hint=name))
    assert json.dumps(instance(schema, seed=7, hint=name)) == first
    if name not in FIXED:
        assert len({json.dumps(instance(schema, seed=s, hint=name)) for s in range(10)}) > 1


def test_tool_call_arguments_look_plausible() -> None:
    schema = dict(SCHEMAS)["get_current_weather"]
    args = instance(schema, seed=1)
    assert args["city"] in {"Paris", "Tokyo", "Boston", "Berlin", "Nairobi", "Lima"}
    user = instance(obj({"user_id": STR, "created_at": STR, "homepage_url": STR}, ["user_id", "created_at",
                                                                                   "homepage_url"]))
    assert re.fullmatch(r"user_\d+", user["user_id"])
    datetime.fromisoformat(user["created_at"])
    assert urlparse(user["homepage_url"]).scheme == "https"


def test_formats_are_real() -> None:
    server = instance(dict(SCHEMAS)["server"], seed=3)
    time.fromisoformat(server["opens"])
    assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", server["host"])
    parsed = urlparse(server["url"])
    assert parsed.scheme == "https" and parsed.netloc
    event = instance(dict(SCHEMAS)["create_event"], seed=3)
    datetime.fromisoformat(event["start"])
    date.fromisoformat(instance({"type": "string", "format": "date"}))
    assert uuid.UUID(instance({"type": "string", "format": "uuid"})).version == 4


def test_additional_properties_false_adds_nothing() -> None:
    schema = dict(SCHEMAS)["settings"]
    for seed in range(10):
        value = instance(schema, seed=seed)
        assert "dark_mode" in value and set(value) <= set(schema["properties"])


def test_unique_enum_items_cover_all_members() -> None:
    for seed in range(10):
        assert sorted(instance(dict(SCHEMAS)["colors"], seed=seed)) == ["blue", "green", "red"]


def test_recursion_terminates_with_small_output() -> None:
    for name in ("tree", "linked_list"):
        value = instance(dict(SCHEMAS)[name])
        assert depth_of(value) <= 2 * (MAX_DEPTH + 1)
        assert len(json.dumps(value)) < 2000


def test_sizes_stay_small() -> None:
    assert len(instance({"type": "array", "items": INT})) == 1
    assert len(instance({"type": "array", "items": INT, "minItems": 3, "maxItems": 5})) == 3
    assert instance({"type": "array", "items": INT, "maxItems": 0}) == []
    wide = obj({f"field_{i}": INT for i in range(20)}, ["field_0"])
    assert all(1 <= len(instance(wide, seed=seed)) <= 1 + MAX_OPTIONAL for seed in range(10))


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
@pytest.mark.parametrize("optional", ["all", "none"])
def test_every_optional_mode_validates(name: str, schema: Any, optional: str) -> None:
    for seed in range(3):
        assert_valid(schema, instance(schema, seed=seed, hint=name, optional=optional))


def test_optional_all_fills_every_optional_property_and_none_only_the_required() -> None:
    wide = obj({f"field_{i}": INT for i in range(20)}, ["field_0"])
    nested = obj({"inner": obj({"a": INT, "b": STR}, []), "tag": STR}, [])
    for seed in range(5):
        assert set(instance(wide, seed=seed, optional="all")) == {f"field_{i}" for i in range(20)}
        assert set(instance(wide, seed=seed, optional="none")) == {"field_0"}
        assert instance(nested, seed=seed, optional="none") == {}
        full = instance(nested, seed=seed, optional="all")
        assert set(full) == {"inner", "tag"} and set(full["inner"]) == {"a", "b"}
    # The same request gives the same full object.
    assert instance(wide, seed=3, optional="all") == instance(wide, seed=3, optional="all")


def test_optional_all_falls_back_for_wide_recursion() -> None:
    """Five optional recursive children per node would be 5**6 nodes: the budget keeps the reply small."""
    node = {"$defs": {"n": obj({k: {"$ref": "#/$defs/n"} for k in "abcde"} | {"v": INT}, ["v"])}, "$ref": "#/$defs/n"}
    assert_valid(node, instance(node, optional="all"))


def test_an_unknown_optional_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="optional must be one of"):
        instance(STR, optional="most")


def test_unfillable_optional_property_is_left_out() -> None:
    schema = obj({"id": False, "code": {"type": "string", "minLength": 3, "maxLength": 1}, "name": STR}, ["name"])
    for seed in range(10):
        assert set(instance(schema, seed=seed)) == {"name"}


def test_undeclared_draft7_tuple_items() -> None:
    schema = {"type": "array", "items": [STR, INT], "additionalItems": False}
    value = instance(schema)
    assert Draft7Validator(schema).is_valid(value) and len(value) == 2


@pytest.mark.parametrize("pattern", [
    r"^[A-Z]{3}-\d{4}$", "^sk-[A-Za-z0-9]{48}$", r"^\d{3}-\d{3}-\d{4}$", r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
    r"^(?:https?|ftp)://[a-z]+\.com$", r"^v\d+(\.\d+){2}(-[a-z]+)?$", r"[^aeiou\s]{4,6}", r"^(?P<year>\d{4})-\d\d$",
    r"^[\w.-]+$", r"colou?r", r"^a{2,}b*c+$", r"^(ab|cd){2}\1?$", r"^[]a-]+$", r"^\u00e9t[eé]$", r"^x(?=y)y$",
    r"^\$\d+\.\d{2}$", r"^[A-Z][a-z]+(?: [A-Z][a-z]+)*$",
])
def test_pattern_strings(pattern: str) -> None:
    for seed in range(5):
        value = instance({"type": "string", "pattern": pattern}, seed=seed)
        assert re.search(pattern, value), (pattern, value)


def test_pattern_with_length_bounds() -> None:
    schema = {"type": "string", "pattern": "^[a-z]+$", "minLength": 20, "maxLength": 30}
    assert_valid(schema, instance(schema))


@pytest.mark.parametrize("schema", [
    False,
    {"type": "integer", "minimum": 5, "maximum": 4},
    {"type": "string", "minLength": 5, "maxLength": 2},
    {"allOf": [STR, INT]},
    {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "minItems": 3},
    {"$defs": {"n": obj({"next": {"$ref": "#/$defs/n"}}, ["next"])}, "$ref": "#/$defs/n"},  # infinite
    {"$ref": "https://example.com/remote.json"},
    {"type": "frobnicate"},  # not a valid schema
    {"type": "string", "pattern": "("},  # invalid regex
    obj({}, ["id"], additionalProperties=False),
    # every branch recurses forever: must give up quickly, not explore 2**depth branches
    {"$defs": {"n": obj({"a": {"anyOf": [{"$ref": "#/$defs/n"}, {"$ref": "#/$defs/n"}]}}, ["a"])},
     "$ref": "#/$defs/n"},
])
def test_unsatisfiable_raises_value_error(schema: Any) -> None:
    with pytest.raises(UnsatisfiableSchema) as info:
        instance(schema)
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------------------- property tests
NAMES = st.sampled_from(["id", "name", "city", "count", "tags", "email", "created_at", "value", "note", "x"])
PATTERNS = [r"^[a-z]+$", r"^[A-Z]{2,4}$", r"^\d{3}-\d{2}$", "^(yes|no)$", "^[a-f0-9]{8}$", "^item_[0-9]+$",
            "colou?r", r"^\w+@\w+\.com$"]
FORMATS = ["date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-50, 50), st.text("abcxyz", max_size=5))


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "length", "pattern", "format"]))
    if kind == "length":
        schema["minLength"] = draw(st.integers(0, 80))
        if draw(st.booleans()):
            schema["maxLength"] = schema["minLength"] + draw(st.integers(0, 20))
    elif kind == "pattern":
        schema["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind == "format":
        schema["format"] = draw(st.sampled_from(FORMATS))
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    integer = draw(st.booleans())
    step = draw(st.sampled_from([None, 2, 3, 5] if integer else [None, 0.5, 0.25, 0.1, 3]))
    lo = draw(st.integers(-1000, 1000))
    hi = lo + draw(st.integers(3 * int(step or 1) + 2, 500))  # always room for a strictly inner multiple
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = lo
    if draw(st.booleans()):
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = hi
    if step:
        schema["multipleOf"] = step
    return schema


def nullable(schema: dict[str, Any], first: bool) -> dict[str, Any]:
    return {**schema, "type": ["null", schema["type"]] if first else [schema["type"], "null"]}


ENUMS = st.lists(SCALARS, min_size=1, max_size=5, unique_by=json.dumps).map(lambda e: {"enum": e})
SAFE_LEAVES = st.one_of(
    string_schemas(), number_schemas(), st.just({"type": "boolean"}), st.just({"type": "null"}), ENUMS,
    SCALARS.map(lambda c: {"const": c}), st.builds(nullable, st.one_of(string_schemas(), number_schemas()),
                                                  st.booleans()),
)


@st.composite
def safe_objects(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    props = draw(st.dictionaries(NAMES, children, min_size=1, max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "required": draw(st.lists(st.sampled_from(sorted(props)), unique=True))}
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


@st.composite
def safe_arrays(draw: st.DrawFn, children: st.SearchStrategy[Any]) -> dict[str, Any]:
    lo = draw(st.integers(0, 3))
    if draw(st.booleans()):  # unique items only where enough distinct values exist
        members = draw(st.lists(SCALARS, min_size=max(lo, 1), max_size=6, unique_by=json.dumps))
        return {"type": "array", "items": {"enum": members}, "minItems": lo, "uniqueItems": True}
    schema: dict[str, Any] = {"type": "array", "items": draw(children), "minItems": lo}
    if draw(st.booleans()):
        schema["maxItems"] = lo + draw(st.integers(0, 2))
    return schema


def safe_extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(safe_objects(children), safe_arrays(children),
                     st.lists(children, min_size=1, max_size=3).map(lambda bs: {"anyOf": bs}))


SAFE_SCHEMAS = st.recursive(SAFE_LEAVES, safe_extend, max_leaves=10).flatmap(
    # Sometimes route the whole schema through $defs/$ref, as generated SDK schemas do.
    lambda s: st.sampled_from([s, {"$defs": {"root": s}, "$ref": "#/$defs/root"}]))


@st.composite
def wild_numbers(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
                         unique=True))
    schema: dict[str, Any] = {"type": draw(st.sampled_from(["integer", "number"]))}
    schema.update({k: draw(st.integers(-20, 20)) for k in keys})
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.sampled_from([2, 7, 0.5, 0.3]))
    return schema


def wild_extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        safe_extend(children),
        lists.map(lambda bs: {"oneOf": bs}), lists.map(lambda bs: {"allOf": bs}),
        children.map(lambda c: {"not": c}),
        st.builds(lambda c, t, e: {"if": c, "then": t, "else": e}, children, children, children),
        st.builds(lambda c, n: {"type": "array", "items": c, "minItems": n, "uniqueItems": True},
                  children, st.integers(0, 4)),
        st.builds(lambda props, req: {"type": "object", "properties": props, "required": req,
                                      "additionalProperties": False},
                  st.dictionaries(NAMES, children, max_size=3), st.lists(NAMES, max_size=2, unique=True)),
    )


WILD_SCHEMAS = st.recursive(st.one_of(SAFE_LEAVES, wild_numbers(), st.booleans(), st.just({})), wild_extend,
                            max_leaves=8)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(schema=SAFE_SCHEMAS, seed=st.integers(0, 2**32))
def test_satisfiable_grammar_always_validates(schema: Any, seed: int) -> None:
    value = instance(schema, seed=seed)
    assert_valid(schema, value)
    assert json.dumps(instance(schema, seed=seed)) == json.dumps(value)


@PROPERTY_SETTINGS
@given(schema=WILD_SCHEMAS, seed=st.integers(0, 2**32))
def test_output_validates_unless_unsatisfiable(schema: Any, seed: int) -> None:
    try:
        value = instance(schema, seed=seed)
    except UnsatisfiableSchema:
        return
    assert_valid(schema, value)


# --- the helpers every format's replies share (mockserver.text, mockserver.synth.tool_arguments) ---


def test_generate_reports_which_stop_sequence_ended_the_reply() -> None:
    from mockserver.text import generate

    reply = generate("alpha beta. gamma END delta", stops=["END", "beta"])
    assert reply.text == "alpha " and reply.stop_sequence == "beta" and not reply.hit_limit


def test_generate_cuts_at_the_token_limit_after_the_stop_sequence() -> None:
    from mockserver.text import count_tokens, generate

    reply = generate("one two three four five", limit=3)
    assert reply.tokens == ["one", " two", " three"] and reply.hit_limit and reply.stop_sequence is None
    whole = generate("one two three", limit=10)
    assert not whole.hit_limit and len(whole.tokens) == count_tokens("one two three")


def test_closest_picks_the_candidate_with_most_shared_words_first_on_ties() -> None:
    from mockserver.text import closest

    assert closest("what is the weather in Paris", ["book_flight tickets", "get_weather forecast"]) == 1
    assert closest("nothing shared", ["a b", "c d"]) == 0


def test_tool_arguments_take_an_empty_object_without_parameters() -> None:
    from mockserver.synth import tool_arguments

    assert tool_arguments(None) == {}
    assert tool_arguments({"type": "object", "properties": {"q": STR}, "required": ["q"]}, seed=3, hint="search")["q"]
