"""The fault matrix (issue 16, item 2): every upstream failing in every way a driver may meet.

For each service (Open Charge Map for searches and for check-ins, Nominatim, the router, the Bot API) and each
fault (no answer, an answer 30 s late, connections refused, 5xx, 429 with ``Retry-After``, malformed
JSON, an HTML error page, and OCM's own ``200 Error: Validation Failed``, ``200 []`` and empty
body, and the router's ``NoRoute``) a driver acts and gets a clear answer in their language
within ``ANSWER_WITHIN`` seconds; then the service comes back and the same action is answered from
the service again (nothing was cached that should not have been), without anyone restarting the bot.

The timeouts of the bot decide how long a case takes, never the fault: a fake that "hangs 30 s"
holds the request 30 s, but the driver is answered at the bot's deadline.

With ``OCM_BOT_FAULT_MATRIX=<file>`` each case appends its measured row (JSON lines) to the file;
``python -m bench.fault_matrix`` runs this module that way and writes the table into
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from ocm_bot.domain.outbox import Backoff
from ocm_bot.i18n import translator
from ocm_bot.settings import Secret
from tests.e2e.test_checkin import fill_in

PORTLAND = (45.5122, -122.6587)
ANSWER_WITHIN = 10.0
OCM_PAGE = "openchargemap.org/site/poi/details/"

de = translator("de")
en = translator("en")


def production_request() -> HTTPXRequest:
    """The Bot API transport of ``ocm-bot run``: python-telegram-bot's default timeouts (5 s)."""
    return HTTPXRequest(connection_pool_size=32, httpx_kwargs={"verify": False})


@dataclass(frozen=True)
class Fault:
    """One way a loopback service fails, and how it comes back."""

    name: str
    kind: str | None  # the fake's fault kind; None: connections refused
    options: dict[str, Any] = field(default_factory=dict)

    def start(self, server: Any, path_prefix: str) -> None:
        if self.kind is None:
            server.refuse_connections()
        else:
            server.inject(self.kind, times=None, path_prefix=path_prefix, **self.options)

    def stop(self, server: Any) -> None:
        server.clear_faults()
        server.accept_connections()

    @property
    def retry_after(self) -> float:
        return float(self.options.get("retry_after", 0))


RETRY_AFTER = 4
COMMON = [
    Fault("times out (never answers)", "hang"),
    Fault("hangs 30 s, then answers", "delay", {"delay": 30.0}),
    Fault("refuses connections", None),
    Fault("5xx (500)", "status500"),
    Fault(f"429, Retry-After: {RETRY_AFTER}", "429", {"retry_after": RETRY_AFTER}),
    Fault("malformed JSON", "bad-json"),
    Fault("HTML error page (502)", "502-text"),
]
OCM_ONLY = [
    Fault("200 Error: Validation Failed", "validation-failed"),
    Fault("200 []", "empty-list"),
    Fault("200, empty body", "empty"),
]


def record(service: str, fault: str, answer: str, seconds: float, recovery: str) -> None:
    """Append the measured row to ``$OCM_BOT_FAULT_MATRIX`` (read by bench/fault_matrix.py)."""
    path = os.environ.get("OCM_BOT_FAULT_MATRIX")
    if not path:
        return
    row = {"service": service, "fault": fault, "answer": answer, "seconds": round(seconds, 2), "recovery": recovery}
    with open(path, "a", encoding="utf-8") as report:
        report.write(json.dumps(row, ensure_ascii=False) + "\n")


async def timed(action: Callable[[], Any], answer: Callable[[], Any]) -> tuple[Any, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await action()
    result = await answer()
    return result, loop.time() - started


def first_line(text: str) -> str:
    return text.strip().splitlines()[0]


# Open Charge Map: a location search -----------------------------------------------------------------

OCM_SEARCH_ANSWERS = {
    "times out (never answers)": "Open Charge Map is not answering right now. Please try again in a minute.",
    "hangs 30 s, then answers": "Open Charge Map is not answering right now. Please try again in a minute.",
    "refuses connections": "Open Charge Map is not answering right now. Please try again in a minute.",
    "5xx (500)": "Open Charge Map is not answering right now. Please try again in a minute.",
    "HTML error page (502)": "Open Charge Map is not answering right now. Please try again in a minute.",
    "malformed JSON": "Open Charge Map sent an answer I could not read. Please try again in a minute.",
    "200, empty body": "Open Charge Map sent an answer I could not read. Please try again in a minute.",
    "200 Error: Validation Failed": "Open Charge Map could not answer. Please try again in a minute.",
}


def ocm_search_answer(fault: Fault) -> str:
    if fault.kind == "429":
        return de.ngettext(
            "Open Charge Map asks us to slow down. Please try again in {n} second.",
            "Open Charge Map asks us to slow down. Please try again in {n} seconds.",
            RETRY_AFTER,
        ).format(n=RETRY_AFTER)
    if fault.kind == "empty-list":
        return de.gettext("No chargers found within {radius}.").split("{radius}")[0]
    english = OCM_SEARCH_ANSWERS[fault.name]
    assert de.gettext(english) != english, "no German translation"
    return de.gettext(english)


@pytest.mark.parametrize("fault", COMMON + OCM_ONLY, ids=lambda f: f.name)
async def test_a_search_while_ocm_fails_is_answered_in_time_and_the_next_one_after_recovery_finds_chargers(
    fault, start_bot, telegram, ocm_server
):
    await start_bot(request=production_request)
    anna = telegram.user("Anna", language_code="de")
    fault.start(ocm_server, "/v3/poi")
    answer, seconds = await timed(
        lambda: anna.send_location(*PORTLAND), lambda: anna.wait_for_message(timeout=ANSWER_WITHIN + 5)
    )
    assert ocm_search_answer(fault) in answer.text
    assert seconds < ANSWER_WITHIN

    fault.stop(ocm_server)  # the bot keeps no memory of the 429: the very next search asks OCM
    asked_before = len(ocm_server.requests_to("/v3/poi"))
    _, recovery = await timed(
        lambda: anna.send_location(*PORTLAND),
        lambda: anna.wait_for_message(timeout=ANSWER_WITHIN, where=lambda m: OCM_PAGE in str(m.url_buttons)),
    )
    assert len(ocm_server.requests_to("/v3/poi")) > asked_before  # asked OCM again: nothing bad was cached
    answered = "No chargers found within 6.2 mi." if fault.kind == "empty-list" else first_line(en_of(answer.text))
    record("Open Charge Map (search)", fault.name, answered, seconds, f"results in {recovery:.2f} s")


def en_of(german: str) -> str:
    """The English message id of a German answer (for the table)."""
    for english in [*OCM_SEARCH_ANSWERS.values(), *NOMINATIM_ANSWERS.values()]:
        if de.gettext(english) in german:
            return english
    if "Open Charge Map" in german and "Sekunde" in german:
        return f"Open Charge Map asks us to slow down. Please try again in {RETRY_AFTER} seconds."
    return german


# Open Charge Map: a check-in submit ------------------------------------------------------------------

CHECKIN_CHARGERS = {  # a charger of its own per case: the fake keeps comments across tests
    "times out (never answers)": 13343,
    "hangs 30 s, then answers": 142463,
    "refuses connections": 142462,
    "5xx (500)": 13362,
    f"429, Retry-After: {RETRY_AFTER}": 102848,
    "malformed JSON": 13343,
    "HTML error page (502)": 142463,
    "200 Error: Validation Failed": 142462,
    "200, empty body": 13362,
}


@pytest.mark.parametrize("fault", [f for f in COMMON + OCM_ONLY if f.kind != "empty-list"], ids=lambda f: f.name)
async def test_a_checkin_while_ocm_fails_is_kept_and_posted_once_when_ocm_is_back(
    fault, start_bot, telegram, ocm_server
):
    running = await start_bot(
        request=production_request, ocm_write_key=Secret(ocm_server.add_write_key()), outbox_poll_seconds=1
    )
    # Retries after a second here, not after the production backoff's 30 s, 1 min, 2 min, ...
    running.services.checkin.outbox.backoff = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=2))
    ada = telegram.user("Ada")
    charger = CHECKIN_CHARGERS[fault.name]
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5", charger=charger)
    fault.start(ocm_server, "/v3/comment")
    told, seconds = await timed(
        lambda: ada.press(summary, "Submit"),
        lambda: ada.wait_for_edit(summary, where=lambda m: not m.text.startswith("Sending"), timeout=30),
    )
    assert seconds < ANSWER_WITHIN
    if fault.kind == "validation-failed":  # OCM refused this very body: posting it again cannot help
        assert "did not accept your check-in" in told.text and "Check in on Open Charge Map ↗" in told.labels
        fault.stop(ocm_server)
        stored = [c for c in ocm_server.comments if c.poi_id == charger]
        assert stored == []
        record("Open Charge Map (check-in)", fault.name, first_line(told.text), seconds, "not retried (rejected)")
        return
    assert "Your check-in at" in told.text and "is saved; I'll send it as soon as it is back." in told.text

    fault.stop(ocm_server)
    if fault.kind == "delay":
        ocm_server.call_in_loop(ocm_server._release_hung)  # the post OCM held lands now, as after 30 s
    _, recovery = await timed(lambda: asyncio.sleep(0), lambda: ada.wait_for_message(containing="Thanks!", timeout=30))
    stored = [c for c in ocm_server.comments if c.poi_id == charger]
    assert len(stored) == 1, f"{len(stored)} copies of the check-in on OCM"
    record(
        "Open Charge Map (check-in)",
        fault.name,
        told.text.split(" Your check-in")[0] + " Your check-in at … is saved; I'll send it as soon as it is back.",
        seconds,
        f"posted once at the outbox's next retry ({recovery:.2f} s with a 1 s backoff; 30 s, 1 min, … in production)",
    )


# Nominatim: a place typed as text ----------------------------------------------------------------

NOMINATIM_ANSWERS = {
    "down": "The address search (OpenStreetMap Nominatim) is not answering right now. "
    "Try again in a minute, or send your location instead.",
    "busy": "Too many address searches right now. Try again in a few seconds, or send your location instead.",
}


@pytest.mark.parametrize("fault", COMMON, ids=lambda f: f.name)
async def test_a_place_search_while_nominatim_fails_is_answered_in_time_and_asked_again_after_recovery(
    fault, start_bot, telegram, nominatim_server, ocm_server
):
    await start_bot(request=production_request)
    anna = telegram.user("Anna", language_code="de")
    fault.start(nominatim_server, "/search")
    answer, seconds = await timed(
        lambda: anna.send_text("Salt Lake City"), lambda: anna.wait_for_message(timeout=ANSWER_WITHIN + 5)
    )
    expected = NOMINATIM_ANSWERS["busy" if fault.kind == "429" else "down"]
    assert de.gettext(expected) != expected
    assert de.gettext(expected) in answer.text
    assert seconds < ANSWER_WITHIN

    fault.stop(nominatim_server)
    await asyncio.sleep(fault.retry_after)  # the bot keeps to Nominatim's Retry-After, as its policy asks
    asked_before = len(nominatim_server.requests_to("/search"))
    _, recovery = await timed(
        lambda: anna.send_text("Salt Lake City"),
        lambda: anna.wait_for_message(timeout=ANSWER_WITHIN, where=lambda m: OCM_PAGE in str(m.url_buttons)),
    )
    assert len(nominatim_server.requests_to("/search")) > asked_before
    record("Nominatim (place search)", fault.name, expected, seconds, f"results in {recovery:.2f} s")


# The Bot API: the reply to a search ----------------------------------------------------------------


@dataclass(frozen=True)
class BotApiFault:
    name: str
    start: Callable[[Any, int], None]  # (telegram_server, chat_id)
    outage: float = 0.0  # seconds the Bot API stays unreachable before it is back


BOT_API_FAULTS = [
    BotApiFault(
        "times out (never answers)",
        lambda s, chat: s.inject_failure("sendMessage", None, delay=3600, chat_id=chat),
    ),
    BotApiFault(
        "hangs 30 s, then answers",
        lambda s, chat: s.inject_failure("sendMessage", None, delay=30, chat_id=chat),
    ),
    BotApiFault("refuses connections", lambda s, chat: s.refuse_connections(), outage=2.0),
    BotApiFault(
        "5xx (500)",
        lambda s, chat: s.inject_error("sendMessage", 500, "Internal Server Error", times=2, chat_id=chat),
    ),
    BotApiFault(
        "429, Retry-After: 2",
        lambda s, chat: s.inject_error("sendMessage", 429, retry_after=2, chat_id=chat),
    ),
    BotApiFault(
        "malformed JSON",
        lambda s, chat: s.inject_failure(
            "sendMessage", 200, body=b'{"ok":true,"result":{"mess', processed=True, chat_id=chat
        ),
    ),
    BotApiFault("HTML error page (502)", lambda s, chat: s.inject_failure("sendMessage", 502, times=2, chat_id=chat)),
]


def results_shown(chat) -> list:
    return [m for m in chat.messages if OCM_PAGE in str(m.url_buttons)]


@pytest.mark.parametrize("fault", BOT_API_FAULTS, ids=lambda f: f.name)
async def test_a_search_while_the_bot_api_fails_is_answered_once_and_the_bot_carries_on(
    fault, start_bot, telegram, telegram_server
):
    await start_bot(request=production_request)
    anna = telegram.user("Anna", language_code="de")
    fault.start(telegram_server, anna.id)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await anna.send_location(*PORTLAND)
    if fault.outage:
        await asyncio.sleep(fault.outage)  # the length of the outage, not a wait for the bot
        telegram_server.accept_connections()
        started = loop.time()
    if fault.name.startswith(("times out", "hangs")):
        # A new message whose answer never came may have been delivered: it is not sent again.
        await anna.wait_until(
            lambda: (
                any(not r.ok for r in telegram_server.requests if r.method == "sendMessage")
                or any(r.method == "sendMessage" for r in telegram_server.requests)
            ),
            timeout=5,
            what="the reply sent",
        )
        telegram_server.failures.clear()
        await telegram.wait_until_idle(timeout=15)  # the bot's read timeout ends the wait
        seconds = loop.time() - started
        assert results_shown(anna) == []
        answer = "no reply: a sendMessage whose answer never came is not sent again (Telegram may have delivered it)"
    else:
        await anna.wait_for_message(timeout=ANSWER_WITHIN + 5, where=lambda m: OCM_PAGE in str(m.url_buttons))
        seconds = loop.time() - started
        assert seconds < ANSWER_WITHIN
        await telegram.wait_until_idle()
        assert len(results_shown(anna)) == 1, "the reply arrived twice"
        answer = "the results, once"

    shown = len(results_shown(anna))
    _, recovery = await timed(
        lambda: anna.send_location(*PORTLAND),
        lambda: anna.wait_for_message(timeout=ANSWER_WITHIN, where=lambda m: OCM_PAGE in str(m.url_buttons)),
    )
    assert len(results_shown(anna)) == shown + 1
    record("Bot API (the reply)", fault.name, answer, seconds, f"next search answered in {recovery:.2f} s")


# The router (OSRM): a route search ------------------------------------------------------------------

ROUTE = "/route 52.5170, 13.3889 -> 52.3906, 13.0645"  # Berlin -> Potsdam, typed as coordinates (no Nominatim)
GREAT_CIRCLE = (
    "No road route available: this is the straight line (great circle) between the two places, "
    "{length}. Chargers near the roads you take may be missing."
)
ROUTER_ONLY = [Fault('400 {"code": "NoRoute"}', "no-route")]
ROUTER_HANG_WITHIN = 4.0
"""A router that does not answer costs the driver its timeout (3 s), not the 5 s of a whole search."""


def great_circle_notice(language) -> str:
    return language.gettext(GREAT_CIRCLE).split("{length}")[0]


@pytest.mark.parametrize("fault", COMMON + ROUTER_ONLY, ids=lambda f: f.name)
async def test_a_route_search_while_the_router_fails_is_a_labelled_great_circle_and_the_next_one_goes_by_road(
    fault, start_bot, telegram, ocm_server, osrm_server
):
    await start_bot(request=production_request, router_url=osrm_server.url)
    anna = telegram.user("Anna", language_code="de")
    fault.start(osrm_server, "/route/")
    ocm_before = len(ocm_server.requests_to("/v3/poi"))
    answer, seconds = await timed(
        lambda: anna.send_text(ROUTE), lambda: anna.wait_for_message(timeout=ANSWER_WITHIN + 5)
    )
    assert great_circle_notice(de) != great_circle_notice(en), "no German translation"
    assert great_circle_notice(de) in answer.text
    assert seconds < ROUTER_HANG_WITHIN
    assert len(ocm_server.requests_to("/v3/poi")) == ocm_before + 1  # one OCM request per route

    fault.stop(osrm_server)  # nothing of the failure is kept: the very next route asks the router
    asked_before = len(osrm_server.requests_to("/route/"))
    by_road = de.gettext("{length} by road").split("{length}")[1]
    recovered, recovery = await timed(
        lambda: anna.send_text(ROUTE),
        lambda: anna.wait_for_message(timeout=ANSWER_WITHIN, where=lambda m: by_road in m.text),
    )
    assert great_circle_notice(de) not in recovered.text
    assert len(osrm_server.requests_to("/route/")) == asked_before + 1
    # At most one: the fake's road line between two points is straight, so OCM's answer may come from the cache.
    assert len(ocm_server.requests_to("/v3/poi")) <= ocm_before + 2
    answered = great_circle_notice(en) + "… (the chargers along it)"
    record("router (OSRM) (route search)", fault.name, answered, seconds, f"by road in {recovery:.2f} s")
