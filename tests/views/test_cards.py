from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.i18n import translator
from ocm_bot.ocm.models import Comment, DataProvider, MediaItem
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.cards import card, navigation_url, poi_url, short_licence
from ocm_bot.views.details import details_text, details_view, favourites_views
from tests.domain.samples import by_id, reference, sample_chargers

NOW = datetime(2024, 6, 1, tzinfo=UTC)
LIDL = 100627
t = translator("en")
codec = CallbackCodec(b"k" * 32)


def test_a_card_shows_the_facts_a_driver_judges_by():
    lidl = replace(by_id(LIDL), date_last_verified=NOW - timedelta(days=3))
    text = card(t, lidl, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=0.62, bearing=45)
    lines = text.splitlines()
    assert lines[0] == "1. <b>Lidl-Garforth</b> — 620 m ↗ NE"
    assert "Aberford Road" in lines[1]
    assert "CCS (Type 2) 50 kW ×1" in lines[2] and "CHAdeMO 50 kW ×1" in lines[2]
    assert "✅ Operational" in lines[3] and "£0.28/kWh" in lines[3]
    assert "Operator: POD Point (UK)" in lines[4] and "verified 3 days ago" in lines[4]
    assert lines[5] == "   <i>Data: Open Charge Map Contributors (CC BY 4.0)</i>"


def test_cards_use_miles_when_asked():
    text = card(t, by_id(LIDL), now=NOW, unit=DistanceUnitChoice.MILES, index=2, distance_km=16.09344, bearing=180)
    assert "— 10 mi ↓ S" in text.splitlines()[0]


def test_every_card_credits_its_data_provider():
    for charger in sample_chargers():
        text = card(t, charger, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1, bearing=0)
        assert "Data: " in text.splitlines()[-1]


@pytest.mark.parametrize(
    ("provider_id", "credit"),
    [
        (1, "Data: Open Charge Map Contributors (CC BY 4.0)"),
        (2, "Data: afdc.energy.gov (free for any use)"),
        (7, "Data: Mobie.pt (Public Data redistributed by agreement)"),
        (18, "Data: UK National Charge Point Registry (Open Government Licence v2.0)"),
        (19, "Data: NOBIL (CC BY 4.0)"),
        (24, "Data: AddÉnergie Technologies Inc. (CC BY 3.0)"),
        (25, "Data: Catalan Energy Institute (ICAEN) (General public data)"),
        (26, "Data: Oplaadpalen.nl (CC BY-NC-SA 3.0)"),
        (28, "Data: data.gouv.fr (Licence Ouverte)"),
        (29, "Data: Bundesnetzagentur.de (CC BY 4.0)"),
        (31, "Data: Sitronics (CC0)"),
        (32, "Data: Lithuanian Road Administration (CC BY 4.0)"),
        (15, "Data: CarStations.com"),  # no licence in the reference data
    ],
)
def test_each_card_names_its_provider_s_licence_from_the_reference_data(provider_id, credit):
    charger = replace(by_id(LIDL), data_provider=reference().data_providers[provider_id])
    text = card(t, charger, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1, bearing=0)
    assert text.splitlines()[-1] == f"   <i>{credit}</i>"


def test_every_licence_in_the_reference_data_is_named_on_the_card():
    for provider in reference().data_providers.values():
        if provider.license:
            assert short_licence(t, provider.license), provider.title


def test_a_poi_s_stale_inline_licence_gives_way_to_the_reference_data():
    # The verbose sample POIs carry OCM's older DataProvider text ("CC BY-SA 4.0"); the reference
    # data, OCM's current word, says CC BY 4.0.
    stale = [c for c in sample_chargers() if c.data_provider and c.data_provider.id == 1]
    assert stale
    for charger in stale:
        text = card(t, charger, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1, bearing=0)
        assert text.splitlines()[-1] == "   <i>Data: Open Charge Map Contributors (CC BY 4.0)</i>"


def test_licences_are_named_in_the_driver_s_language():
    nrel = replace(by_id(LIDL), data_provider=reference().data_providers[2])
    text = card(translator("de"), nrel, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1, bearing=0)
    assert text.splitlines()[-1] == "   <i>Daten: afdc.energy.gov (frei für jede Nutzung)</i>"


def test_the_readme_names_the_licences_the_cards_show():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Data and licences", 1)[1].split("\n## ", 1)[0]
    section = " ".join(section.split())
    for provider_id in (1, 2, 18):
        provider = reference().data_providers[provider_id]
        assert short_licence(t, provider.license) in section, provider.title
    assert "CC BY-SA" not in section  # OCM's reference data licenses contributors' data CC BY 4.0


def test_ocm_text_is_html_escaped_and_clipped():
    nasty = replace(
        by_id(LIDL),
        address=replace(by_id(LIDL).address, title="<script>alert(1)</script> & Co " + "x" * 500),
        usage_cost="<b>free</b>",
        data_provider=DataProvider(99, "Evil <i>Data</i>"),
    )
    text = card(t, nasty, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1, bearing=0)
    assert "<script>" not in text and "&lt;script&gt;" in text and "&amp; Co" in text
    assert "&lt;b&gt;free&lt;/b&gt;" in text and "Evil &lt;i&gt;Data&lt;/i&gt;" in text
    assert len(text) < 800


def test_unknown_and_not_working_statuses_are_marked():
    lidl = by_id(LIDL)
    unknown = card(t, replace(lidl, status=None), now=NOW, unit=DistanceUnitChoice.KM)
    broken = card(t, replace(lidl, status=reference().status_types[100]), now=NOW, unit=DistanceUnitChoice.KM)
    assert "❓ Status unknown" in unknown
    assert "⚠️ Not operational" in broken


def test_links_point_to_ocm_and_directions():
    lidl = by_id(LIDL)
    assert poi_url(LIDL) == "https://openchargemap.org/site/poi/details/100627"
    assert navigation_url(lidl) == "https://www.google.com/maps/dir/?api=1&destination=53.797620,-1.379818"


def test_details_show_connections_comments_rating_and_photos():
    lidl = replace(
        by_id(LIDL),
        comments=(
            Comment(
                1,
                checkin_status=reference().checkin_status_types[10],
                rating=5,
                text="Fast <3",
                user_name="Ann",
                date_created=NOW - timedelta(days=2),
            ),
            Comment(2, rating=3, text="Queue", user_name="Bob", date_created=NOW - timedelta(days=9)),
        ),
        media_items=(MediaItem(1), MediaItem(2)),
    )
    text = details_text(t, lidl, now=NOW, unit=DistanceUnitChoice.KM, distance_km=1.5, bearing=90)
    assert "• CCS (Type 2) · 50 kW" in text
    assert "2 check-ins and comments · average rating 4 of 5" in text
    assert "“Fast &lt;3”" in text and "★★★★★" in text
    assert text.index("Fast") < text.index("Queue")  # newest first
    assert '<a href="https://openchargemap.org/site/poi/details/100627">2 photos</a>' in text
    assert "Data: Open Charge Map Contributors" in text


def test_details_never_exceed_telegram_limits():
    comments = tuple(Comment(i, rating=4, text="y" * 4000, user_name="z" * 200, date_created=NOW) for i in range(50))
    long = replace(by_id(LIDL), comments=comments, general_comments="g" * 5000, usage_cost="c" * 5000)
    text = details_text(t, long, now=NOW, unit=DistanceUnitChoice.KM)
    assert len(text) <= 4096


def test_details_buttons_check_in_privately_or_by_deep_link_in_groups():
    lidl = by_id(LIDL)
    private = details_view(
        t,
        lidl,
        codec,
        now=NOW,
        unit=DistanceUnitChoice.KM,
        is_favourite=False,
        private=True,
        bot_username="ocm_test_bot",
    )
    group = details_view(
        t,
        lidl,
        codec,
        now=NOW,
        unit=DistanceUnitChoice.KM,
        is_favourite=True,
        private=False,
        bot_username="ocm_test_bot",
    )
    rows = private.keyboard.inline_keyboard
    assert rows[0][0].url == poi_url(LIDL) and rows[0][1].url.startswith("https://www.google.com/maps/dir/")
    assert codec.decode(rows[1][0].callback_data).args == (str(LIDL),)
    assert codec.decode(rows[1][0].callback_data).action == "ci"
    assert rows[1][1].text == "☆ Favourite"
    group_rows = group.keyboard.inline_keyboard
    assert group_rows[1][0].url == f"https://t.me/ocm_test_bot?start=checkin-{LIDL}"
    assert group_rows[1][1].text == "★ Favourite"


def test_favourites_list_names_status_and_gone_chargers():
    (view,) = favourites_views(t, [by_id(LIDL), by_id(8473)], [42], codec, unit=DistanceUnitChoice.KM)
    assert "Lidl-Garforth" in view.text and "✅ Operational" in view.text and "❓ Status unknown" in view.text
    assert "1 favourite is no longer listed on Open Charge Map: #42" in view.text
    assert [b.text for b in view.keyboard.inline_keyboard[0]] == ["ℹ️ 1", "ℹ️ 2"]
    assert "No favourites yet" in favourites_views(t, [], [], codec, unit=DistanceUnitChoice.KM)[0].text


def test_a_long_favourites_list_is_split_into_messages_at_charger_boundaries():
    base = by_id(LIDL)
    many = [
        replace(
            base,
            id=800000 + i,
            address=replace(base.address, title="Station " + "n" * 70 + str(i), address_line1="A" * 200),
        )
        for i in range(30)
    ]
    views = favourites_views(t, many, [], codec, unit=DistanceUnitChoice.KM)
    assert len(views) > 1
    assert all(len(view.text) <= 4096 for view in views)
    numbers = [int(b.text.split()[-1]) for view in views for row in view.keyboard.inline_keyboard for b in row]
    assert numbers == list(range(1, 31))
    for view in views:
        shown = [int(line.split(".")[0]) for line in view.text.split("\n\n") if line[:1].isdigit()]
        assert shown == [int(b.text.split()[-1]) for row in view.keyboard.inline_keyboard for b in row]


@pytest.mark.parametrize(
    ("language", "km", "unit", "text"),
    [
        ("en", 0.634, DistanceUnitChoice.KM, "630 m"),
        ("en", 0.6449, DistanceUnitChoice.KM, "640 m"),
        ("en", 0.996, DistanceUnitChoice.KM, "1 km"),
        ("en", 4.321, DistanceUnitChoice.KM, "4.3 km"),
        ("de", 4.321, DistanceUnitChoice.KM, "4,3 km"),
        ("fr", 4.321, DistanceUnitChoice.KM, "4,3 km"),
        ("en", 12.7, DistanceUnitChoice.KM, "13 km"),
        ("en", 1234.6, DistanceUnitChoice.KM, "1,235 km"),
        ("de", 1234.6, DistanceUnitChoice.KM, "1.235 km"),
        ("en", 0.631, DistanceUnitChoice.MILES, "0.4 mi"),
        ("nl", 0.631, DistanceUnitChoice.MILES, "0,4 mi"),
        ("en", 11.9, DistanceUnitChoice.MILES, "7.4 mi"),
        ("en", 40.0, DistanceUnitChoice.MILES, "25 mi"),
        ("en", 0.05, DistanceUnitChoice.MILES, "160 ft"),
    ],
)
def test_distances_read_like_a_drivers_app_in_the_drivers_locale(language, km, unit, text):
    """Metres to 10 m under 1 km, one decimal under 10 km or mi, whole numbers above."""
    from ocm_bot.views.format import distance

    assert distance(translator(language), km, unit) == text


def test_relative_dates_read_naturally():
    from ocm_bot.views.format import ago

    assert ago(t, NOW - timedelta(days=3, hours=5), NOW) == "3 days ago"
    assert ago(t, NOW - timedelta(minutes=5), NOW) == "5 minutes ago"
    assert ago(translator("de"), NOW - timedelta(days=400), NOW) == "vor 1 Jahr"
    assert ago(t, NOW + timedelta(days=1), NOW) is not None  # a clock ahead of ours is not an error
