"""Trust signals end to end: what the last drivers reported shows on cards, details and button colours,
from OCM's own data and the bot's own check-ins, without asking OCM more often."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocm_bot.settings import Secret
from tests.e2e.test_checkin import fill_in, tap

SEASON, SEASON_NAME = 102848, "SEASON SCC"  # Salt Lake City samples


def where(ocm_server, charger_id: int) -> tuple[float, float]:
    address = ocm_server.poi(charger_id)["AddressInfo"]
    return address["Latitude"], address["Longitude"]


def searches(ocm_server) -> int:
    """Requests that searched around a point (not the outbox's look at one charger)."""
    return sum(1 for r in ocm_server.requests_to("/v3/poi") if "latitude" in r.query.lower())


def details_button(message, n: int):
    return next(b for b in message.buttons if b.text == f"ℹ️ {n}")


async def test_a_fault_check_in_shows_at_once_on_the_card_in_red_without_another_search(
    start_bot, telegram, ocm_server
):
    await start_bot(ocm_write_key=Secret(ocm_server.add_write_key()), outbox_poll_seconds=1)
    ada = telegram.user("Ada")
    await ada.send_location(*where(ocm_server, SEASON))
    before = await ada.wait_for_message(containing="Chargers near")
    assert SEASON_NAME in before.text.splitlines()[2] or SEASON_NAME in before.text
    assert "fault reported" not in before.text
    assert searches(ocm_server) == 1

    summary = await fill_in(ada, charger=SEASON)  # ⚠️ Could not charge: not operational, 2 stars
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")

    await ada.send_location(*where(ocm_server, SEASON))
    after = await ada.wait_for_message(containing="Chargers near")
    card = after.text.split("\n\n")[1]
    assert SEASON_NAME in card and "⚠️ fault reported" in card
    assert details_button(after, 1).raw.get("style") == "danger"
    assert searches(ocm_server) == 1  # the same one search for both: the card came from the cache


async def test_details_show_when_it_last_worked_recent_check_ins_and_the_rating(bot, telegram, ocm_server):
    now = datetime.now(UTC)
    stamp = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    older = (now - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ocm_server.modify_poi(
        SEASON,
        DateLastVerified=(now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        DateLastStatusUpdate=older,
        UserComments=[
            {
                "ID": 1,
                "CheckinStatusTypeID": 10,
                "Rating": 5,
                "Comment": "Fine <b>today</b>",
                "DateCreated": stamp,
                "UserName": "bea",
                "CommentTypeID": 10,
            },
            {
                "ID": 2,
                "CheckinStatusTypeID": 20,
                "Rating": 2,
                "Comment": "Broken",
                "DateCreated": older,
                "UserName": "cy",
                "CommentTypeID": 10,
            },
        ],
    )
    ada = telegram.user("Ada")
    await ada.send_text(f"/charger {SEASON}")
    details = await ada.wait_for_message(containing="📍")
    assert "✅ worked 2 days ago" in details.text
    assert "fault reported" not in details.text  # the fault is older than the last success
    assert "2 check-ins in 90 days" in details.text
    assert "★ 3.5 (2)" in details.text
    assert "“Fine <b>today</b>”" in details.text  # a driver's words shown as typed (escaped), not as markup


async def test_working_only_can_also_hide_chargers_with_a_recent_fault_report(start_bot, telegram, ocm_server):
    await start_bot(ocm_write_key=Secret(ocm_server.add_write_key()), outbox_poll_seconds=1)
    ada = telegram.user("Ada")
    await ada.send_text("/settings")
    menu = await ada.wait_for_message(containing="Settings")
    assert "Hide recent fault reports" in menu.text
    await tap(ada, menu, "Hide recent fault reports")
    menu = await ada.wait_for_edit(menu)
    summary = await fill_in(ada, charger=SEASON)  # a fault report, now
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    await ada.send_location(*where(ocm_server, SEASON))
    results = await ada.wait_for_message(containing="Chargers near")
    assert SEASON_NAME not in results.text
    assert "working only" in results.text  # the filter that hides it, removable with one tap
