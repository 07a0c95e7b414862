"""Which distance unit a driver reads: one rule for every screen.

1. The unit the driver chose in /settings, whatever the place.
2. Otherwise the searched *place's* country: miles in the countries that drive in miles
   (:data:`~ocm_bot.domain.preferences.MILES_BY_DEFAULT`), kilometres elsewhere. The country is the
   geocoder's when the driver typed a place name, else read from the point itself
   (:func:`miles_country_at`), never from the chargers found: the same place keeps its unit
   whether a search finds forty chargers or none, in the header, the cards, the "Wider radius"
   buttons and the radius menu.
3. Screens that show no place (the /settings menu) use the last searched place, else the region of
   the driver's Telegram language ("en-GB", "en-US"), else kilometres.

Example::

    place_country(GeoPoint(45.5122, -122.6587))          # "US"
    place_country(GeoPoint(49.2827, -123.1207))          # None (Vancouver: a kilometre country)
    unit_for_place(prefs, place_country(point))          # DistanceUnitChoice.MILES in Portland
"""

from __future__ import annotations

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences, region_of

# Coarse outlines (latitude, longitude) of the countries that drive in miles. Land borders follow
# the border towns on both sides (Vancouver/Blaine, Windsor/Detroit, Sarnia/Port Huron, Fort Erie/
# Buffalo, Tijuana/San Ysidro, Ciudad Juárez/El Paso, Letterkenny/Derry, Dundalk/Newry, Calais/
# Dover); coasts are drawn wide so that a point by the sea still counts. Within a few kilometres of a
# border the automatic unit may be the neighbour's; a driver there can choose the unit in /settings.
_OUTLINES: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "US": (
        (  # the 48 contiguous states
            (48.5, -124.8), (48.28, -123.6), (48.3, -123.22), (48.7, -123.25), (48.78, -123.0),
            (49.0, -123.2), (49.0, -95.15), (48.7, -94.65), (48.605, -93.4), (48.1, -90.0),
            (48.0, -89.57), (48.3, -88.4), (47.5, -86.0), (46.9, -84.8), (46.51, -84.6), (46.51, -84.25),
            (46.3, -84.1), (45.95, -83.4), (45.0, -82.5), (43.0, -82.415), (42.6, -82.5), (42.45, -82.65),
            (42.34, -82.95), (42.31, -83.08), (42.2, -83.13), (42.05, -83.15), (41.68, -82.5),
            (42.5, -79.8), (42.88, -78.915), (43.1, -79.065), (43.26, -79.06), (43.6, -78.5),
            (43.6, -77.0), (44.1, -76.4), (44.35, -75.9), (44.7, -75.4), (45.0, -74.7), (45.0, -71.5),
            (45.3, -71.1), (45.8, -70.4), (46.4, -70.05), (47.4, -69.2), (47.355, -68.4), (47.1, -67.8),
            (46.0, -67.8), (45.6, -67.45), (45.193, -67.27), (44.8, -66.95), (44.0, -67.5), (40.0, -69.0),
            (35.0, -74.5), (30.0, -79.5), (25.0, -79.9), (24.3, -81.0), (24.4, -82.2), (25.5, -84.0),
            (29.0, -89.0), (25.96, -97.14), (25.885, -97.5), (26.09, -98.27), (26.4, -99.0),
            (27.5, -99.51), (28.7, -100.505), (29.34, -100.92), (29.8, -101.4), (29.6, -102.7),
            (28.98, -103.2), (29.56, -104.39), (30.6, -105.0), (31.3, -106.2), (31.745, -106.45),
            (31.78, -106.53), (31.78, -108.21), (31.33, -108.21), (31.333, -111.07), (32.49, -114.81),
            (32.72, -114.72), (32.535, -117.12), (32.53, -117.3), (34.0, -121.0), (40.0, -125.0),
            (46.0, -124.8),
        ),
        (  # Alaska (the Aleutians west of 180° left out)
            (71.5, -156.8), (69.65, -141.0), (60.3, -141.0), (60.0, -139.05), (59.8, -137.5),
            (59.62, -135.14), (58.7, -133.9), (58.0, -133.2), (57.0, -132.0), (56.3, -131.1),
            (55.93, -130.0), (55.3, -130.1), (54.75, -130.6), (54.6, -132.0), (54.4, -133.5),
            (54.5, -165.0), (50.5, -180.0), (62.0, -180.0), (63.0, -172.0), (65.5, -168.98),
            (68.5, -169.0), (71.5, -160.0),
        ),
        ((18.5, -161.0), (22.5, -161.0), (22.5, -154.5), (18.5, -154.5)),  # Hawaii
    ),
    "GB": (
        (  # Great Britain and Northern Ireland
            (51.0, 1.45), (51.4, 1.7), (52.0, 2.0), (52.9, 2.0), (53.5, 0.6), (54.6, -0.5),
            (55.8, -1.5), (57.0, -1.6), (57.7, -1.6), (58.7, -2.6), (59.4, -2.3), (60.0, -0.8), (60.9, -0.7),
            (60.9, -1.6), (59.0, -4.0), (58.7, -5.2), (58.4, -7.2), (57.0, -7.8), (56.0, -7.0),
            (55.6, -6.6), (55.25, -6.5), (55.2, -6.98), (55.05, -7.26), (55.02, -7.36), (54.95, -7.4),
            (54.83, -7.47), (54.72, -7.55), (54.6, -7.92), (54.48, -8.05), (54.45, -8.18), (54.38, -8.17),
            (54.29, -7.875), (54.26, -7.7), (54.12, -7.55), (54.15, -7.3), (54.22, -7.2), (54.3, -7.0),
            (54.38, -6.95), (54.27, -6.75), (54.05, -6.62), (54.03, -6.4), (54.07, -6.3), (54.05, -6.15),
            (54.0, -6.0), (53.8, -5.4), (53.0, -5.3), (52.0, -5.8), (51.5, -6.0), (50.0, -6.6),
            (49.8, -5.5), (49.95, -4.0), (50.1, -2.0), (50.35, -0.5), (50.7, 0.8),
        ),
    ),
    "LR": (
        (
            (8.55, -10.27), (8.5, -9.5), (7.9, -9.3), (7.45, -8.9), (7.45, -8.45), (6.5, -8.55),
            (6.3, -8.3), (5.15, -7.45), (4.35, -7.5), (4.0, -7.6), (4.5, -9.0), (5.8, -10.5),
            (6.6, -11.5), (6.95, -11.5), (7.4, -11.15), (8.0, -10.5), (8.3, -10.6),
        ),
    ),
    "MM": (
        (
            (20.7, 92.3), (21.2, 92.25), (21.5, 92.6), (22.1, 92.6), (22.9, 93.1), (23.6, 93.4),
            (24.0, 94.15), (25.2, 94.6), (26.0, 95.1), (27.0, 96.2), (27.3, 97.0), (28.3, 97.4),
            (28.5, 98.0), (27.5, 98.7), (26.0, 98.65), (25.0, 97.8), (24.0, 97.9), (23.2, 98.9),
            (22.0, 99.2), (21.6, 101.1), (21.2, 101.15), (20.35, 100.1), (20.44, 99.88), (20.1, 99.0),
            (19.7, 98.0), (18.5, 97.5), (17.6, 97.7), (16.7, 98.54), (15.3, 98.2), (13.2, 99.1),
            (12.0, 99.5), (10.0, 98.6), (9.8, 98.5), (10.0, 97.5), (13.0, 97.5), (15.5, 97.0),
            (16.0, 94.2), (18.0, 93.9), (19.5, 93.0),
        ),
    ),
}  # fmt: skip


def miles_country_at(point: GeoPoint) -> str | None:
    """The ISO code of the miles-driving country ``point`` lies in, or None (a kilometre country)."""
    for country, outlines in _OUTLINES.items():
        if any(_inside(point, outline) for outline in outlines):
            return country
    return None


def place_country(point: GeoPoint, geocoded_country: str | None = None) -> str | None:
    """The searched place's country as far as the unit goes: the geocoder's code when the place was
    geocoded, else the miles country the point lies in (None: a kilometre country)."""
    return (geocoded_country or miles_country_at(point) or "").upper() or None


def unit_for_place(prefs: UserPreferences, country: str | None) -> DistanceUnitChoice:
    """The unit of a screen about a place whose country is ``country`` (from :func:`place_country`)."""
    return prefs.unit_for(country)


def automatic_unit(last_place_unit: str | None, language_code: str | None) -> DistanceUnitChoice | None:
    """The unit a driver who chose none gets on screens without a place (the settings menu): the last
    searched place's, else the one of the region in their Telegram language; None when neither is
    known (it then follows each searched place)."""
    if last_place_unit in {unit.value for unit in DistanceUnitChoice}:
        return DistanceUnitChoice(last_place_unit)
    if region_of(language_code) is None:
        return None
    return UserPreferences().unit_for(None, language_code=language_code)


def _inside(point: GeoPoint, outline: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting (even-odd rule) on the plane of latitude and longitude."""
    y, x = point.latitude, point.longitude
    inside = False
    previous = outline[-1]
    for current in outline:
        (y1, x1), (y2, x2) = previous, current
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        previous = current
    return inside
