"""The distance unit: the driver's choice, else the searched place's country (never the results)."""

import pytest

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences
from ocm_bot.domain.units import automatic_unit, miles_country_at, place_country, unit_for_place

# Towns on both sides of every border of a miles country, and places far inside.
PLACES = [
    ("Portland, OR", 45.5122, -122.6587, "US"),
    ("Seattle", 47.6062, -122.3321, "US"),
    ("Blaine, WA", 48.9937, -122.7471, "US"),
    ("Vancouver, BC", 49.2827, -123.1207, None),
    ("Victoria, BC", 48.4284, -123.3656, None),
    ("Friday Harbor, WA", 48.5343, -123.0171, "US"),
    ("International Falls, MN", 48.6011, -93.4108, "US"),
    ("Thunder Bay, ON", 48.3809, -89.2477, None),
    ("Sault Ste. Marie, MI", 46.4953, -84.3453, "US"),
    ("Sault Ste. Marie, ON", 46.5219, -84.3461, None),
    ("Port Huron, MI", 42.9709, -82.4249, "US"),
    ("Sarnia, ON", 42.9745, -82.4066, None),
    ("Detroit", 42.3314, -83.0458, "US"),
    ("Windsor, ON", 42.3149, -83.0364, None),
    ("Buffalo", 42.8864, -78.8784, "US"),
    ("Fort Erie, ON", 42.9018, -78.9722, None),
    ("Toronto", 43.6532, -79.3832, None),
    ("Montreal", 45.5019, -73.5674, None),
    ("Calais, ME", 45.1884, -67.2786, "US"),
    ("Halifax, NS", 44.6488, -63.5752, None),
    ("New York", 40.7128, -74.0060, "US"),
    ("Miami", 25.7617, -80.1918, "US"),
    ("Key West", 24.5551, -81.7800, "US"),
    ("Havana", 23.1136, -82.3666, None),
    ("Brownsville, TX", 25.9017, -97.4975, "US"),
    ("Matamoros", 25.8693, -97.5027, None),
    ("Laredo, TX", 27.5306, -99.4803, "US"),
    ("Nuevo Laredo", 27.4779, -99.5496, None),
    ("El Paso", 31.7619, -106.4850, "US"),
    ("Ciudad Juárez", 31.6904, -106.4245, None),
    ("Nogales, AZ", 31.3404, -110.9343, "US"),
    ("Nogales, Sonora", 31.3086, -110.9458, None),
    ("Calexico, CA", 32.6789, -115.4989, "US"),
    ("Mexicali", 32.6245, -115.4523, None),
    ("San Ysidro, CA", 32.5556, -117.0470, "US"),
    ("Tijuana", 32.5149, -117.0382, None),
    ("Salt Lake City", 40.7608, -111.8910, "US"),
    ("Denver", 39.7392, -104.9903, "US"),
    ("Anchorage", 61.2181, -149.9003, "US"),
    ("Juneau", 58.3019, -134.4197, "US"),
    ("Whitehorse, YT", 60.7212, -135.0568, None),
    ("Prince Rupert, BC", 54.3150, -130.3208, None),
    ("Honolulu", 21.3069, -157.8583, "US"),
    ("London", 51.5074, -0.1278, "GB"),
    ("Mile End, London", 51.5225, -0.0375, "GB"),
    ("Dover", 51.1279, 1.3134, "GB"),
    ("Calais", 50.9513, 1.8587, None),
    ("Cherbourg", 49.6337, -1.6222, None),
    ("Penzance", 50.1188, -5.5371, "GB"),
    ("Leeds", 53.8008, -1.5491, "GB"),
    ("Garforth", 53.7917, -1.3886, "GB"),
    ("Edinburgh", 55.9533, -3.1883, "GB"),
    ("Lerwick", 60.1530, -1.1493, "GB"),
    ("Stornoway", 58.2090, -6.3849, "GB"),
    ("Belfast", 54.5973, -5.9301, "GB"),
    ("Derry", 54.9966, -7.3086, "GB"),
    ("Letterkenny", 54.9558, -7.7342, None),
    ("Strabane", 54.8268, -7.4633, "GB"),
    ("Enniskillen", 54.3438, -7.6315, "GB"),
    ("Newry", 54.1751, -6.3402, "GB"),
    ("Dundalk", 54.0090, -6.4049, None),
    ("Dublin", 53.3498, -6.2603, None),
    ("Paris", 48.8566, 2.3522, None),
    ("Amsterdam", 52.3676, 4.9041, None),
    ("Monrovia", 6.3156, -10.8074, "LR"),
    ("Freetown", 8.4657, -13.2317, None),
    ("Abidjan", 5.3600, -4.0083, None),
    ("Yangon", 16.8409, 96.1735, "MM"),
    ("Mandalay", 21.9588, 96.0891, "MM"),
    ("Bangkok", 13.7563, 100.5018, None),
    ("Chittagong", 22.3569, 91.7832, None),
    ("Gdańsk", 54.3520, 18.6466, None),
    ("Andorra la Vella", 42.5063, 1.5218, None),
    ("Munich", 48.1351, 11.5820, None),
]


@pytest.mark.parametrize(("name", "lat", "lon", "country"), PLACES, ids=[p[0] for p in PLACES])
def test_a_point_s_miles_country(name, lat, lon, country):
    assert miles_country_at(GeoPoint(lat, lon)) == country


def test_the_geocoder_s_country_wins_for_a_typed_place():
    assert place_country(GeoPoint(49.2827, -123.1207), "us") == "US"
    assert place_country(GeoPoint(45.5122, -122.6587), "CA") == "CA"
    assert place_country(GeoPoint(45.5122, -122.6587)) == "US"


def test_the_driver_s_choice_wins_over_the_place():
    portland = place_country(GeoPoint(45.5122, -122.6587))
    assert unit_for_place(UserPreferences(), portland) is DistanceUnitChoice.MILES
    assert unit_for_place(UserPreferences(unit=DistanceUnitChoice.KM), portland) is DistanceUnitChoice.KM
    assert unit_for_place(UserPreferences(), None) is DistanceUnitChoice.KM


@pytest.mark.parametrize(
    ("last", "language", "unit"),
    [
        ("mi", "en", DistanceUnitChoice.MILES),
        ("km", "en-US", DistanceUnitChoice.KM),
        (None, "en-GB", DistanceUnitChoice.MILES),
        (None, "de-DE", DistanceUnitChoice.KM),
        (None, "en", None),
        ("furlongs", None, None),
    ],
)
def test_screens_without_a_place_follow_the_last_searched_place_then_the_telegram_region(last, language, unit):
    assert automatic_unit(last, language) is unit
