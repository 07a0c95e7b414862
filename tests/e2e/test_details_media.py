"""The details of a charger: its last three comments, and its first photos as a credited album on request."""

from __future__ import annotations

import json

GDANSK = 52224  # Urząd Miasta Gdańsk: 4 comments and 5 photos by PatrykS in the shared samples


async def open_details(user, charger_id: int = GDANSK):
    await user.send_text(f"/charger {charger_id}")
    return await user.wait_for_message(containing="📍")


async def test_details_show_the_last_three_comments_with_date_outcome_and_rating(telegram, bot):
    ada = telegram.user("Ada")
    details = await open_details(ada)
    comments = [line for line in details.text.splitlines() if line.startswith("• ") and "PatrykS" in line]
    assert len(comments) == 3
    assert "Charged successfully" in comments[0] and "★★★★★" in comments[0] and "ago" in comments[0]
    assert "2015-12-25 10:30" in comments[0]  # the newest first
    assert not any("Mode 3 Type 1" in line for line in comments)  # the oldest is left out


async def test_photos_on_request_come_as_one_album_each_credited(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    details = await open_details(ada)
    assert "📷 Photos (5)" in details.labels
    assert telegram_server.calls("sendMediaGroup") == []  # only on request
    await ada.wait_for_message(where=lambda m: m.venue is not None)  # the pin after the details
    pressed = await ada.press(details, "📷 Photos (5)")
    await pressed.answered()
    album = await ada.wait_for_messages(5)
    [call] = telegram_server.calls("sendMediaGroup")
    media = call["media"] if isinstance(call["media"], list) else json.loads(call["media"])
    assert media[0]["media"].endswith("OCM-52224.orig.2015092721105431.jpg")
    captions = [m.text or "" for m in album]
    assert all(m.raw.get("media_group_id") == album[0].raw["media_group_id"] for m in album)
    assert all("📷 PatrykS on Open Charge Map (CC BY 4.0)" in c for c in captions)
    assert "“Charging Opel Ampera with 7,2kW cable/plug”" in captions[0]
