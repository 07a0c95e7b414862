import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.domain.geo import GeoPoint, haversine_km, initial_bearing
from ocm_bot.geometry import EARTH_RADIUS_KM, KM_PER_MILE, compass_sector, km_to_miles, miles_to_km

latitudes = st.floats(-89.9, 89.9)
longitudes = st.floats(-180, 180)


def test_distance_between_portland_landmarks_matches_geodesic_within_half_a_percent():
    from geopy.distance import geodesic

    square, omsi = GeoPoint(45.5189, -122.6793), GeoPoint(45.5084, -122.6647)
    expected = geodesic((45.5189, -122.6793), (45.5084, -122.6647)).km
    assert haversine_km(square, omsi) == pytest.approx(expected, rel=0.005)


def test_one_degree_of_latitude_is_about_111_km():
    assert haversine_km(GeoPoint(0, 0), GeoPoint(1, 0)) == pytest.approx(111.19, abs=0.01)


@pytest.mark.parametrize(
    ("target", "sector"),
    [
        (GeoPoint(46, 13), 0),
        (GeoPoint(45.5, 13.7), 2),
        (GeoPoint(44, 13), 4),
        (GeoPoint(45.5, 12.3), 6),
        (GeoPoint(46, 13.7), 1),
        (GeoPoint(45, 12.3), 5),
    ],
)
def test_the_compass_sector_is_the_direction_of_travel(target, sector):
    assert compass_sector(initial_bearing(GeoPoint(45.5, 13), target)) == sector


def test_bearing_wraps_at_north():
    assert compass_sector(359) == 0
    assert compass_sector(22) == 0
    assert compass_sector(23) == 1
    assert compass_sector(-45) == 7


def test_distances_are_on_ocm_s_sphere_and_miles_are_international():
    # Oracle: a quarter of a great circle is pi/2 radii, whatever formula computes it.
    assert EARTH_RADIUS_KM == 6371.0
    assert haversine_km(GeoPoint(0, 0), GeoPoint(90, 0)) == pytest.approx(math.pi / 2 * 6371.0, rel=1e-12)
    assert KM_PER_MILE == 1.609344


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_bounded(lat1, lon1, lat2, lon2):
    a, b = GeoPoint(lat1, lon1), GeoPoint(lat2, lon2)
    assert haversine_km(a, b) == pytest.approx(haversine_km(b, a), abs=1e-6)
    assert 0 <= haversine_km(a, b) <= math.pi * 6371.0 * (1 + 1e-12)


@given(latitudes, longitudes, latitudes, longitudes)
def test_bearing_is_a_compass_angle(lat1, lon1, lat2, lon2):
    assert 0 <= initial_bearing(GeoPoint(lat1, lon1), GeoPoint(lat2, lon2)) < 360


def test_miles_round_trip():
    assert km_to_miles(1.609344) == pytest.approx(1)
    assert miles_to_km(km_to_miles(42.0)) == pytest.approx(42.0)


@pytest.mark.parametrize(("lat", "lon"), [(91, 0), (-90.5, 0), (0, 180.1), (math.nan, 0), (0, math.inf)])
def test_points_off_the_globe_are_refused(lat, lon):
    with pytest.raises(ValueError):
        GeoPoint(lat, lon)
