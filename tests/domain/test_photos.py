"""Photo checks and the in-doubt match of an uploaded photo (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocm_bot.domain.outbox import QueuedPhoto, Submitter, matches_photo, queued_from_payload
from ocm_bot.domain.photos import MAX_PHOTO_BYTES, MediaKind, PhotoProblem, check_media, sniff_image_type
from ocm_bot.ocm.models import MediaItem


@pytest.mark.parametrize(
    ("kind", "mime", "size", "problem"),
    [
        (MediaKind.PHOTO, "image/jpeg", 2_000_000, None),
        (MediaKind.DOCUMENT, "image/png", 2_000_000, None),
        (MediaKind.DOCUMENT, "image/jpeg", MAX_PHOTO_BYTES + 1, PhotoProblem.TOO_BIG),
        (MediaKind.VIDEO, "video/mp4", 40 * 1024 * 1024, PhotoProblem.VIDEO),
        (MediaKind.DOCUMENT, "video/quicktime", 1000, PhotoProblem.VIDEO),
        (MediaKind.STICKER, None, 30_000, PhotoProblem.STICKER),
        (MediaKind.ANIMATION, "video/mp4", 30_000, PhotoProblem.ANIMATION),
        (MediaKind.DOCUMENT, "image/gif", 30_000, PhotoProblem.ANIMATION),
        (MediaKind.DOCUMENT, "application/pdf", 30_000, PhotoProblem.NOT_AN_IMAGE),
        (MediaKind.DOCUMENT, "image/heic", 30_000, PhotoProblem.NOT_AN_IMAGE),
    ],
)
def test_check_media(kind, mime, size, problem):
    assert check_media(kind, mime, size) is problem


def test_the_bytes_decide_the_type_not_the_name():
    assert sniff_image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image_type(b"%PDF-1.7") is None


def test_a_queued_photo_round_trips_and_matches_its_upload_only_after_it_was_queued():
    photo = QueuedPhoto(1234, "image/png", "The bay", Submitter.APP, "Lidl", language="de")
    assert queued_from_payload(photo.to_payload()) == photo
    queued = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    ours = MediaItem(1, comment="The bay", date_created=queued + timedelta(seconds=5))
    older = MediaItem(2, comment="The bay", date_created=queued - timedelta(days=3))
    other = MediaItem(3, comment="Another", date_created=queued + timedelta(seconds=5))
    assert matches_photo(ours, photo, since=queued)
    assert not matches_photo(older, photo, since=queued) and not matches_photo(other, photo, since=queued)
