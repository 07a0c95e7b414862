"""A driver's photo of a charger, on its way to OCM (``POST /mediaitem``) through the outbox.

The path of a photo::

    what was sent   -> check_media (size and type, before anything is downloaded)
    the file        -> PhotoService.begin: kept in storage under the draft's key at once
    a caption       -> PhotoService.confirm: the draft goes into the outbox under that key
    the outbox      -> POST /mediaitem with the driver's sign-in or the write key (domain/outbox.py)

A driver without a sign-in and a bot without a write key are sent to OCM's own "add a photo" page
instead (nothing is downloaded). The draft's key is the outbox's idempotency key: confirming twice
queues one upload. Example::

    problem = check_media(MediaKind.PHOTO, "image/jpeg", 800_000)   # None: fine
    draft = await photos.begin(user_id=7, chat_id=7, target=PhotoTarget(1234, "Lidl"), image=data,
                               mime_type="image/jpeg")
    result = await photos.confirm(7, caption="The CCS bay", language="en")
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ocm_bot.domain.outbox import PHOTO_KIND, Outbox, QueuedPhoto, Submitter, photo_file_key
from ocm_bot.ocm.writing import PHOTO_MIME_TYPES
from ocm_bot.storage.base import OutboxItem

MAX_PHOTO_BYTES = 10 * 1024 * 1024
"""The largest photo the bot takes: Telegram lets a bot download up to 20 MB, and OCM gets it as
base64 JSON (a third larger); a phone photo is a few MB."""
MAX_CAPTION_CHARS = 500
WAIT_FOR_PHOTO = timedelta(minutes=30)  # after "Add a photo", how long the next picture counts for it
DRAFT_LIFETIME = timedelta(hours=1)

_DRAFT_PREFIX = "photo-draft:"
_WAIT_PREFIX = "photo-wait:"
_PICK_PREFIX = "photo-pick:"


class MediaKind(enum.StrEnum):
    """What the driver sent, as far as a photo check cares."""

    PHOTO = "photo"  # a compressed photo (always JPEG)
    DOCUMENT = "document"  # any file: a photo sent "as a file", a PDF...
    STICKER = "sticker"
    VIDEO = "video"
    ANIMATION = "animation"  # a GIF (Telegram sends them as MPEG-4 animations)


class PhotoProblem(enum.StrEnum):
    TOO_BIG = "too_big"
    STICKER = "sticker"
    VIDEO = "video"
    ANIMATION = "animation"
    NOT_AN_IMAGE = "not_an_image"  # a PDF, a HEIC, a file of any other type


def check_media(kind: MediaKind, mime_type: str | None, size: int | None) -> PhotoProblem | None:
    """Why this cannot be a charger photo, or None: checked before anything is downloaded."""
    if kind is MediaKind.STICKER:
        return PhotoProblem.STICKER
    if kind is MediaKind.ANIMATION or mime_type == "image/gif":
        return PhotoProblem.ANIMATION
    if kind is MediaKind.VIDEO or (mime_type or "").startswith("video/"):
        return PhotoProblem.VIDEO
    if kind is MediaKind.DOCUMENT and mime_type not in PHOTO_MIME_TYPES:
        return PhotoProblem.NOT_AN_IMAGE
    if size is not None and size > MAX_PHOTO_BYTES:
        return PhotoProblem.TOO_BIG
    return None


def sniff_image_type(data: bytes) -> str | None:
    """The media type the bytes really are (JPEG, PNG, WebP), or None: a file's name can lie."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True, slots=True)
class PhotoTarget:
    """The charger a photo is for."""

    charger_id: int
    charger_name: str


@dataclass(frozen=True, slots=True)
class PhotoDraft:
    """A photo kept in storage, waiting for the driver's caption (or Skip)."""

    key: str
    target: PhotoTarget
    chat_id: int
    mime_type: str
    created_at: datetime
    caption: str | None = None  # the caption the photo came with, offered as it is
    panel_message_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "charger_id": self.target.charger_id,
            "charger_name": self.target.charger_name,
            "chat_id": self.chat_id,
            "mime_type": self.mime_type,
            "created_at": self.created_at.isoformat(),
            "caption": self.caption,
            "panel_message_id": self.panel_message_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PhotoDraft | None:
        if not isinstance(data, Mapping) or "key" not in data:
            return None
        try:
            return cls(
                key=str(data["key"]),
                target=PhotoTarget(int(data["charger_id"]), str(data.get("charger_name") or "")),
                chat_id=int(data["chat_id"]),
                mime_type=str(data.get("mime_type") or "image/jpeg"),
                created_at=datetime.fromisoformat(str(data["created_at"])),
                caption=data.get("caption") or None,
                panel_message_id=data.get("panel_message_id"),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class HeldMedia:
    """A picture sent in reply to several chargers' cards, held (not downloaded) until the driver
    says which charger it shows; ``file_ref`` is the messenger's reference to download it later."""

    file_ref: str
    mime_type: str | None
    size: int | None
    caption: str | None
    charger_ids: tuple[int, ...]
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_ref": self.file_ref,
            "mime_type": self.mime_type,
            "size": self.size,
            "caption": self.caption,
            "charger_ids": list(self.charger_ids),
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> HeldMedia | None:
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(
                file_ref=str(data["file_ref"]),
                mime_type=data.get("mime_type"),
                size=data.get("size"),
                caption=data.get("caption"),
                charger_ids=tuple(int(i) for i in data["charger_ids"]),
                at=datetime.fromisoformat(str(data["at"])),
            )
        except (KeyError, TypeError, ValueError):
            return None


class PhotoStatus(enum.StrEnum):
    QUEUED = "queued"
    ALREADY_QUEUED = "already_queued"  # a second tap on Send, a replayed update
    NO_DRAFT = "no_draft"  # nothing waiting (cancelled, expired, sent already)
    NO_CREDENTIALS = "no_credentials"  # signed out meanwhile and no write key: OCM's own page


@dataclass(frozen=True, slots=True)
class PhotoResult:
    status: PhotoStatus
    draft: PhotoDraft | None = None
    item: OutboxItem | None = None


@dataclass
class PhotoService:
    """Photo drafts in storage and handing confirmed photos to the outbox (see the module docstring)."""

    storage: Any  # ValueStore + OutboxStore
    outbox: Outbox
    submitter_for: Callable[[int], Awaitable[Submitter]]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def can_post(self, user_id: int) -> bool:
        return await self.submitter_for(user_id) is not Submitter.NONE

    async def wait_for_photo(self, user_id: int, target: PhotoTarget) -> None:
        """After "Add a photo": the driver's next picture is for this charger."""
        value = {"charger_id": target.charger_id, "charger_name": target.charger_name, "at": self.now().isoformat()}
        await self.storage.set_value(_WAIT_PREFIX + str(user_id), value)

    async def awaited_target(self, user_id: int) -> PhotoTarget | None:
        value = await self.storage.get_value(_WAIT_PREFIX + str(user_id))
        if not isinstance(value, Mapping):
            return None
        try:
            since = datetime.fromisoformat(str(value["at"]))
            target = PhotoTarget(int(value["charger_id"]), str(value.get("charger_name") or ""))
        except (KeyError, TypeError, ValueError):
            return None
        return target if self.now() - since <= WAIT_FOR_PHOTO else None

    async def hold_for_choice(self, user_id: int, held: HeldMedia) -> None:
        """Keep a picture sent in reply to several cards until the driver picks the charger."""
        await self.storage.set_value(_PICK_PREFIX + str(user_id), held.to_dict())

    async def take_choice(self, user_id: int, index: int) -> tuple[HeldMedia, int] | None:
        """The held picture and the charger at ``index`` of its cards; None when nothing is held."""
        held = HeldMedia.from_dict(await self.storage.get_value(_PICK_PREFIX + str(user_id)))
        if held is None or not 0 <= index < len(held.charger_ids) or self.now() - held.at > WAIT_FOR_PHOTO:
            return None
        await self.storage.set_value(_PICK_PREFIX + str(user_id), None)
        return held, held.charger_ids[index]

    async def begin(
        self,
        *,
        user_id: int,
        chat_id: int,
        target: PhotoTarget,
        image: bytes,
        mime_type: str,
        caption: str | None = None,
    ) -> PhotoDraft:
        """Keep the downloaded image and open a draft for it (an earlier unconfirmed one is dropped)."""
        await self.discard(user_id)
        draft = PhotoDraft(
            key="ph-" + secrets.token_urlsafe(12),
            target=target,
            chat_id=chat_id,
            mime_type=mime_type,
            created_at=self.now(),
            caption=clean_caption(caption),
        )
        await self.outbox.keep_photo_file(draft.key, image)
        await self.storage.set_value(_DRAFT_PREFIX + str(user_id), draft.to_dict())
        await self.storage.set_value(_WAIT_PREFIX + str(user_id), None)
        return draft

    async def draft(self, user_id: int) -> PhotoDraft | None:
        draft = PhotoDraft.from_dict(await self.storage.get_value(_DRAFT_PREFIX + str(user_id)))
        if draft is not None and self.now() - draft.created_at > DRAFT_LIFETIME:
            await self.discard(user_id)
            return None
        return draft

    async def set_panel(self, user_id: int, draft: PhotoDraft, message_id: int) -> PhotoDraft:
        draft = replace(draft, panel_message_id=message_id)
        await self.storage.set_value(_DRAFT_PREFIX + str(user_id), draft.to_dict())
        return draft

    async def discard(self, user_id: int) -> bool:
        """Drop the driver's unconfirmed photo and its kept file; False when there was none."""
        draft = PhotoDraft.from_dict(await self.storage.get_value(_DRAFT_PREFIX + str(user_id)))
        if draft is None:
            return False
        if await self.storage.get_outbox(draft.key) is None:
            await self.storage.set_value(photo_file_key(draft.key), None)
        await self.storage.set_value(_DRAFT_PREFIX + str(user_id), None)
        return True

    async def forget(self, user_id: int) -> None:
        """/forget: the driver's kept photos (unconfirmed, or queued and never to be sent) and waits."""
        await self.discard(user_id)
        for prefix in (_WAIT_PREFIX, _PICK_PREFIX):
            await self.storage.set_value(prefix + str(user_id), None)
        for item in await self.storage.outbox_for_user(user_id):
            if item.payload.get("kind") == PHOTO_KIND:
                await self.storage.set_value(photo_file_key(item.key), None)

    async def confirm(self, user_id: int, key: str, *, caption: str | None, language: str) -> PhotoResult:
        """Queue the draft ``key`` with ``caption`` (None: none); nothing is queued twice."""
        existing = await self.storage.get_outbox(key)
        if existing is not None:
            return PhotoResult(PhotoStatus.ALREADY_QUEUED, item=existing)
        draft = await self.draft(user_id)
        if draft is None or draft.key != key:
            return PhotoResult(PhotoStatus.NO_DRAFT)
        submitter = await self.submitter_for(user_id)
        if submitter is Submitter.NONE:
            return PhotoResult(PhotoStatus.NO_CREDENTIALS, draft)
        photo = QueuedPhoto(
            charger_id=draft.target.charger_id,
            mime_type=draft.mime_type,
            caption=clean_caption(caption),
            submitter=submitter,
            charger_name=draft.target.charger_name,
            language=language,
            panel_message_id=draft.panel_message_id,
        )
        created = await self.outbox.enqueue_photo(key=draft.key, user_id=user_id, chat_id=draft.chat_id, photo=photo)
        await self.storage.set_value(_DRAFT_PREFIX + str(user_id), None)
        item = await self.storage.get_outbox(draft.key)
        return PhotoResult(PhotoStatus.QUEUED if created else PhotoStatus.ALREADY_QUEUED, draft, item)


def clean_caption(text: str | None) -> str | None:
    """A caption as OCM takes it: trimmed, at most :data:`MAX_CAPTION_CHARS`, None when empty."""
    if text is None or not text.strip():
        return None
    return text.strip()[:MAX_CAPTION_CHARS]
