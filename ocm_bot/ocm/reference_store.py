"""OCM reference data (connection types, operators, statuses...): fetched once, kept on disk, refreshed daily.

:class:`ReferenceStore` starts from a fresh disk copy, else from OCM, else (OCM down) from a stale
disk copy; a copy older than ``limits.reference_max_age`` is still used while a refresh runs in
the background (at most one try per ``limits.reference_retry_interval`` while OCM fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocm_bot.ocm.errors import OcmBadResponse, OcmError
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.single_flight import SingleFlight
from ocm_bot.ocm.transport import OcmLimits, OcmTransport, json_of

log = logging.getLogger(__name__)


class ReferenceStore:
    """The current :class:`ReferenceData` of one OCM server, read through ``transport``."""

    def __init__(
        self,
        transport: OcmTransport,
        flights: SingleFlight,
        *,
        path: Path | None,
        limits: OcmLimits,
        client_name: str,
        country_ids: Iterable[int] = (),
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._transport = transport
        self._flights = flights
        self._path = path
        self._limits = limits
        self._client_name = client_name
        self._country_ids = tuple(sorted(set(country_ids)))
        self._clock = clock
        self._now = now
        self._reference: ReferenceData | None = None
        self._fetched_at: datetime | None = None
        self._refresh_task: asyncio.Future[bool] | None = None
        self._refresh_tried_at: float | None = None

    async def start(self) -> None:
        """Load reference data: a fresh disk copy, else OCM, else (OCM down) a stale disk copy."""
        stored = await asyncio.to_thread(self._read_file)
        if stored is not None and self._now() - stored[1] < self._limits.reference_max_age:
            self._reference, self._fetched_at = stored
            return
        try:
            await self._fetch()
        except OcmError:
            if stored is None:
                raise
            log.warning("OCM unreachable; starting from reference data of %s", stored[1].isoformat())
            self._reference, self._fetched_at = stored

    async def aclose(self) -> None:
        """Stop a background refresh."""
        task, self._refresh_task = self._refresh_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def current(self) -> ReferenceData:
        """The current reference data (loaded on first use if :meth:`start` was not called)."""
        if self._reference is None:
            await self.start()
        assert self._reference is not None
        self._refresh_if_stale()
        return self._reference

    def _refresh_if_stale(self) -> None:
        fetched_at = self._fetched_at
        if fetched_at is not None and self._now() - fetched_at < self._limits.reference_max_age:
            return
        if self._refresh_task is not None and not self._refresh_task.done():
            return
        now = self._clock()
        if self._refresh_tried_at is not None and now - self._refresh_tried_at < self._limits.reference_retry_interval:
            return
        self._refresh_tried_at = now
        self._refresh_task = asyncio.ensure_future(self.refresh())

    def use(self, reference: ReferenceData) -> None:
        """Start from ``reference`` (e.g. the bundled copy when OCM is down at the first start).

        It is not written to disk and counts as stale: the next daily refresh replaces it.
        """
        self._reference, self._fetched_at = reference, None

    async def refresh(self) -> bool:
        """Fetch reference data again (the daily job); on failure keep the current copy.

        Returns True when refreshed, False when OCM could not be reached (logged).
        """
        try:
            await self._fetch()
        except OcmError as exc:
            log.warning("reference data refresh failed, keeping the current copy: %s", exc)
            return False
        return True

    async def _fetch(self) -> ReferenceData:
        async def fetch() -> ReferenceData:
            params = {"client": self._client_name}
            if self._country_ids:
                params["countryid"] = ",".join(str(i) for i in self._country_ids)
            payload = json_of(await self._transport.get("/referencedata", params))
            if not isinstance(payload, Mapping):
                raise OcmBadResponse("reference data is not a JSON object")
            try:
                reference = ReferenceData.from_json(payload)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise OcmBadResponse(f"unreadable reference data: {exc}") from exc
            if not reference.connection_types or not reference.status_types:
                raise OcmBadResponse("reference data without connection or status types")
            self._reference, self._fetched_at = reference, self._now()
            await asyncio.to_thread(self._write_file, payload)
            return reference

        return await self._flights.run(("referencedata",), fetch)

    def _read_file(self) -> tuple[ReferenceData, datetime] | None:
        if self._path is None or not self._path.exists():
            return None
        try:
            stored = json.loads(self._path.read_text(encoding="utf-8"))
            fetched_at = datetime.fromisoformat(stored["fetched_at"])
            return ReferenceData.from_json(stored["payload"]), fetched_at
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable reference data file %s: %s", self._path, exc)
            return None

    def _write_file(self, payload: Mapping[str, Any]) -> None:
        if self._path is None:
            return
        document = {"fetched_at": self._now().isoformat(), "payload": payload}
        temporary = self._path.with_name(self._path.name + ".tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(document), encoding="utf-8")
            os.replace(temporary, self._path)  # readers never see half a file
        except OSError as exc:
            log.warning("could not save reference data to %s: %s", self._path, exc)
