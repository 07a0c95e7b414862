"""Writing to OCM: signing a driver in, posting check-ins and comments (``POST /comment``) and
photos (``POST /mediaitem``).

POSTs are never retried (OCM has no idempotency keys; a retry could post twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocm_bot.ocm.errors import OcmAuthError, OcmBadResponse, OcmPasswordlessAccount, OcmRejected
from ocm_bot.ocm.parse import _ci
from ocm_bot.ocm.transport import OcmTransport, json_of
from ocm_bot.ocm.wire import comment_body, mediaitem_body


@dataclass(frozen=True, slots=True)
class OcmSession:
    """A signed-in OCM user; ``token`` is the JWT for ``Authorization: Bearer``."""

    token: str = field(repr=False)
    user_id: int | None
    username: str | None


@dataclass(frozen=True, slots=True)
class CommentSubmission:
    """A check-in or comment for ``POST /comment`` (OCM's rules checked before sending).

    Example::

        CommentSubmission(charger_id=100627, checkin_status_type_id=10, rating=5, comment="Quick")
    """

    charger_id: int
    comment_type_id: int | None = None  # OCM uses 10 "General Comment" when absent
    checkin_status_type_id: int | None = None
    rating: int | None = None
    comment: str | None = None
    user_name: str | None = None
    related_url: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.charger_id, bool) or not isinstance(self.charger_id, int) or self.charger_id < 1:
            raise ValueError(f"charger_id must be a positive OCM ID, got {self.charger_id!r}")
        if self.rating is not None and (
            isinstance(self.rating, bool) or not isinstance(self.rating, int) or not 1 <= self.rating <= 5
        ):
            raise ValueError(f"rating must be 1 to 5, got {self.rating!r}")
        for name, longest in (("comment", 4000), ("user_name", 100), ("related_url", 500)):
            value = getattr(self, name)
            if value is not None and len(value) > longest:
                raise ValueError(f"{name} is longer than OCM's {longest} characters")

    def to_json(self) -> dict[str, Any]:
        return comment_body(self)


PHOTO_MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
"""What the bot sends to ``POST /mediaitem``: still images OCM's image library decodes."""


@dataclass(frozen=True, slots=True)
class PhotoSubmission:
    """A photo of a charger for ``POST /mediaitem`` (OCM's ``MediaItemSubmission``).

    Example::

        PhotoSubmission(charger_id=100627, image=jpeg_bytes, mime_type="image/jpeg", comment="The CCS bay")
    """

    charger_id: int
    image: bytes = field(repr=False)
    mime_type: str = "image/jpeg"
    comment: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.charger_id, bool) or not isinstance(self.charger_id, int) or self.charger_id < 1:
            raise ValueError(f"charger_id must be a positive OCM ID, got {self.charger_id!r}")
        if not self.image:
            raise ValueError("a photo needs its image bytes")
        if self.mime_type not in PHOTO_MIME_TYPES:
            raise ValueError(f"OCM takes {', '.join(PHOTO_MIME_TYPES)} photos, not {self.mime_type!r}")

    def to_json(self) -> dict[str, Any]:
        return mediaitem_body(self)


async def authenticate(transport: OcmTransport, email: str, password: str) -> OcmSession:
    """Sign a user in; the password goes to OCM only and is never kept or logged."""
    response = await transport.post("/profile/authenticate", {"emailaddress": email, "password": password})
    if not response.content.strip():
        # OCM's sign-in throws for an account without a password (social login) and its
        # middleware swallows that: 200, no body. Retrying cannot help; setting a password can.
        raise OcmPasswordlessAccount
    data = _ci(_ci(json_of(response)).get("data"))
    profile = _ci(data.get("userprofile"))
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise OcmBadResponse("authentication answer without an access token")
    user_id = profile.get("id")
    return OcmSession(
        token=token,
        user_id=int(user_id) if isinstance(user_id, int) else None,
        username=profile.get("username"),
    )


def _write_credentials(token: str | None, write_key: str | None) -> tuple[dict[str, str], dict[str, str] | None]:
    if not token and not write_key:
        raise OcmAuthError("a user token or a write-enabled API key is needed", status=401)
    headers = {"Authorization": f"Bearer {token}"} if token and not write_key else {}
    params = {"apikey": write_key} if write_key else None
    return headers, params


async def submit_photo(
    transport: OcmTransport, submission: PhotoSubmission, *, token: str | None = None, write_key: str | None = None
) -> None:
    """``POST /mediaitem`` as the signed-in user (``token``) or with a write-enabled app key.

    The same credentials and answers as ``POST /comment`` (OCM's submission handler serves both),
    except that every refusal of the photo itself (unknown charger, an image OCM cannot decode,
    a body it cannot read) is ``400 {"status":"error","description":"Failed"}``.
    """
    headers, params = _write_credentials(token, write_key)
    response = await transport.post("/mediaitem", submission.to_json(), headers=headers, params=params)
    if token and not write_key and not response.content.strip():
        raise OcmAuthError("OCM could not read the sign-in token", status=response.status_code, user_token=True)
    answer = _ci(json_of(response))
    if str(answer.get("status", "")).upper() != "OK":
        raise OcmRejected(str(answer.get("description") or "OCM did not accept the photo"), status=200)


async def submit_comment(
    transport: OcmTransport, submission: CommentSubmission, *, token: str | None = None, write_key: str | None = None
) -> None:
    """``POST /comment`` as the signed-in user (``token``) or with a write-enabled app key.

    OCM's edge accepts only the application's primary (read) key in ``X-API-Key``; the user
    a write key stands for is looked up from the ``apikey`` parameter (before any token), so
    the read key stays in the header and the write key goes as ``apikey``.

    Raises OcmAuthError(401) without either, OcmRejected with OCM's description when refused.
    """
    if not token and not write_key:
        raise OcmAuthError("a user token or a write-enabled API key is needed", status=401)
    headers = {"Authorization": f"Bearer {token}"} if token and not write_key else {}
    params = {"apikey": write_key} if write_key else None
    response = await transport.post("/comment", submission.to_json(), headers=headers, params=params)
    if token and not write_key and not response.content.strip():
        # A token OCM cannot read makes its JWT middleware throw: 200 with no body. The post
        # was not stored; the driver has to sign in again.
        raise OcmAuthError("OCM could not read the sign-in token", status=response.status_code, user_token=True)
    answer = _ci(json_of(response))
    if str(answer.get("status", "")).upper() != "OK":
        raise OcmRejected(str(answer.get("description") or "OCM did not accept the comment"), status=200)
