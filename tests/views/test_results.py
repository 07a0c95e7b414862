from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.search import SearchService
from ocm_bot.i18n import translator
from ocm_bot.views.callbacks import MAX_CALLBACK_BYTES, CallbackCodec
from ocm_bot.views.results import results_text, results_view
from tests.domain.samples import PORTLAND, SampleSource, reference

NOW = datetime(2024, 6, 1, tzinfo=UTC)
t = translator("en")
codec = CallbackCodec(b"k" * 32)
EVERYTHING = UserPreferences(operational_only=False, usage=UsageChoice.INCLUDE_RESTRICTED)


@pytest.fixture
def service():
    return SearchService(SampleSource())


def all_callback_data(view):
    return [b.callback_data for row in view.keyboard.inline_keyboard for b in row if b.callback_data]


async def test_first_page_has_header_cards_and_the_button_rows(service):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, unit=DistanceUnitChoice.KM), label="Pioneer Square")
    view = results_view(t, result, 0, codec, now=NOW, reference=reference())
    lines = view.text.splitlines()
    assert lines[0] == "<b>Chargers near Pioneer Square</b> · within 10 km"
    assert lines[1] == f"{len(result.hits)} chargers, nearest first · page 1 of {result.page_count()}"
    assert view.text.count("Data: ") == 5
    rows = view.keyboard.inline_keyboard
    assert [b.text for b in rows[0]] == ["1 · Open in OCM ↗", "1 · Navigate 🧭"]
    assert rows[0][0].url == f"https://openchargemap.org/site/poi/details/{result.hits[0].charger.id}"
    assert [b.text for b in rows[5]] == ["ℹ️ 1", "ℹ️ 2", "ℹ️ 3", "ℹ️ 4", "ℹ️ 5"]
    assert [b.text for b in rows[6]] == ["1/" + str(result.page_count()), "Next ›"]
    assert rows[-1][0].text == "⚙️ Filters"


async def test_last_page_numbers_continue_and_offer_prev(service):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, radius_km=50))
    last = result.page_count() - 1
    view = results_view(t, result, last, codec, now=NOW)
    first_number = last * 5 + 1
    assert view.text.splitlines()[3].startswith(f"{first_number}. <b>")
    paging = next(row for row in view.keyboard.inline_keyboard if row[0].text == "‹ Prev")
    assert [b.text for b in paging] == ["‹ Prev", f"{last + 1}/{last + 1}"]


async def test_every_button_fits_and_decodes(service):
    prefs = UserPreferences(
        min_power_kw=3.7,
        connection_type_ids=frozenset({1, 2, 33}),
        operator_ids=frozenset({5, 39}),
        usage=UsageChoice.PUBLIC_ONLY,
        open_data_only=True,
        radius_km=2,
    )
    result = await service.nearby(PORTLAND, prefs)
    view = results_view(t, result, 0, codec, now=NOW, reference=reference())
    for data in all_callback_data(view):
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert codec.decode(data).action in {"pg", "dt", "fx", "wr", "sf", "xp", "nl"}


async def test_active_filters_are_listed_and_each_removable(service):
    prefs = replace(EVERYTHING, min_power_kw=50, connection_type_ids=frozenset({33}), operational_only=True)
    result = await service.nearby(PORTLAND, replace(prefs, radius_km=50))
    view = results_view(t, result, 0, codec, now=NOW, reference=reference())
    assert "Filters: ≥ 50 kW · CCS (Type 2) · working only" in view.text
    chips = {
        b.text: codec.decode(b.callback_data).args
        for row in view.keyboard.inline_keyboard
        for b in row
        if b.callback_data and codec.decode(b.callback_data).action == "fx"
    }
    texts = set(chips)
    assert any("≥ 50 kW" in text for text in texts)
    assert any("CCS (Type 2)" in text for text in texts)
    assert any("working only" in text for text in texts)


def chip_texts(view) -> list[str]:
    return [
        b.text
        for row in view.keyboard.inline_keyboard
        for b in row
        if b.callback_data and codec.decode(b.callback_data).action == "fx"
    ]


@pytest.mark.parametrize(
    ("language", "header", "chip"),
    [
        ("en", "Filters: CCS (Type 1) +1 · level 3 · working only", "CCS (Type 1) +1"),
        ("de", "Filter: CCS (Typ 1) +1 · Stufe 3 · nur in Betrieb", "CCS (Typ 1) +1"),
    ],
)
async def test_the_plug_chip_counts_the_driver_s_picks_in_the_settings_words(service, language, header, chip):
    # Two picks in /settings: CCS (Type 1) is one OCM type, Tesla / NACS three (27, 30, 8).
    prefs = replace(
        EVERYTHING,
        connection_type_ids=frozenset({32, 27, 30, 8}),
        level_ids=frozenset({3}),
        operational_only=True,
        radius_km=50,
    )
    result = await service.nearby(PORTLAND, prefs)
    view = results_view(translator(language), result, 0, codec, now=NOW, reference=reference())
    assert header in view.text
    assert any(text.endswith(chip) for text in chip_texts(view))  # "✕ …" or "Relax: …"


async def test_a_plug_outside_the_common_groups_is_named_by_ocm(service):
    prefs = replace(EVERYTHING, connection_type_ids=frozenset({33, 1036, 25, 7}), radius_km=50)
    result = await service.nearby(PORTLAND, prefs)
    view = results_view(t, result, 0, codec, now=NOW, reference=reference())
    # Three picks: Type 2 (two OCM types), CCS (Type 2), and Avcon from OCM's list.
    assert "Filters: Type 2 +2" in view.text
    assert "Relax: Type 2 +2" in chip_texts(view)


async def test_no_results_offer_a_wider_radius_and_relaxing_the_filter(service):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, min_power_kw=150, radius_km=5))
    view = results_view(t, result, 0, codec, now=NOW, reference=reference())
    assert "No chargers found within 3.1 mi." in view.text  # Portland: miles, found or not
    labels = [b.text for row in view.keyboard.inline_keyboard for b in row]
    assert "Relax: ≥ 150 kW" in labels
    assert "🔎 Wider radius: 5 mi" in labels  # the next step of the miles radius menu


async def test_hidden_counts_name_the_filter(service):
    result = await service.nearby(PORTLAND, UserPreferences(usage=UsageChoice.PUBLIC_ONLY, radius_km=1.4))
    view = results_view(t, result, 0, codec, now=NOW)
    assert "“public only” hides 2 chargers here." in view.text
    assert "Relax: public only (+2)" in [b.text for row in view.keyboard.inline_keyboard for b in row]


async def test_us_results_default_to_miles(service):
    result = await service.nearby(PORTLAND, EVERYTHING)
    text = results_text(t, result, 0, now=NOW)
    assert "within 6.2 mi" in text.splitlines()[0]
    assert " mi " in text.splitlines()[3] or " ft " in text.splitlines()[3]


async def test_labels_are_escaped(service):
    result = await service.nearby(PORTLAND, EVERYTHING, label="<b>Bad</b> & co")
    assert "Chargers near &lt;b&gt;Bad&lt;/b&gt; &amp; co" in results_text(t, result, 0, now=NOW)


async def test_long_pages_stay_under_the_message_limit():
    from ocm_bot.ocm.models import Connection, ConnectionType
    from tests.domain.samples import sample_chargers

    base = sample_chargers()[11]
    long = tuple(
        replace(
            base,
            id=900000 + i,
            address=replace(base.address, title="N" * 300, address_line1="A" * 300, town="T" * 300),
            usage_cost="€" * 300,
            connections=tuple(Connection(j, ConnectionType(j, "Plug" + "p" * 60), power_kw=j) for j in range(1, 12)),
        )
        for i in range(8)
    )
    service = SearchService(SampleSource(long))
    result = await service.nearby(PORTLAND, replace(EVERYTHING, page_size=8))
    assert len(result.page(0)) == 8
    assert len(results_text(t, result, 0, now=NOW)) <= 4096


async def test_an_answer_cut_short_by_ocm_says_nearest():
    service = SearchService(SampleSource(), max_results=5)
    result = await service.nearby(PORTLAND, replace(EVERYTHING, radius_km=25))
    assert results_text(t, result, 0, now=NOW).splitlines()[1] == "the 5 nearest chargers"
