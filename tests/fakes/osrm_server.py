"""A fake OSRM ``/route/v1/{profile}/{lon,lat;lon,lat...}`` on loopback.

    server = FakeOsrmServer().start()
    httpx.get(f"{server.url}/route/v1/driving/13.388798,52.517033;13.397634,52.529407",
              params={"overview": "full", "geometries": "polyline6"})

Routes are plausible, not real: straight segments between the waypoints, distance = great circle x 1.3,
duration at 50 km/h, in OSRM's answer shape. The three Berlin waypoints of
../shared/osrm/route-driving-berlin-polyline6.json get that real recorded answer. Errors come in
OSRM's shape (``{"code": "InvalidQuery", "message": ...}``, ``NoRoute``, ``NoSegment``) with 400.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
from typing import Any

import polyline as polyline_codec

from tests.fakes.ocm.loopback import COMMON_FAULTS, Fault, LoopbackServer, RecordedRequest, Response
from tests.fakes.ocm.store import load_shared_json

DETOUR_FACTOR = 1.3
SPEED_M_PER_S = 50_000 / 3600
MAX_LEG_KM = 2_500.0  # longer legs answer NoRoute (no road across oceans in the fake)
PROFILES = ("driving", "car", "bike", "bicycle", "foot", "walking")
_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


class FakeOsrmServer(LoopbackServer):
    """OSRM's route service; ``no_route_pairs`` / ``inject("no-route")`` make routes impossible."""

    fault_kinds = COMMON_FAULTS | {"no-route", "no-segment"}
    default_fault_prefix = "/route/"

    def __init__(self) -> None:
        super().__init__()
        self.recorded = load_shared_json("osrm", "route-driving-berlin-polyline6.json")
        self.unroutable: list[tuple[float, float, float]] = []  # (lat, lon, radius km): no road there

    @property
    def url(self) -> str:
        return self.root_url

    def reset(self) -> None:
        super().reset()
        self.unroutable = []

    def block_area(self, lat: float, lon: float, radius_km: float) -> None:
        """Waypoints within ``radius_km`` of (lat, lon) cannot be snapped to a road (NoSegment)."""
        self.unroutable.append((lat, lon, radius_km))

    def fault_response(self, fault: Fault, request: RecordedRequest) -> Response | None:
        if fault.kind == "no-route":
            return _error(400, "NoRoute", "Impossible route between points")
        if fault.kind == "no-segment":
            return _error(400, "NoSegment", "Could not find a matching segment for any coordinate.")
        if fault.kind == "status500":
            return _error(500, "InternalError", "Internal Error")
        return super().fault_response(fault, request)

    def dispatch(self, request: RecordedRequest) -> Response:
        parts = request.path.split("/")
        # ["", "route", "v1", profile, coordinates]
        if len(parts) != 5 or parts[1] != "route" or parts[2] != "v1":
            return _error(
                400, "InvalidUrl", f'URL string malformed close to position {len(request.path)}: "{request.path}"'
            )
        profile, coordinates = parts[3], parts[4]
        if profile not in PROFILES:
            return _error(400, "InvalidService", "Service route does not support profile " + json.dumps(profile))
        coordinates = coordinates.removesuffix(".json")
        points = []
        for index, text in enumerate(coordinates.split(";")):
            match = _COORD.match(text)
            if match is None:
                return _error(400, "InvalidQuery", f"Query string malformed close to position {index}")
            lon, lat = float(match.group(1)), float(match.group(2))
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return _error(400, "InvalidValue", "Invalid coordinate value.")
            points.append((lat, lon))
        if len(points) < 2:
            return _error(400, "InvalidOptions", "Number of coordinates needs to be at least two.")
        params = request.params
        geometries = params.get("geometries", "polyline")
        overview = params.get("overview", "simplified")
        if geometries not in ("polyline", "polyline6", "geojson") or overview not in ("simplified", "full", "false"):
            return _error(400, "InvalidOptions", "Options are invalid.")
        for lat, lon in points:
            for blat, blon, radius in self.unroutable:
                if _haversine_m(lat, lon, blat, blon) <= radius * 1000:
                    return _error(400, "NoSegment", "Could not find a matching segment for any coordinate.")
        recorded = self._recorded_answer(points, geometries, overview)
        if recorded is not None:
            return Response.json(recorded)
        legs = []
        for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
            straight = _haversine_m(lat1, lon1, lat2, lon2)
            if straight / 1000 > MAX_LEG_KM:
                return _error(400, "NoRoute", "Impossible route between points")
            distance = round(straight * DETOUR_FACTOR, 1)
            duration = round(distance / SPEED_M_PER_S, 1)
            legs.append({"steps": [], "summary": "", "weight": duration, "duration": duration, "distance": distance})
        route: dict[str, Any] = {}
        if overview != "false":
            route["geometry"] = _geometry(points, geometries)
        route.update(
            {
                "legs": legs,
                "weight_name": "routability",
                "weight": round(sum(leg["weight"] for leg in legs), 1),
                "duration": round(sum(leg["duration"] for leg in legs), 1),
                "distance": round(sum(leg["distance"] for leg in legs), 1),
            }
        )
        waypoints = [
            {"hint": _hint(lat, lon), "distance": 0.0, "name": "", "location": [round(lon, 6), round(lat, 6)]}
            for lat, lon in points
        ]
        return Response.json({"code": "Ok", "routes": [route], "waypoints": waypoints})

    def _recorded_answer(self, points: list[tuple[float, float]], geometries: str, overview: str) -> Any:
        recorded_points = [(w["location"][1], w["location"][0]) for w in self.recorded["waypoints"]]
        if len(points) != len(recorded_points) or geometries == "geojson":
            return None
        if any(_haversine_m(*a, *b) > 50 for a, b in zip(points, recorded_points, strict=True)):
            return None
        answer = json.loads(json.dumps(self.recorded))
        route = answer["routes"][0]
        if overview == "false":
            del route["geometry"]
        elif geometries == "polyline":
            route["geometry"] = polyline_codec.encode(polyline_codec.decode(route["geometry"], 6), 5)
        return answer


def _geometry(points: list[tuple[float, float]], geometries: str) -> Any:
    if geometries == "geojson":
        return {"type": "LineString", "coordinates": [[round(lon, 6), round(lat, 6)] for lat, lon in points]}
    return polyline_codec.encode(points, 6 if geometries == "polyline6" else 5)


def _hint(lat: float, lon: float) -> str:
    digest = hashlib.sha256(f"{lat:.6f},{lon:.6f}".encode()).digest() * 3
    return base64.urlsafe_b64encode(digest[:72]).decode().rstrip("=")


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"code": code, "message": message}, status=status)
