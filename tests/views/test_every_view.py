"""Every screen the bot can show, in every language it speaks, within Telegram's limits.

Each screen builder of ``ocm_bot/views`` (a function returning a ``View``, its list, or a keyboard)
is drawn with representative data, long OCM names included, in each available language (whatever
catalogs exist: twelve once all translations have landed), and checked as Telegram would check it:
valid HTML of Telegram's tags, at most 4096 characters of text after the HTML is parsed (counted
in UTF-16 code units, as Telegram counts), button labels short enough to read (64 characters) and
``callback_data`` of at most 64 bytes. A new screen builder without a scenario here fails
:func:`test_every_screen_builder_has_a_scenario`.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from ocm_bot.domain.checkin import CheckinDraft, find_outcome, group_outcomes, outcomes_from
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.outbox import Delivery, DeliveryResult, QueuedCheckin, QueuedPhoto, Submitter
from ocm_bot.domain.photos import PhotoDraft, PhotoProblem, PhotoTarget
from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.search import Hit
from ocm_bot.domain.watch_changes import ChargerEvent, Condition
from ocm_bot.domain.watch_quiet import QuietHours
from ocm_bot.domain.watch_setup import Step, WatchSetup
from ocm_bot.domain.watches import Announce, Watch, WatchFilters
from ocm_bot.i18n import Translator, available_languages, translator
from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmAuthError, OcmRejected, OcmUnavailable
from ocm_bot.ocm.models import Comment, Operator
from ocm_bot.storage.base import OutboxItem
from ocm_bot.views import (
    alerts,
    announcements,
    checkin,
    common,
    delivery,
    details,
    missing,
    photos,
    results,
    signin,
    watches,
)
from ocm_bot.views import area as area_views
from ocm_bot.views import export as export_views
from ocm_bot.views import groups as group_views
from ocm_bot.views import route as route_views
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.preferences import account, menus
from ocm_bot.views.preferences.buttons import Screen
from tests.domain.samples import PORTLAND, SampleSource, by_id, reference, sample_chargers
from tests.test_i18n import html_problems

MAX_TEXT = 4096
MAX_BUTTON_TEXT = 64
MAX_CALLBACK_BYTES = 64
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CODEC = CallbackCodec(b"k" * 32)
VIEWS_DIR = Path(__file__).resolve().parents[2] / "ocm_bot" / "views"
LONG = "Supermarché Intermarché Super de la Zone Commerciale des Grands Champs – Parking Nord, niveau -2 <B> & Co"

# Named like a screen but not one: the name of the settings screen to show next.
NOT_SCREENS = {"buttons.screen_after"}

Drawn = View | InlineKeyboardMarkup | ReplyKeyboardMarkup


def long_charger():
    """The longest card OCM data can make: long names, many plug types, comments, a long cost text."""
    base = by_id(100627)
    connections = tuple(
        replace(connection, id=i, quantity=i + 1, power_kw=3.7 * (i + 1))
        for i, connection in enumerate(c for charger in sample_chargers() for c in charger.connections)
    )[:20]
    comments = tuple(
        Comment(id=i, text=LONG * 3, rating=1 + i % 5, user_name=LONG, date_created=NOW - timedelta(days=i))
        for i in range(8)
    )
    return replace(
        base,
        address=replace(
            base.address, title=LONG, address_line1=LONG, address_line2=LONG, town=LONG, access_comments=LONG * 4
        ),
        connections=connections,
        comments=comments,
        usage_cost=LONG * 3,
        general_comments=LONG * 4,
    )


def draft(outcome: int = 20) -> CheckinDraft:
    start = CheckinDraft.start(charger_id=100627, charger_name=LONG, chat_id=7)
    return start.with_outcome(find_outcome(OUTCOMES, outcome)).with_rating(4).with_comment(LONG * 5)


def a_delivery(result: DeliveryResult, error: Exception | None = None) -> Delivery:
    item = OutboxItem("a" * 32, 7, 7, 100627, {}, "pending", 3, NOW, NOW, None, None, "refused", None)
    queued = QueuedCheckin(CommentSubmission(charger_id=100627), Submitter.APP, LONG)
    return Delivery(item, queued, result, error)


def a_photo_delivery(result: DeliveryResult, error: Exception | None = None) -> Delivery:
    item = OutboxItem("a" * 32, 7, 7, 100627, {}, "pending", 3, NOW, NOW, None, None, "refused", None)
    queued = QueuedPhoto(100627, "image/jpeg", LONG * 3, Submitter.APP, LONG, language="de", panel_message_id=9)
    return Delivery(item, queued, result, error)


def photo_draft(caption: str | None) -> PhotoDraft:
    target = PhotoTarget(charger_id=100627, charger_name=LONG)
    return PhotoDraft("d" * 32, target, chat_id=7, mime_type="image/jpeg", created_at=NOW, caption=caption)


def watch(watch_id: int = 1) -> Watch:
    filters = WatchFilters(min_power_kw=50, connection_type_ids=frozenset({33, 2}), operator_ids=frozenset({5}))
    return Watch(chat_id=-100, centre=GeoPoint(53.8, -1.54), radius_km=25, filters=filters, id=watch_id, label=LONG)


def setups() -> list[WatchSetup]:
    start = WatchSetup(chat_id=-100, admin_id=7, message_id=3)
    area = start.with_area(GeoPoint(53.8, -1.54), LONG, "GB")
    options = replace(
        area, step=Step.OPTIONS, radius_km=25.0, min_power_kw=50.0, connectors=frozenset({"c2", "ch", "t2"})
    )
    return [start, area, replace(area, step=Step.RADIUS), options]


OUTCOMES = outcomes_from(reference().checkin_status_types.values())
EVERYTHING = UserPreferences(
    min_power_kw=3.7,
    connection_type_ids=frozenset({1, 2, 25, 33, 1036, 1038}),
    operator_ids=frozenset({5, 39, 3, 9}),
    level_ids=frozenset({1, 2, 3}),
    usage=UsageChoice.PUBLIC_ONLY,
    open_data_only=True,
)


async def search_results():
    """Results pages: a full first page, a middle page and a page with every filter chip."""
    from ocm_bot.domain.search import SearchService

    service = SearchService(SampleSource())
    wide = await service.nearby(PORTLAND, UserPreferences(operational_only=False, radius_km=50), label=LONG)
    filtered = await service.nearby(PORTLAND, EVERYTHING, label=LONG)
    return wide, filtered


def scenarios(t: Translator, wide, filtered) -> dict[str, Callable[[], Iterable[Drawn] | Drawn]]:
    """Screen builder (module.function) -> the screens it draws from representative data."""
    charger = long_charger()
    hits = [Hit(c, 1.5 + i, 45.0 * i) for i, c in enumerate(sample_chargers()[:3])]
    groups = group_outcomes(OUTCOMES)
    menu = menus.MenuContext(
        t,
        EVERYTHING,
        reference(),
        CODEC,
        automatic_unit=None,
        telegram_language="de",
        languages=available_languages(),
    )
    operators = [Operator(i, f"{LONG} {i}") for i in range(10)]
    item = announcements.Announcement(100627, Announce.STATUS, 1, Condition.WORKING, Condition.NOT_WORKING)
    fault = announcements.Announcement(100627, Announce.FAULT, 1, comment=LONG * 3)
    return {
        "alerts.alert_view": lambda: [
            alerts.alert_view(
                t,
                [
                    ChargerEvent(Announce.STATUS, charger, Condition.WORKING, Condition.NOT_WORKING),
                    ChargerEvent(Announce.FAULT, charger, comment=Comment(id=1, text=LONG * 4)),
                ],
                hits,
                unit=DistanceUnitChoice.MILES,
                now=NOW,
            )
        ],
        "alerts.alerts_settings_view": lambda: [
            alerts.alerts_settings_view(t, CODEC, on=True),
            alerts.alerts_settings_view(t, CODEC, on=False),
        ],
        "announcements.announcement_keyboard": lambda: [announcements.announcement_keyboard(t, charger, CODEC)],
        "announcements.announcement_view": lambda: [
            announcements.announcement_view(t, CODEC, one, charger, now=NOW)
            for one in (item, fault, replace(item, kind=Announce.NEW))
        ],
        "announcements.digest_view": lambda: [
            announcements.digest_view(t, CODEC, [(item, LONG)] * 40, key="k" * 20, page=page) for page in (0, 1, 3)
        ],
        "checkin.add_comment_keyboard": lambda: [checkin.add_comment_keyboard(t, 100627)],
        "checkin.cannot_post_screen": lambda: [checkin.cannot_post_screen(t, 100627, LONG)],
        "checkin.outcome_screen": lambda: [
            checkin.outcome_screen(t, CODEC, draft(), groups, needs_sign_in=needs) for needs in (True, False)
        ],
        "checkin.outcome_group_screen": lambda: [
            checkin.outcome_group_screen(t, CODEC, draft(), group) for group in groups
        ],
        "checkin.rating_screen": lambda: [checkin.rating_screen(t, CODEC, draft())],
        "checkin.comment_screen": lambda: [checkin.comment_screen(t, CODEC, draft(o)) for o in (10, 20)],
        "checkin.summary_screen": lambda: [
            checkin.summary_screen(t, CODEC, draft(), OUTCOMES, submitter, sign_in_available=available)
            for submitter in Submitter
            for available in (True, False)
        ],
        "checkin.sending_text": lambda: [checkin.sending_text(t, LONG)],
        "checkin.too_soon_text": lambda: [checkin.too_soon_text(t, LONG, timedelta(minutes=m)) for m in (1, 5, 59)],
        "checkin.private_chat_screen": lambda: [checkin.private_chat_screen(t, "ocm_charging_bot", 100627)],
        "common.welcome_view": lambda: [common.welcome_view(t, LONG), common.welcome_view(t, None)],
        "common.help_view": lambda: [common.help_view(t), common.help_view(t, "ocm_charging_bot")],
        "common.location_keyboard": lambda: [common.location_keyboard(t)],
        "common.retry_keyboard": lambda: [common.retry_keyboard(t, CODEC.encode("rt", "x" * 8))],
        "delivery.delivery_screen": lambda: [
            delivery.delivery_screen(t, CODEC, a_delivery(result, error))
            for result in DeliveryResult
            for error in (None, OcmRejected(LONG * 5), OcmUnavailable("down"))
        ],
        "details.details_keyboard": lambda: [
            details.details_keyboard(
                t,
                charger,
                CODEC,
                is_favourite=True,
                private=False,
                bot_username="ocm_charging_bot",
                search_id="s" * 12,
                watch_chat_id=-1001234567890123,
            )
        ],
        "details.details_view": lambda: [
            details.details_view(
                t,
                one,
                CODEC,
                now=NOW,
                unit=unit,
                is_favourite=False,
                private=True,
                bot_username="ocm_charging_bot",
                search_id="s" * 12,
                distance_km=12.3,
                bearing=200,
            )
            for one in (charger, *sample_chargers())
            for unit in DistanceUnitChoice
        ],
        "details.favourites_views": lambda: (
            details.favourites_views(
                t, [charger] * 30 + list(sample_chargers()), list(range(60)), CODEC, unit=DistanceUnitChoice.KM
            )
            + details.favourites_views(t, [], [], CODEC, unit=DistanceUnitChoice.KM)
        ),
        "account.forget_confirmation": lambda: [account.forget_confirmation(t, CODEC)],
        "account.forgotten": lambda: [account.forgotten(t)],
        "account.nothing_deleted": lambda: [account.nothing_deleted(t)],
        "account.privacy_text": lambda: [account.privacy_text(t)],
        # Every settings screen, through the one entry the handlers use.
        "menus.render": lambda: [menus.render(screen, menu) for screen in Screen],
        "menus.main_menu": lambda: [menus.render(Screen.MAIN, m) for m in (menu, replace(menu, group=True))],
        "groups.near_prompt": lambda: [group_views.near_prompt(t)],
        "area.area_usage_text": lambda: [area_views.area_usage_text(t)],
        "area.no_area_text": lambda: [area_views.no_area_text(t, LONG)],
        "route.route_usage_text": lambda: [route_views.route_usage_text(t)],
        "route.route_end_not_found_text": lambda: [route_views.route_end_not_found_text(t, LONG)],
        "route.route_here_unknown_text": lambda: [route_views.route_here_unknown_text(t)],
        "route.route_too_long_text": lambda: [route_views.route_too_long_text(t)],
        "export.export_caption": lambda: [export_views.export_caption(t, wide)],
        "groups.group_welcome_view": lambda: [group_views.group_welcome_view(t)],
        "groups.group_help_view": lambda: [group_views.group_help_view(t)],
        "groups.group_settings_view": lambda: [
            group_views.group_settings_view(t, menus.render(screen, menu)) for screen in Screen
        ],
        "groups.operator_reply_hint": lambda: [group_views.operator_reply_hint(t, menus.render(Screen.MAIN, menu))],
        "menus.closed_menu": lambda: [menus.closed_menu(t, EVERYTHING, reference(), unit=DistanceUnitChoice.MILES)],
        "menus.power_menu": lambda: [menus.render(Screen.POWER, menu)],
        "menus.connectors_menu": lambda: [menus.render(Screen.CONNECTORS, menu)],
        "menus.levels_menu": lambda: [menus.render(Screen.LEVELS, menu)],
        "menus.usage_menu": lambda: [menus.render(Screen.USAGE, menu)],
        "menus.operators_menu": lambda: [menus.render(Screen.OPERATORS, menu)],
        "menus.operator_search_prompt": lambda: [menus.operator_search_prompt(t, CODEC)],
        "menus.operator_matches": lambda: [menus.operator_matches(t, EVERYTHING, LONG, operators, CODEC)],
        "menus.operators_unavailable": lambda: [menus.operators_unavailable(t, CODEC)],
        "menus.radius_menu": lambda: [menus.render(Screen.RADIUS, menu)],
        "menus.unit_menu": lambda: [menus.render(Screen.UNIT, menu)],
        "menus.page_size_menu": lambda: [menus.render(Screen.PAGE_SIZE, menu)],
        "menus.language_menu": lambda: [menus.render(Screen.LANGUAGE, m) for m in (menu, replace(menu, group=True))],
        "menus.private_chat_only": lambda: [menus.private_chat_only(t, "/settings")],
        "missing.not_listed_view": lambda: [
            missing.not_listed_view(t, latitude, longitude)
            for latitude, longitude in ((53.8, -1.54), (-33.8688, 151.2093))
        ],
        "photos.album_failed_view": lambda: [photos.album_failed_view(t, 100627)],
        "photos.cancelled_view": lambda: [photos.cancelled_view(t)],
        "photos.cannot_post_view": lambda: [photos.cannot_post_view(t, 100627, LONG)],
        "photos.caption_view": lambda: [photos.caption_view(t, CODEC, photo_draft(c)) for c in (None, LONG * 5)],
        "photos.download_failed_view": lambda: [photos.download_failed_view(t)],
        "photos.no_charger_view": lambda: [photos.no_charger_view(t)],
        "photos.ocm_photo_page_keyboard": lambda: [photos.ocm_photo_page_keyboard(t, 123456789)],
        "photos.photo_delivery_screen": lambda: [
            photos.photo_delivery_screen(t, CODEC, a_photo_delivery(result, error), checkin.RETRY)
            for result in DeliveryResult
            for error in (None, OcmRejected(LONG * 5), OcmUnavailable("down"), OcmAuthError("key", status=403))
        ],
        "photos.pick_charger_view": lambda: [photos.pick_charger_view(t, CODEC, n) for n in (1, 5, 10)],
        "photos.problem_view": lambda: [photos.problem_view(t, problem) for problem in PhotoProblem],
        "photos.send_photo_now_view": lambda: [photos.send_photo_now_view(t, LONG)],
        "photos.sending_view": lambda: [photos.sending_view(t, LONG)],
        "results.results_keyboard": lambda: [
            results.results_keyboard(t, filtered, 0, CODEC, reference=reference()),
        ],
        "results.results_view": lambda: [
            results.results_view(t, result, page, CODEC, now=NOW, reference=reference())
            for result in (wide, filtered)
            for page in range(min(3, result.page_count()))
        ],
        "results.place_choice_text": lambda: [results.place_choice_text(t, LONG)],
        "results.place_choice_keyboard": lambda: [
            results.place_choice_keyboard([LONG] * 5, CODEC, "pk", "n" * 12),
        ],
        "results.place_error_text": lambda: [results.place_error_text(t, reason) for reason in results.PLACE_ERRORS],
        "results.place_not_found_text": lambda: [results.place_not_found_text(t, LONG)],
        "results.geocoder_busy_text": lambda: [results.geocoder_busy_text(t)],
        "results.search_limit_text": lambda: [results.search_limit_text(t, s) for s in (0.2, 1, 2, 11, 59.5)],
        "results.geocoder_down_text": lambda: [results.geocoder_down_text(t)],
        "results.charger_not_found_text": lambda: [results.charger_not_found_text(t, 123456789)],
        "results.charger_usage_text": lambda: [results.charger_usage_text(t)],
        "signin.signed_in_text": lambda: [signin.signed_in_text(t, LONG, resumed=r) for r in (True, False)],
        "watches.setup_view": lambda: [
            watches.setup_view(t, CODEC, setup, unit) for setup in setups() for unit in DistanceUnitChoice
        ],
        "watches.quiet_hours_view": lambda: [
            watches.quiet_hours_view(t, CODEC, -1001234567890, QuietHours(22, 7, utc_offset_minutes=offset, on=on))
            for offset, on in ((60, True), (-330, False), (14 * 60, True))
        ],
        "watches.saved_view": lambda: [watches.saved_view(t, watch(), DistanceUnitChoice.MILES)],
        "watches.cancelled_view": lambda: [watches.cancelled_view(t)],
        "watches.place_not_found_view": lambda: [
            watches.place_not_found_view(t, CODEC, setups()[1], query) for query in (LONG, "x" * 10_000)
        ],
        "watches.watches_view": lambda: [
            watches.watches_view(t, CODEC, -100, [watch(i) for i in range(1, 11)], {-100: DistanceUnitChoice.KM}),
            watches.watches_view(t, CODEC, -100, [], {}),
        ],
        "watches.confirm_removal_view": lambda: [
            watches.confirm_removal_view(t, CODEC, watch(), DistanceUnitChoice.KM)
        ],
    }


def screen_builders() -> set[str]:
    """module.function of every public function in ocm_bot/views that draws a screen or a keyboard."""
    found = set()
    for path in VIEWS_DIR.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.returns is not None:
                returns = ast.unparse(node.returns)
                if (
                    any(kind in returns for kind in ("View", "Screen", "Markup"))
                    and returns != "list[InlineKeyboardButton]"
                ):
                    found.add(f"{path.stem}.{node.name}")
    return found


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(html: str) -> str:
    """The text Telegram shows (and counts) once it parsed the HTML."""
    parts: list[str] = []

    class Parser(HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    parser = Parser(convert_charrefs=True)
    parser.feed(html)
    parser.close()
    return "".join(parts)


def problems_of(drawn: Drawn) -> list[str]:
    problems: list[str] = []
    keyboard = drawn.keyboard if isinstance(drawn, View) else drawn
    if isinstance(drawn, View):
        html_faults, _ = html_problems(str(drawn.text))
        problems += html_faults
        if not visible_text(str(drawn.text)).strip():
            problems.append("an empty message")
        if (length := utf16_length(visible_text(str(drawn.text)))) > MAX_TEXT:
            problems.append(f"{length} characters of text")
    rows = []
    if isinstance(keyboard, InlineKeyboardMarkup):
        rows = keyboard.inline_keyboard
    elif isinstance(keyboard, ReplyKeyboardMarkup):
        rows = keyboard.keyboard
    for row in rows:
        for button in row:
            if not button.text.strip() or len(button.text) > MAX_BUTTON_TEXT:
                problems.append(f"button label {button.text!r}")
            data = getattr(button, "callback_data", None)
            if data is not None and len(str(data).encode()) > MAX_CALLBACK_BYTES:
                problems.append(f"callback_data of {len(str(data).encode())} bytes")
    return problems


def test_every_screen_builder_has_a_scenario():
    drawn = set(scenarios(translator("en"), None, None))
    missing = screen_builders() - drawn - NOT_SCREENS
    assert not missing, f"screen builders without a scenario in tests/views/test_every_view.py: {sorted(missing)}"


@pytest.mark.parametrize("language", available_languages())
async def test_every_screen_fits_telegram_s_limits_in_every_language(language):
    t = translator(language)
    wide, filtered = await search_results()
    faults: dict[str, list[str]] = {}
    count = 0
    for name, draw in scenarios(t, wide, filtered).items():
        screens = draw()
        for screen in screens if isinstance(screens, list) else [screens]:
            count += 1
            if found := problems_of(screen):
                faults.setdefault(name, []).extend(found)
    assert count > 150
    assert not faults, f"{language}: {faults}"


def test_the_limits_check_finds_what_telegram_refuses():
    from telegram import InlineKeyboardButton

    from ocm_bot.views.html import Html

    assert problems_of(View(Html("<b>fine</b> &amp; well"))) == []
    assert problems_of(View(Html("<b>unclosed"))) == ["<b> is never closed"]
    assert problems_of(View(Html("x" * 4097))) == ["4097 characters of text"]
    assert problems_of(View(Html("😀" * 2049))) == ["4098 characters of text"]  # UTF-16, as Telegram counts
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="y" * 65)]])
    assert problems_of(too_long) == ["callback_data of 65 bytes"]
    assert inspect.isfunction(screen_builders) and "results.results_view" in screen_builders()
