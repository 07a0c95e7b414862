"""Reading "chargers in <place>" with a phrase from the catalog: literal, whole words, case ignored."""

from __future__ import annotations

import pytest

from ocm_bot.domain.area import place_after_phrase


@pytest.mark.parametrize(
    ("text", "phrase", "place"),
    [
        ("chargers in Leeds", "chargers in {place}", "Leeds"),
        ("  CHARGERS   in  Leeds station?! ", "chargers in {place}", "Leeds station"),
        ("Ladestationen in München", "Ladestationen in {place}", "München"),
        ("bornes à Saint-Étienne.", "bornes à {place}", "Saint-Étienne"),
        ("Leeds laadpalen", "{place} laadpalen", "Leeds"),  # a language that puts the place first
        ("chargers (in) Leeds", "chargers (in) {place}", "Leeds"),  # brackets are text, not a pattern
        ("chargers inverness", "chargers in {place}", None),  # whole words only
        ("Leeds", "chargers in {place}", None),  # a place alone stays a nearby search
        ("chargers in ", "chargers in {place}", None),
        ("find chargers in Leeds", "chargers in {place}", None),  # the phrase opens the text
        ("chargers in Leeds", "{place}", None),  # a phrase of the place alone would take every text
        ("chargers in Leeds", "chargers in", None),  # no placeholder: a broken translation matches nothing
        ("chargers in Leeds", "chargers in {place} {place}", None),
    ],
)
def test_a_phrase_finds_its_place_or_nothing(text, phrase, place):
    assert place_after_phrase(text, phrase) == place
