"""The offline demo's Open Charge Map: the bundled chargers, and check-ins kept in memory.

In the demo a check-in goes all the way, as on Telegram: the bot posts it with the demo's write
key, this in-process OCM takes it as the real server would (under the key's account, the bot's),
and the charger's details then show it among its check-ins. Nothing leaves the process and
everything is forgotten when the demo ends. Example::

    ocm = DemoOcm(LocalSource.bundled())
    await ocm.submit_comment(CommentSubmission(charger_id=100627, checkin_status_type_id=10), write_key=DEMO_WRITE_KEY)
    [charger] = await ocm.get_chargers([100627], include_comments=True)
    charger.comments[0].user_name    # "ocm-bot (demo)"
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime
from typing import Any

from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmAuthError, OcmRejected
from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.models import Charger, Comment
from ocm_bot.ocm.query import PoiQuery

DEMO_WRITE_KEY = "offline-demo-write-key"
"""The write key the demo's bot posts with; only this in-process OCM knows it."""
DEMO_ACCOUNT = "ocm-bot (demo)"
"""The account the demo's check-ins are filed under (OCM files them under the key's account)."""


class DemoOcm:
    """The bundled chargers (a :class:`LocalSource`) that also take check-ins, like OCM's ``POST /comment``.

    It stands in for both the charger source and the OCM client; everything else is the source's.
    """

    def __init__(self, source: LocalSource) -> None:
        self._source = source
        self._comments: dict[int, list[Comment]] = {}
        self._ids = itertools.count(1)

    async def submit_comment(
        self, submission: CommentSubmission, *, token: str | None = None, write_key: str | None = None
    ) -> None:
        """Keep the check-in; refused as OCM would without the demo's key or for an unknown charger."""
        if write_key != DEMO_WRITE_KEY:
            raise OcmAuthError("the offline demo takes check-ins with its own write key only", status=401)
        if not await self._source.get_chargers([submission.charger_id]):
            raise OcmRejected("Failed")
        reference = await self._source.reference_data()
        comment = Comment(
            id=next(self._ids),
            comment_type=reference.comment_types.get(submission.comment_type_id or 10),
            checkin_status=reference.checkin_status_types.get(submission.checkin_status_type_id or 0),
            rating=submission.rating,
            text=submission.comment,
            user_name=DEMO_ACCOUNT,
            date_created=datetime.now(UTC),
        )
        self._comments.setdefault(submission.charger_id, []).insert(0, comment)

    async def search(self, query: PoiQuery) -> list[Charger]:
        found = await self._source.search(query)
        return [self._with_comments(c) for c in found] if query.includecomments else found

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        found = await self._source.get_chargers(ids, include_comments=include_comments)
        return [self._with_comments(c) for c in found] if include_comments else found

    def _with_comments(self, charger: Charger) -> Charger:
        posted = self._comments.get(charger.id)
        if not posted:
            return charger
        return dataclasses.replace(charger, comments=(*posted, *charger.comments))

    async def aclose(self) -> None:
        await self._source.aclose()

    def __len__(self) -> int:
        return len(self._source)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)
