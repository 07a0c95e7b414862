"""Photos of chargers end to end: a driver sends a picture in the fake Telegram, the fake OCM's
``POST /v3/mediaitem`` receives it once, through the check-in outbox (also after OCM was down and
after a kill -9 of a real ``ocm-bot run`` between the confirmation and the upload)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json

import pytest

from ocm_bot.settings import Secret
from tests.e2e.test_checkin import sign_in, tap
from tests.e2e.test_search import search_at

SEASON, SEASON_NAME = 102848, "SEASON SCC"  # Salt Lake City samples
HILTON = 13343
CITY_CREEK = 142463
# A JPEG's first bytes (what Telegram's photos are) and a PNG: the fake OCM decodes them by magic bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def uploads(ocm_server) -> list[dict]:
    return [json.loads(r.body) for r in ocm_server.requests_to("/v3/mediaitem", "POST")]


async def details_of(user, charger_id: int):
    await user.send_text(f"/charger {charger_id}")
    return await user.wait_for_message(containing="📍")


@pytest.fixture
async def bot_with_write_key(start_bot, ocm_server):
    return await start_bot(ocm_write_key=Secret(ocm_server.add_write_key(username="ocm-bot")), outbox_poll_seconds=1)


async def test_a_photo_in_reply_to_the_details_reaches_ocm_once_with_its_caption(
    bot_with_write_key, telegram, ocm_server
):
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_photo(content=JPEG, reply_to=details)
    step = await ada.wait_for_message(containing="Add a caption")
    assert SEASON_NAME in step.text and "Skip" in step.labels
    await ada.send_text("The CCS bay, <left> of the shop")
    done = await ada.wait_for_edit(step, containing="Thanks! Your photo")
    assert "Open in OCM ↗" in done.url_buttons
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.image, stored.username) == (SEASON, JPEG, "ocm-bot")
    assert stored.comment == "The CCS bay, <left> of the shop"
    [body] = uploads(ocm_server)
    assert body["ImageDataBase64"].startswith("data:image/jpeg;base64,")
    await telegram.wait_until_idle()
    assert len(ocm_server.media_items) == 1


async def test_a_photo_in_reply_to_a_results_card_asks_which_card_and_reaches_ocm_once(
    bot_with_write_key, telegram, ocm_server
):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    second = int(results.url_buttons["2 · Open in OCM ↗"].rsplit("/", 1)[1])
    await ada.send_photo(content=JPEG, reply_to=results)
    which = await ada.wait_for_message(containing="Which charger is in your photo?")
    assert which.labels[:3] == ["📷 1", "📷 2", "📷 3"]
    await tap(ada, which, "📷 2")
    step = await ada.wait_for_message(containing="Add a caption")
    await tap(ada, step, "Skip")
    await ada.wait_for_edit(step, containing="Thanks! Your photo")
    await telegram.wait_until_idle()
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.image, stored.comment) == (second, JPEG, None)
    assert len(uploads(ocm_server)) == 1


async def test_add_a_photo_then_an_image_file_goes_up_as_the_signed_in_driver(start_bot, telegram, ocm_server):
    await start_bot(storage_secret=Secret("e2e storage secret"), outbox_poll_seconds=1)
    ada = telegram.user("Ada")
    await sign_in(ada, ocm_server)
    details = await details_of(ada, HILTON)
    await ada.press(details, "📷 Add a photo")
    await ada.wait_for_message(containing="Send your photo")
    await ada.send_file("document", content=PNG, mime_type="image/png", file_name="bay.png")
    step = await ada.wait_for_message(containing="Add a caption")
    await tap(ada, step, "Skip")
    await ada.wait_for_edit(step, containing="Thanks! Your photo")
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.via, stored.username, stored.comment) == (HILTON, "token", "ada", None)
    assert stored.media_type == "image/png"


async def test_ocm_down_the_photo_is_kept_and_posted_once_when_it_is_back(bot_with_write_key, telegram, ocm_server):
    ada = telegram.user("Ada")
    ocm_server.inject("status500", times=None, path_prefix="/v3/mediaitem")
    details = await details_of(ada, CITY_CREEK)
    await ada.send_photo("Charging bays", content=JPEG, reply_to=details)
    step = await ada.wait_for_message(containing="Charging bays")
    await tap(ada, step, "✅ Send")
    waiting = await ada.wait_for_edit(step, containing="not answering")
    assert "is saved" in waiting.text and "🔄 Retry now" in waiting.labels
    assert ocm_server.media_items == []
    ocm_server.clear_faults()
    await tap(ada, waiting, "Retry now")
    await ada.wait_for_edit(waiting, containing="Thanks! Your photo")
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.comment, stored.image) == (CITY_CREEK, "Charging bays", JPEG)
    # Every failed attempt got its 500 (OCM stored nothing); the in-doubt check then found nothing either.
    assert len(uploads(ocm_server)) >= 2


@pytest.mark.parametrize(
    ("kind", "described", "expected"),
    [
        ("video", {"file_size": 40 * 1024 * 1024, "mime_type": "video/mp4"}, "not videos"),
        ("document", {"file_size": 40 * 1024 * 1024, "mime_type": "image/jpeg"}, "at most 10 MB"),
        ("sticker", {"content": b"RIFF\x00\x00\x00\x00WEBPVP8 "}, "Stickers"),
        ("animation", {"content": b"GIF89a...", "mime_type": "video/mp4", "file_name": "x.gif.mp4"}, "not GIFs"),
        ("document", {"content": b"%PDF-1.7", "mime_type": "application/pdf", "file_name": "a.pdf"}, "JPEG, PNG"),
    ],
    ids=["40-mb-video", "40-mb-image-file", "sticker", "gif", "pdf"],
)
async def test_what_is_no_charger_photo_is_refused_clearly_before_any_download(
    bot_with_write_key, telegram, telegram_server, ocm_server, kind, described, expected
):
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_file(kind, reply_to=details, **described)
    refusal = await ada.wait_for_message(containing=expected)
    assert "Add a caption" not in refusal.text
    await telegram.wait_until_idle()
    assert telegram_server.calls("getFile") == []
    assert uploads(ocm_server) == []


async def test_a_file_that_claims_to_be_a_jpeg_but_is_not_is_refused_after_download(
    bot_with_write_key, telegram, ocm_server
):
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_file("document", content=b"%PDF-1.7 in disguise", mime_type="image/jpeg", reply_to=details)
    await ada.wait_for_message(containing="JPEG, PNG or WebP")
    assert uploads(ocm_server) == []


async def test_without_write_access_the_driver_gets_ocm_s_add_photo_page(bot, telegram, telegram_server, ocm_server):
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_photo(content=JPEG, reply_to=details)
    answer = await ada.wait_for_message(containing="/login")
    assert answer.url_buttons["Add a photo on Open Charge Map ↗"] == (
        f"https://openchargemap.org/site/poi/addmediaitem/{SEASON}"
    )
    assert telegram_server.calls("getFile") == []


async def test_a_photo_with_no_charger_in_sight_gets_a_hint(bot_with_write_key, telegram):
    ada = telegram.user("Ada")
    await ada.send_photo(content=JPEG)
    hint = await ada.wait_for_message(containing="in reply to the charger's details")
    assert "📷 Add a photo" in hint.text


def answer_uploads_late(ocm_server, monkeypatch, *, seconds: float) -> None:
    """OCM stores each photo at once but answers ``seconds`` later (the bot dies before it hears)."""
    store_and_answer = ocm_server.dispatch

    async def dispatch(request):
        response = store_and_answer(request)
        if request.path.startswith("/v3/mediaitem"):
            await asyncio.sleep(seconds)
        return response

    monkeypatch.setattr(ocm_server, "dispatch", dispatch)


@pytest.mark.parametrize("ocm_stored_it", [False, True], ids=["ocm-never-got-it", "ocm-stored-it"])
async def test_ocm_bot_run_killed_between_confirm_and_upload_posts_the_photo_once_after_restart(
    bot_settings, bot_process, telegram, ocm_server, monkeypatch, ocm_stored_it
):
    charger = CITY_CREEK if ocm_stored_it else HILTON
    settings = dataclasses.replace(bot_settings, ocm_write_key=Secret(ocm_server.add_write_key()))
    quick_outbox = {"OUTBOX_LEASE_SECONDS": "2", "OUTBOX_POLL_SECONDS": "1"}
    first = bot_process(settings, **quick_outbox)
    ada = telegram.user("Ada")
    await ada.send_text(f"/charger {charger}")
    details = await ada.wait_for_message(containing="📍", timeout=30)
    await ada.send_photo(content=JPEG, reply_to=details)
    step = await ada.wait_for_message(containing="Add a caption", timeout=30)
    if ocm_stored_it:
        answer_uploads_late(ocm_server, monkeypatch, seconds=10.0)
    else:
        ocm_server.inject("hang", path_prefix="/v3/mediaitem")
    await tap(ada, step, "Skip")
    sending = await ada.wait_for_edit(step, containing="Sending your photo")
    await ada.wait_until(lambda: ocm_server.requests_to("/v3/mediaitem", "POST"), what="the upload reached OCM")
    if ocm_stored_it:
        await ada.wait_until(lambda: ocm_server.media_items, what="OCM stored the photo")
    first.kill()
    ocm_server.clear_faults()
    monkeypatch.undo()

    bot_process(settings, **quick_outbox)
    await ada.wait_for_edit(sending, containing="Thanks! Your photo", timeout=30)
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.image) == (charger, JPEG)
    await ada.expect_silence()
    assert len(ocm_server.media_items) == 1
    # Stored: the restarted bot found it among the charger's photos and did not post it again.
    assert len(uploads(ocm_server)) == (1 if ocm_stored_it else 2)


async def test_forget_deletes_the_kept_photo(bot_with_write_key, telegram, ocm_server):
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_photo(content=JPEG, reply_to=details)
    await ada.wait_for_message(containing="Add a caption")
    storage = bot_with_write_key.services.storage
    draft = await storage.get_value(f"photo-draft:{ada.id}")
    assert await storage.get_value(f"photo-file:{draft['key']}") is not None
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="?")
    await tap(ada, question, "🗑 Delete everything")
    await ada.wait_for_edit(question)
    assert await storage.get_value(f"photo-file:{draft['key']}") is None
    assert await storage.get_value(f"photo-draft:{ada.id}") is None


async def test_a_sign_in_while_a_photo_waits_for_its_caption_keeps_the_password_out_of_it(
    start_bot, telegram, ocm_server
):
    await start_bot(storage_secret=Secret("e2e storage secret"), ocm_write_key=Secret(ocm_server.add_write_key()))
    ada = telegram.user("Ada")
    details = await details_of(ada, SEASON)
    await ada.send_photo(content=JPEG, reply_to=details)
    step = await ada.wait_for_message(containing="Add a caption")
    _, reply = await sign_in(ada, ocm_server)
    assert "Signed in" in reply.text
    await ada.send_text("Left bay")
    await ada.wait_for_edit(step, containing="Thanks! Your photo")
    [stored] = ocm_server.media_items
    assert stored.comment == "Left bay" and stored.username == "ada"  # the driver's own account by now
