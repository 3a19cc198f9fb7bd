"""JSON modes and generated objects as real libraries use them: instructor and LangChain against the fake.

``response_format: json_object`` carries no schema, so the libraries write it into the prompt
(instructor's Mode.JSON, LangChain's format instructions) or the prompt names the keys; the reply must
then parse into what they asked for. Tool-call arguments and structured replies fill optional
properties by default (instructor's ``create_iterable`` wrapper has only an optional ``tasks`` list);
``generated_json="minimal"`` asks for the required properties only.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import instructor
import openai
import pytest
from langchain_core.output_parsers import PydanticOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from openai_helpers import KEY, WEATHER_TOOL, sdk
from pydantic import BaseModel, Field

from mockserver.prompted_json import named_keys, schema_asked_for

MODEL = "gpt-4o-mini"


class Address(BaseModel):
    street: str
    city: str
    postcode: str | None = None


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=130)
    role: Literal["admin", "member", "guest"]
    addresses: list[Address]
    nickname: str | None = None


class Joke(BaseModel):
    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")
    rating: int | None = Field(default=None, description="how funny, 1 to 10")


def chat_model(gptnb: Any) -> ChatOpenAI:
    return ChatOpenAI(model=MODEL, base_url=gptnb.openai_base_url, api_key=KEY, max_retries=0)


# --- instructor ----------------------------------------------------------------------------------


def test_instructor_json_mode_gets_its_response_model(gptnb: Any) -> None:
    client = instructor.from_openai(sdk(gptnb), mode=instructor.Mode.JSON)
    person = client.chat.completions.create(
        model=MODEL, response_model=Person, messages=[{"role": "user", "content": "Extract: Ada, 36, admin, lives at 1 Main St, Paris"}]
    )
    assert isinstance(person, Person) and person.addresses
    sent = gptnb.calls.last.body
    assert sent["response_format"] == {"type": "json_object"} and "json_schema" in sent["messages"][0]["content"]


def test_instructor_json_mode_nested_models_and_streamed_partials(gptnb: Any) -> None:
    client = instructor.from_openai(sdk(gptnb), mode=instructor.Mode.JSON)
    partials = list(
        client.chat.completions.create_partial(model=MODEL, response_model=Person, messages=[{"role": "user", "content": "Ada"}], stream=True)
    )
    assert partials and isinstance(partials[-1], Person) and partials[-1].name


@pytest.mark.parametrize("mode", [instructor.Mode.JSON, instructor.Mode.TOOLS], ids=["json", "tools"])
def test_instructor_create_iterable_gets_items(gptnb: Any, mode: instructor.Mode) -> None:
    """The iterable wrapper's only property, ``tasks``, has a default, so it is optional in the schema."""
    client = instructor.from_openai(sdk(gptnb), mode=mode)
    for seed in range(6):
        people = list(
            client.chat.completions.create_iterable(
                model=MODEL, response_model=Person, messages=[{"role": "user", "content": "Ada and Alan"}], seed=seed
            )
        )
        assert people and all(isinstance(p, Person) for p in people), f"seed {seed}"


def test_instructor_tools_mode_fills_optional_fields(gptnb: Any) -> None:
    client = instructor.from_openai(sdk(gptnb), mode=instructor.Mode.TOOLS)
    for seed in range(6):
        joke = client.chat.completions.create(model=MODEL, response_model=Joke, messages=[{"role": "user", "content": "A joke about cats"}], seed=seed)
        assert joke.rating is not None, f"seed {seed}"


# --- LangChain -----------------------------------------------------------------------------------


def test_langchain_json_mode_with_format_instructions(gptnb: Any) -> None:
    """PydanticOutputParser's instructions hold an example schema first, then the real one."""
    parser = PydanticOutputParser(pydantic_object=Person)
    prompt = ChatPromptTemplate.from_messages([("system", "Answer the user query.\n{format_instructions}"), ("human", "{query}")])
    chain = prompt.partial(format_instructions=parser.get_format_instructions()) | chat_model(gptnb).with_structured_output(
        Person, method="json_mode"
    )
    person = chain.invoke({"query": "Ada is 36 and lives in Paris"})
    assert isinstance(person, Person) and person.addresses


def test_langchain_json_mode_with_the_keys_named_in_the_prompt(gptnb: Any) -> None:
    structured = chat_model(gptnb).with_structured_output(method="json_mode")
    answer = structured.invoke(
        "Answer the following question. Make sure to return a JSON blob with keys 'answer' and 'justification'.\n\n"
        "What's heavier a pound of bricks or a pound of feathers?"
    )
    assert set(answer) == {"answer", "justification"} and all(isinstance(v, str) for v in answer.values())


def test_langchain_json_mode_with_a_pydantic_schema_and_backticked_keys(gptnb: Any) -> None:
    structured = chat_model(gptnb).with_structured_output(Joke, method="json_mode")
    joke = structured.invoke("Tell me a joke about cats, respond in JSON with `setup` and `punchline` keys")
    assert isinstance(joke, Joke) and joke.setup and joke.punchline


def test_langchain_function_calling_gets_a_full_object(gptnb: Any) -> None:
    for topic in ("cats", "dogs", "owls", "bees", "cows", "eels"):
        joke = chat_model(gptnb).with_structured_output(Joke, method="function_calling").invoke(f"Tell me a joke about {topic}")
        assert isinstance(joke, Joke) and joke.rating is not None, topic


def test_a_json_mode_prompt_without_a_shape_still_gets_a_json_object(gptnb: Any) -> None:
    reply = sdk(gptnb).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "List three fruits as JSON."}], response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_a_streamed_json_mode_reply_follows_the_prompted_schema(gptnb: Any) -> None:
    schema = json.dumps(Joke.model_json_schema())
    stream = sdk(gptnb).chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": f"Reply in JSON matching this schema: {schema}"}, {"role": "user", "content": "cats"}],
        response_format={"type": "json_object"},
        stream=True,
    )
    content = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert Joke.model_validate_json(content).rating is not None


# --- full and minimal generated objects ----------------------------------------------------------


def weather_arguments(client: openai.OpenAI, seed: int = 0) -> dict[str, Any]:
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL], tool_choice="required", seed=seed
    )
    return json.loads(reply.choices[0].message.tool_calls[0].function.arguments)


def test_tool_arguments_fill_optional_properties_by_default(gptnb: Any) -> None:
    for seed in range(6):
        assert set(weather_arguments(sdk(gptnb), seed)) == {"city", "unit", "days"}, f"seed {seed}"


@pytest.mark.gptnb(generated_json="minimal")
def test_minimal_generated_json_fills_only_the_required_properties(gptnb: Any) -> None:
    for seed in range(6):
        assert set(weather_arguments(sdk(gptnb), seed)) == {"city", "unit"}, f"seed {seed}"
    joke = chat_model(gptnb).with_structured_output(Joke, method="function_calling").invoke("A joke")
    assert joke.rating is None


def test_full_objects_are_the_same_for_the_same_request(gptnb: Any) -> None:
    client = sdk(gptnb)
    assert weather_arguments(client) == weather_arguments(client)


# --- reading the prompt --------------------------------------------------------------------------


def test_the_last_schema_in_the_prompt_wins() -> None:
    instructions = PydanticOutputParser(pydantic_object=Joke).get_format_instructions()
    schema = schema_asked_for(["Answer the user query.\n" + instructions])
    assert schema is not None and set(schema["properties"]) == {"setup", "punchline", "rating"}


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Tell me a joke about cats, respond in JSON with `setup` and `punchline` keys", ["setup", "punchline"]),
        ("Make sure to return a JSON blob with keys 'answer' and 'justification'.", ["answer", "justification"]),
        ('Return JSON. Use the fields "title", "year" and "director".', ["title", "year", "director"]),
        ("Respond in JSON with keys: name, age and city", ["name", "age", "city"]),
        ("请用 JSON 回答，包含“标题”和“摘要”两个字段。", ["标题", "摘要"]),
        ("What's the weather? Answer in JSON.", []),
    ],
)
def test_named_keys(text: str, keys: list[str]) -> None:
    assert named_keys(text) == keys


def test_an_example_object_gives_its_shape() -> None:
    schema = schema_asked_for(['Reply in JSON like {"city": "Paris", "temperature": 21.5, "tags": ["sunny"], "raining": false}'])
    assert schema == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}, "tags": {"type": "array", "items": {"type": "string"}}, "raining": {"type": "boolean"}},
        "required": ["city", "temperature", "tags", "raining"],
    }


def test_a_prompt_that_asks_for_no_shape_has_none() -> None:
    assert schema_asked_for(["List three fruits as JSON.", "You are helpful."]) is None
