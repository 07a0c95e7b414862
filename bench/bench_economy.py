"""OCM economy: the bot's OCM requests and bytes for a session mix, against two other strategies.

    .venv/bin/python -m bench.bench_economy [--users 30]

The bot's figures come from the fake OCM's log while drivers played the scripted session of
:mod:`bench.harness` against the real bot (default preferences: 10 km, pages of 5, working
chargers only). The same actions are then replayed, against a fresh fake OCM with the same
chargers, by two small clients:

- **naive**: one request per action with OCM's default (verbose) output: a search, page or filter
  change asks for the chargers shown so far (5 a page) within the driver's 10 km; details and each
  check-in step ask for the charger by ID (details with its comments);
- **peer**: the strategy of the most complete open-source EV chat bot we know of: every search
  asks for 3 chargers within a fixed 50 km, cached for 5 minutes under the position rounded to 3
  decimals; paging, filters, details and check-in steps use what it has (it has no more; filters
  are not sent). It is given ``compact=true&verbose=false``, which favours it.

"Hit rate" is the share of actions answered without asking OCM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import CENTER
from tests.fakes.ocm import FakeOcmServer

PAGE = 5
RADIUS_KM = 10


def naive_params(action: dict[str, Any]) -> dict[str, Any]:
    params = action["params"]
    if action["kind"] in ("details", "check-in step"):
        extra = {"includecomments": "true"} if action["kind"] == "details" else {}
        return {"chargepointid": params["id"], **extra}
    query = {
        "latitude": f"{params['latitude']:.6f}",
        "longitude": f"{params['longitude']:.6f}",
        "distance": RADIUS_KM,
        "distanceunit": "km",
        "maxresults": PAGE * params.get("page", 1),
    }
    return query  # the bot's "working only" filter is applied to the answer, so a naive client asks the same


class PeerClient:
    """Fixed 50 km, 3 results, a 5-minute cache keyed by the position rounded to 3 decimals."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.cache: dict[tuple[float, float], tuple[float, Any]] = {}

    def act(self, action: dict[str, Any], now: float) -> None:
        params = action["params"]
        if action["kind"] not in ("location search",):
            return  # pages, filters, details and check-ins come from the 3 chargers it has
        key = (round(params["latitude"], 3), round(params["longitude"], 3))
        cached = self.cache.get(key)
        if cached is not None and now - cached[0] < 300:
            return
        query = {"latitude": key[0], "longitude": key[1], "distance": 50, "distanceunit": "km", "maxresults": 3}
        answer = self.http.get("/poi", params={**query, "compact": "true", "verbose": "false"})
        self.cache[key] = (now, answer.json())


def replay(done: list[dict[str, Any]], chargers: int) -> dict[str, dict[str, float]]:
    server = FakeOcmServer().start()
    server.generate_chargers(chargers, center=CENTER, radius_km=15, seed=1)
    results = {}
    try:
        headers = {"X-API-Key": server.api_key, "User-Agent": "ocm-bot-bench/1.0"}
        with httpx.Client(base_url=server.url, headers=headers) as http:
            server.clear()
            for action in done:
                if action["kind"] in ("details", "check-in step") and action["params"].get("id") is None:
                    continue
                http.get("/poi", params={"output": "json", **naive_params(action)}).raise_for_status()
            results["naive"] = measured(server, len(done))
            server.clear()
            peer = PeerClient(http)
            start = time.monotonic()
            for n, action in enumerate(done):
                peer.act(action, start + n * 0.5)  # the session's pace: an action every half second
            results["peer"] = measured(server, len(done))
    finally:
        server.stop()
    return results


def measured(server: FakeOcmServer, actions: int) -> dict[str, float]:
    requests = [r for r in server.requests_to("/v3/poi") if r.method == "GET"]
    return {
        "actions": actions,
        "requests": len(requests),
        "bytes": sum(r.response_bytes for r in requests),
        "per_action": len(requests) / max(1, actions),
        "hit_rate": 1 - len(requests) / max(1, actions),
    }


def economy(run: dict[str, Any], chargers: int = 3000) -> dict[str, Any]:
    """The bot's figures from a throughput run (:func:`bench.bench_actions.throughput`) and the baselines."""
    done = run["done"]
    actions = len(done)
    bot = {
        "actions": actions,
        "requests": run["ocm"]["requests"],
        "bytes": run["ocm"]["bytes"],
        "per_action": run["ocm"]["requests"] / max(1, actions),
        "hit_rate": 1 - run["ocm"]["requests"] / max(1, actions),
    }
    return {"bot": bot, **replay(done, chargers)}


def main() -> None:
    from bench.bench_actions import throughput

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    run = asyncio.run(throughput(args.users, "polling", args.seconds, think=1.0))
    print(json.dumps(economy(run), indent=1))


if __name__ == "__main__":
    main()
