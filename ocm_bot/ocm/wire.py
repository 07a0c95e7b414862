"""OCM's JSON for what the bot writes: the ``POST /comment`` and ``POST /mediaitem`` bodies.

The domain builds a :class:`~ocm_bot.ocm.writing.CommentSubmission`; this module alone spells OCM's
field names for it (OCM's openapi ``/comment`` schema). The outbox stores the body as OCM takes it,
so a check-in queued by any release reads back the same. Example::

    comment_body(CommentSubmission(charger_id=1234, checkin_status_type_id=10, rating=4))
    # {"ChargePointID": 1234, "CheckinStatusTypeID": 10, "Rating": 4}
    CommentSubmission(**comment_fields({"ChargePointID": 1234, "Rating": 4}))
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocm_bot.ocm.writing import CommentSubmission, PhotoSubmission

# CommentSubmission's field -> OCM's JSON key, in the order OCM's schema lists them
_COMMENT_KEYS = {
    "charger_id": "ChargePointID",
    "comment_type_id": "CommentTypeID",
    "checkin_status_type_id": "CheckinStatusTypeID",
    "rating": "Rating",
    "comment": "Comment",
    "user_name": "UserName",
    "related_url": "RelatedURL",
}


def comment_body(submission: CommentSubmission) -> dict[str, Any]:
    """The ``POST /comment`` JSON body; what the submission leaves out is not sent."""
    body = {key: getattr(submission, field) for field, key in _COMMENT_KEYS.items()}
    return {key: value for key, value in body.items() if value is not None}


def comment_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """A stored ``POST /comment`` body as :class:`CommentSubmission`'s keyword arguments."""
    return {field: body[key] for field, key in _COMMENT_KEYS.items() if body.get(key) is not None}


def mediaitem_body(submission: PhotoSubmission) -> dict[str, Any]:
    """The ``POST /mediaitem`` JSON body (OCM's ``MediaItemSubmission``): the image as a data URL.

    OCM names the stored file from the data URL's media type (jpeg, png, tiff) and decodes the rest,
    so the prefix is always sent; a caption is sent only when there is one.
    """
    body: dict[str, Any] = {
        "ChargePointID": submission.charger_id,
        "ImageDataBase64": f"data:{submission.mime_type};base64," + base64.b64encode(submission.image).decode("ascii"),
    }
    if submission.comment:
        body["Comment"] = submission.comment
    return body
