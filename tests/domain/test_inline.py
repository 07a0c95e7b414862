"""Inline and guest queries: what a guest message asks, and the debounce of a person typing."""

import asyncio

import pytest

from ocm_bot.domain.inline import (
    Debouncer,
    GuestRequest,
    connector_ids_for,
    normalise_query,
    parse_guest_request,
    searchable,
)


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("@ocm_test_bot CCS near Leeds", GuestRequest("Leeds", None, ("CCS",))),
        ("@OCM_test_bot 50kW near Leeds, UK", GuestRequest("Leeds, UK", 50.0, ())),
        ("@ocm_test_bot Type 2 ≥22 kW near Garforth", GuestRequest("Garforth", 22.0, ("Type 2",))),
        ("@ocm_test_bot Pioneer Courthouse Square", GuestRequest("Pioneer Courthouse Square")),
        ("@ocm_test_bot near Leeds", GuestRequest("Leeds")),
        ("@ocm_test_bot", GuestRequest("")),
    ],
)
def test_a_guest_message_names_a_place_and_maybe_a_plug_or_power(text, request_):
    assert parse_guest_request(text, "ocm_test_bot") == request_


def test_plug_words_name_every_matching_plug_type():
    titles = {32: "CCS (Type 1)", 33: "CCS (Type 2)", 25: "Type 2 (Socket Only)", 2: "CHAdeMO"}
    assert connector_ids_for(["CCS"], titles) == {32, 33}
    assert connector_ids_for(["chademo"], titles) == {2}
    assert connector_ids_for(["xx"], titles) == set()


def test_queries_are_keyed_without_case_or_extra_spaces_and_short_ones_are_not_searched():
    assert normalise_query("  Salt  LAKE city, ") == "salt lake city"
    assert not searchable("Le") and not searchable(" a b ") and searchable("Lee")


async def test_a_newer_query_supersedes_a_waiting_one_and_a_late_older_one_gives_way():
    debouncer = Debouncer(delay=30)  # never elapses in this test: only superseding ends the waits
    first = asyncio.create_task(debouncer.settle(1, order=10))
    await asyncio.sleep(0)
    second = asyncio.create_task(debouncer.settle(1, order=11))
    assert await first is False
    assert await debouncer.settle(1, order=9) is False  # an older update whose handler ran late
    other_person = asyncio.create_task(debouncer.settle(2, order=12))
    await asyncio.sleep(0)
    assert not second.done() and not other_person.done()
    second.cancel()
    other_person.cancel()


async def test_the_last_query_is_let_through_after_the_delay():
    assert await Debouncer(delay=0.01).settle(1, order=1) is True
