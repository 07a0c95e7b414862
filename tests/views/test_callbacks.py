"""Callback data: fits Telegram's 64 bytes, and forged or malformed data is refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.views.callbacks import MAX_CALLBACK_BYTES, CallbackCodec, InvalidCallback, action_pattern

codec = CallbackCodec.for_token("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_round_trip_keeps_action_and_arguments():
    data = codec.encode("pg", "a1b2c3", 2)
    decoded = codec.decode(data)
    assert decoded.action == "pg" and decoded.args == ("a1b2c3", "2")
    assert decoded.int_arg(1) == 2
    assert action_pattern("pg").match(data)


def test_a_button_from_another_bot_token_is_refused():
    other = CallbackCodec.for_token("999999:ZYXWVUTSRQPONMLKJIHGFEDCBA")
    with pytest.raises(InvalidCallback):
        codec.decode(other.encode("pg", "a1b2c3", 2))


@pytest.mark.parametrize("data", ["", "pg", "pg|1|2", "pg|1|2|AAAAAAAA", "x" * 65, None, "|||"])
def test_malformed_data_is_refused(data):
    with pytest.raises(InvalidCallback):
        codec.decode(data)


def test_tampered_argument_is_refused():
    data = codec.encode("fav", 102848)
    tampered = data.replace("102848", "102849")
    with pytest.raises(InvalidCallback):
        codec.decode(tampered)


def test_oversized_data_is_refused_when_encoding():
    with pytest.raises(ValueError, match="64 bytes"):
        codec.encode("pg", "x" * 60)


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=3))
def test_encoded_ids_always_fit_and_round_trip(ids):
    data = codec.encode("d", *ids)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert codec.decode(data).args == tuple(str(i) for i in ids)


# Found by tests/e2e/test_fuzz.py: Telegram's JSON can carry a lone surrogate ("\ud800") and any
# text at all, where our buttons carry ASCII signatures; decoding such data raised instead of refusing.
@pytest.mark.parametrize("data", ["pg|\ud800|1", "\udfff", "pg|a|é", "pg|1|2|AAAAAAA\u00e9", "pg|\ud800|AAAAAAAA"])
def test_data_with_lone_surrogates_or_non_ascii_signatures_is_refused(data):
    with pytest.raises(InvalidCallback):
        codec.decode(data)


@given(st.text(max_size=64))
def test_any_text_decodes_or_is_refused(data):
    try:
        decoded = codec.decode(data)
    except InvalidCallback:
        return
    assert codec.encode(decoded.action, *decoded.args) == data
