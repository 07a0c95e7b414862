"""The offline demo's OCM takes check-ins as the real server would, in memory."""

from __future__ import annotations

import pytest

from ocm_bot.demo.ocm import DEMO_ACCOUNT, DEMO_WRITE_KEY, DemoOcm
from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmAuthError, OcmRejected
from ocm_bot.ocm.local import LocalSource

GARFORTH = 100627  # Lidl Garforth, in the bundled data


async def test_a_checkin_with_the_demo_key_shows_on_the_charger_under_the_bots_account() -> None:
    ocm = DemoOcm(LocalSource.bundled())
    submission = CommentSubmission(charger_id=GARFORTH, checkin_status_type_id=10, rating=4, comment="Quick")
    await ocm.submit_comment(submission, write_key=DEMO_WRITE_KEY)
    [charger] = await ocm.get_chargers([GARFORTH], include_comments=True)
    newest = charger.comments[0]
    assert (newest.text, newest.rating, newest.user_name) == ("Quick", 4, DEMO_ACCOUNT)
    assert newest.checkin_status is not None and newest.checkin_status.id == 10
    [without] = await ocm.get_chargers([GARFORTH])
    assert without.comments == ()


async def test_the_demo_ocm_refuses_what_ocm_refuses() -> None:
    ocm = DemoOcm(LocalSource.bundled())
    with pytest.raises(OcmAuthError):
        await ocm.submit_comment(CommentSubmission(charger_id=GARFORTH, checkin_status_type_id=10), write_key="other")
    with pytest.raises(OcmRejected):
        await ocm.submit_comment(CommentSubmission(charger_id=1, checkin_status_type_id=10), write_key=DEMO_WRITE_KEY)
