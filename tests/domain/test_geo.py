import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.domain.geo import (
    GeoPoint,
    compass_arrow,
    compass_point,
    haversine_km,
    initial_bearing,
    km_to_miles,
    miles_to_km,
)

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
    ("target", "point", "arrow"),
    [
        (GeoPoint(46, 13), "N", "↑"),
        (GeoPoint(45.5, 13.7), "E", "→"),
        (GeoPoint(44, 13), "S", "↓"),
        (GeoPoint(45.5, 12.3), "W", "←"),
        (GeoPoint(46, 13.7), "NE", "↗"),
        (GeoPoint(45, 12.3), "SW", "↙"),
    ],
)
def test_compass_point_names_the_direction_of_travel(target, point, arrow):
    bearing = initial_bearing(GeoPoint(45.5, 13), target)
    assert compass_point(bearing) == point
    assert compass_arrow(bearing) == arrow


def test_bearing_wraps_at_north():
    assert compass_point(359) == "N"
    assert compass_point(22) == "N"
    assert compass_point(23) == "NE"


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_bounded(lat1, lon1, lat2, lon2):
    a, b = GeoPoint(lat1, lon1), GeoPoint(lat2, lon2)
    assert haversine_km(a, b) == pytest.approx(haversine_km(b, a), abs=1e-6)
    assert 0 <= haversine_km(a, b) <= math.pi * 6371.01


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
