"""📤 Export under any results message (nearby, area, route): the chargers as a GPX and a KML document.

Rendered from the kept result (:mod:`ocm_bot.views.export`): no OCM request.
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from ocm_bot.context import BotContext
from ocm_bot.domain.search import SearchResult
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import chat_of, query_of
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.export import export_caption, export_filename, gpx, kml
from ocm_bot.views.results import EXPORT


async def on_export(update: Update, context: BotContext) -> None:
    button = await answers.button(update, context)
    try:
        kept = await context.services.search.get(button.args[0]) if button and len(button.args) == 1 else None
    except OcmError as error:  # another instance's result: its chargers are read again
        t, _ = await answers.driver(update, context)
        await query_of(update).answer()
        await answers.report_ocm_failure(update, context, t, error, answers.button_data(update))
        return
    if not isinstance(kept, SearchResult) or not kept.hits:
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    t, _ = await answers.driver(update, context)
    chat_id = chat_of(update).id
    caption = export_caption(t, kept)
    for document, extension in ((gpx(t, kept), "gpx"), (kml(t, kept), "kml")):
        await context.bot.send_document(
            chat_id,
            InputFile(document, filename=export_filename(kept, extension)),
            caption=caption.text,
            parse_mode="HTML",
        )


def handlers() -> list[BaseHandler]:
    return [CallbackQueryHandler(on_export, pattern=action_pattern(EXPORT))]
