"""Requests checked against the Bot API description."""

from __future__ import annotations

import json

from .schema import load_schema


def check(method: str, **params):
    return load_schema().check_request(method, params)


def test_form_strings_are_decoded_by_the_schemas_types():
    checked = check(
        "sendLocation",
        chat_id="42",
        latitude="45.5",
        longitude="-122.6",
        disable_notification="true",
        live_period="900",
    )

    assert checked.problems == []
    assert checked.params == {
        "chat_id": 42,
        "latitude": 45.5,
        "longitude": -122.6,
        "disable_notification": True,
        "live_period": 900,
    }


def test_chat_id_may_be_a_username():
    assert check("sendMessage", chat_id="@ocm_channel", text="x").params["chat_id"] == ("@ocm_channel")


def test_method_names_are_case_insensitive():
    assert check("SENDMESSAGE", chat_id=1, text="x").method == "sendMessage"


def test_bad_buttons_are_reported_against_the_inline_keyboard():
    buttons = [[{"text": "a", "callback_data": "x" * 70}] for _ in range(3)]

    checked = check("sendMessage", chat_id=1, text="x", reply_markup=json.dumps({"inline_keyboard": buttons}))

    assert [p.problem.split(" (")[0] for p in checked.problems] == ["70 bytes"] * 3
    assert checked.rejection == "Bad Request: BUTTON_DATA_INVALID"


def test_abstract_types_are_checked_by_their_type_field():
    ok = check(
        "setMyCommands", commands=[{"command": "start", "description": "Start"}], scope={"type": "chat", "chat_id": 5}
    )
    wrong = check("setMyCommands", commands=[{"command": "start", "description": "Start"}], scope={"type": "chat"})
    unknown = check("setMyCommands", commands=[{"command": "start", "description": "Start"}], scope={"type": "galaxy"})

    assert ok.problems == []
    assert [p.where for p in wrong.problems] == ["setMyCommands.scope.chat_id"]
    assert "'galaxy' is not a BotCommandScope type" in unknown.problems[0].problem


def test_inline_results_and_their_content_are_checked():
    result = {
        "type": "article",
        "id": "1",
        "title": "Tesco",
        "input_message_content": {"message_text": "x", "parse_mode": "HTML"},
    }
    bad = {**result, "input_message_content": {"text": "x"}}

    assert check("answerInlineQuery", inline_query_id="1", results=[result]).problems == []
    assert check("answerInlineQuery", inline_query_id="1", results=[bad]).problems


def test_too_many_buttons_and_bad_urls():
    row = [{"text": "b", "callback_data": "x"}] * 101
    markup = {"inline_keyboard": [row, [{"text": "site", "url": "openchargemap.org"}]]}

    checked = check("sendMessage", chat_id=1, text="x", reply_markup=markup)

    problems = " | ".join(p.problem for p in checked.problems)
    assert "102 inline buttons (at most 100)" in problems
    assert "not an HTTP or tg:// URL: 'openchargemap.org'" in problems


def test_bot_commands_must_be_lowercase_words():
    checked = check("setMyCommands", commands=[{"command": "Find-Chargers", "description": "x"}])

    assert checked.rejection == "Bad Request: BOT_COMMAND_INVALID"
