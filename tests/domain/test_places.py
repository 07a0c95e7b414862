import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.places import Coordinates, PlaceInputError, PlaceProblem, PlaceQuery, parse_place
from ocm_bot.i18n import translator
from ocm_bot.views.results import PLACE_ERRORS, place_error_text

BERLIN = GeoPoint(52.52, 13.405)


@pytest.mark.parametrize(
    "text",
    [
        "52.52, 13.405",
        "52.52 13.405",
        "52.52,13.405",
        "  52.52 ,  13.405 ",
        "52.52;13.405",
        "52°31'12\"N 13°24'18\"E",
        "52° 31′ 12″ N, 13° 24′ 18″ E",
        "N 52° 31.2' E 13° 24.3'",
        "52.52°N, 13.405°E",
        "13°24'18\"E 52°31'12\"N",
        "geo:52.52,13.405",
        "geo:52.52,13.405;u=35",
        "geo:0,0?q=52.52,13.405(Brandenburg Gate)",
        "https://www.google.com/maps/@52.52,13.405,15z",
        "https://www.google.com/maps/place/Berlin/@52.5,13.4,12z/data=!3m1!4b1!4m5!3m4!8m2!3d52.52!4d13.405",
        "https://maps.google.com/?q=52.52,13.405",
        "https://www.google.com/maps/search/?api=1&query=52.52%2C13.405",
        "https://www.google.com/maps/dir/?api=1&destination=52.52,13.405",
        "google.com/maps?ll=52.52,13.405",
        "https://maps.apple.com/?ll=52.52,13.405&q=Dropped%20Pin",
        "https://maps.apple.com/?daddr=52.52,13.405",
        "https://www.openstreetmap.org/?mlat=52.52&mlon=13.405#map=15/52.52/13.405",
        "https://www.openstreetmap.org/#map=15/52.52/13.405",
        "https://waze.com/ul?ll=52.52,13.405&navigate=yes",
        "https://www.waze.com/live-map/directions?to=ll.52.52%2C13.405",
    ],
)
def test_coordinates_and_map_links_are_read_without_geocoding(text):
    place = parse_place(text)
    assert isinstance(place, Coordinates)
    assert place.point.latitude == pytest.approx(BERLIN.latitude, abs=1e-4)
    assert place.point.longitude == pytest.approx(BERLIN.longitude, abs=1e-4)


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("33°52'S 151°12'E", -33.8667, 151.2),
        ("40.7128° N, 74.0060° W", 40.7128, -74.006),
        ("-33.86,151.2", -33.86, 151.2),
        ("45.5122, -122.6587", 45.5122, -122.6587),
    ],
)
def test_southern_and_western_hemispheres_are_negative(text, lat, lon):
    place = parse_place(text)
    assert isinstance(place, Coordinates)
    assert (place.point.latitude, place.point.longitude) == (pytest.approx(lat, abs=1e-4), pytest.approx(lon, abs=1e-4))


def test_a_geo_uri_label_is_kept():
    assert parse_place("geo:0,0?q=52.52,13.405(Brandenburg Gate)").label == "Brandenburg Gate"


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Pioneer Courthouse Square, Portland", "Pioneer Courthouse Square, Portland"),
        ("10 Downing Street", "10 Downing Street"),
        ("12 34", "12 34"),
        ("N 5th St 12", "N 5th St 12"),
        ("M25", "M25"),
        ("https://maps.google.com/?q=Pioneer+Courthouse+Square", "Pioneer Courthouse Square"),
        ("https://maps.apple.com/?address=Unter%20den%20Linden%201,Berlin", "Unter den Linden 1,Berlin"),
        ("https://www.google.com/maps/place/Lidl+Garforth", "Lidl Garforth"),
    ],
)
def test_addresses_and_place_links_go_to_the_geocoder(text, query):
    assert parse_place(text) == PlaceQuery(query)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", PlaceInputError.EMPTY),
        ("   \n ", PlaceInputError.EMPTY),
        (None, PlaceInputError.EMPTY),
        ("x" * 5000, PlaceInputError.TOO_LONG),
        ("🔌⚡🚗", PlaceInputError.NO_TEXT),
        ("?!", PlaceInputError.NO_TEXT),
        ("91, 13.4", PlaceInputError.LATITUDE_RANGE),
        ("-90.5 10.0", PlaceInputError.LATITUDE_RANGE),
        ("45.0, 181", PlaceInputError.LONGITUDE_RANGE),
        ("geo:95,10", PlaceInputError.LATITUDE_RANGE),
        ("https://example.com/some/page", PlaceInputError.LINK_WITHOUT_POINT),
        ("https://www.openstreetmap.org/about", PlaceInputError.LINK_WITHOUT_POINT),
    ],
)
def test_text_that_cannot_be_a_place_says_why(text, reason):
    with pytest.raises(PlaceInputError) as caught:
        parse_place(text)
    assert caught.value.reason == reason
    assert isinstance(caught.value.reason, PlaceProblem)


def test_every_place_problem_has_its_own_message_for_the_driver():
    t = translator("en")
    assert {problem.value for problem in PlaceProblem} == set(PLACE_ERRORS)
    assert len({place_error_text(t, problem).text for problem in PlaceProblem}) == len(PlaceProblem)


@given(st.text(max_size=300))
def test_any_text_parses_or_is_refused_with_a_reason(text):
    try:
        place = parse_place(text)
    except PlaceInputError as error:
        assert error.reason
    else:
        assert isinstance(place, Coordinates | PlaceQuery)
        if isinstance(place, PlaceQuery):
            assert 0 < len(place.text) <= 200


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_decimal_pairs_round_trip(lat, lon):
    place = parse_place(f"{lat:.6f}, {lon:.6f}")
    assert isinstance(place, Coordinates)
    assert place.point.latitude == pytest.approx(lat, abs=1e-6)
    assert place.point.longitude == pytest.approx(lon, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "as_typed"),
    [
        ("52.52, 13.405", "52.52, 13.405"),
        ("  52.5200 ,  13.4050 ", "52.5200 , 13.4050"),
        ("52.52 13.405", "52.52 13.405"),
        ("52°31'12\"N 13°24'18\"E", "52°31'12\"N 13°24'18\"E"),
        ("geo:52.52,13.405;u=35", "52.52, 13.405"),
        ("https://www.google.com/maps/@52.52,13.405,15z", "52.52, 13.405"),
        ("https://www.openstreetmap.org/?mlat=52.5200&mlon=13.4050#map=15/52.52/13.405", "52.5200, 13.4050"),
        ("https://waze.com/ul?ll=52.52,13.405&navigate=yes", "52.52, 13.405"),
    ],
)
def test_coordinates_keep_the_numbers_as_the_driver_wrote_them(text, as_typed):
    place = parse_place(text)
    assert isinstance(place, Coordinates)
    assert place.as_typed == as_typed
