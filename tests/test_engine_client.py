"""The engine client: typed errors on every failure, and user text never read as an intent."""

import json

import httpx
import pytest

from bot.engine.client import EngineClient
from bot.errors import EngineProtocolError, EngineUnavailable

PARSE = {"intent": {"name": "asylum_registration", "confidence": 0.91},
         "intent_ranking": [{"name": "asylum_registration", "confidence": 0.91},
                            {"name": "asylum_overview", "confidence": 0.05}]}


def client_for(handler) -> EngineClient:  # type: ignore[no-untyped-def]
    return EngineClient("http://engine.test", "secret", 1.0, transport=httpx.MockTransport(handler))


async def test_parse_returns_the_intent_confidence_and_ranking() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["body"] = json.loads(request.content)
        seen["token"] = request.url.params.get("token")
        return httpx.Response(200, json=PARSE)

    parse = await client_for(handler).parse("//intent_name how do I apply")
    assert parse.intent == "asylum_registration" and parse.confidence == pytest.approx(0.91)
    assert parse.ranking[1] == ("asylum_overview", 0.05)
    assert seen == {"body": {"text": "intent_name how do I apply"}, "token": "secret"}


async def test_a_message_is_one_call_returning_the_parse_and_the_replies() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["path"], seen["auth"] = request.url.path, request.headers["Authorization"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={
            "intent": "rights_detention", "confidence": 0.8,
            "ranking": [["rights_detention", 0.8], ["rights_police", 0.1]],
            "messages": [{"recipient_id": "abc", "custom": {"topic": "rights_detention"}},
                         {"recipient_id": "abc", "text": "stray"}]})

    turn = await client_for(handler).message("abc", text="  /greet I was arrested")
    assert seen == {"path": "/webhooks/assistant/message", "auth": "Bearer secret",
                    "body": {"sender": "abc", "text": "greet I was arrested"}}
    assert (turn.parse.intent, turn.parse.confidence) == ("rights_detention", 0.8)
    assert turn.parse.ranking[1] == ("rights_police", 0.1)
    assert turn.payloads == [{"topic": "rights_detention"}]


async def test_a_button_sends_its_intent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"sender": "abc", "intent": "rights_work"}
        return httpx.Response(200, json={"intent": "rights_work", "confidence": 1.0, "ranking": [],
                                         "messages": [{"custom": {"topic": "rights_work"}}]})

    assert (await client_for(handler).message("abc", intent="rights_work")).payloads == [{"topic": "rights_work"}]


@pytest.mark.parametrize("bad", ["hello world", "/greet", "greet{\"x\":1}", ""])
async def test_a_button_intent_must_be_an_intent_name(bad: str) -> None:
    with pytest.raises(ValueError):
        await client_for(lambda r: httpx.Response(200, json={})).message("abc", intent=bad)


async def test_a_timeout_is_engine_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(EngineUnavailable):
        await client_for(handler).parse("hello")


async def test_a_refused_connection_is_engine_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(EngineUnavailable):
        await client_for(handler).parse("hello")


async def test_a_server_error_is_engine_unavailable() -> None:
    with pytest.raises(EngineUnavailable):
        await client_for(lambda r: httpx.Response(503, text="busy")).parse("hello")


@pytest.mark.parametrize("response", [
    httpx.Response(200, text="<html>not json</html>"),
    httpx.Response(200, json={"unexpected": True}),
    httpx.Response(401, json={"message": "unauthorized"}),
])
async def test_garbage_is_a_protocol_error(response: httpx.Response) -> None:
    with pytest.raises(EngineProtocolError):
        await client_for(lambda r: response).parse("hello")
    with pytest.raises(EngineProtocolError):
        await client_for(lambda r: response).message("abc", text="hello")


async def test_ready_is_false_when_nothing_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert await client_for(handler).ready() is False
