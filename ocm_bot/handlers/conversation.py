"""A conversation whose step is read from storage on every update, so any instance can take it.

python-telegram-bot's ``ConversationHandler`` keeps each conversation's state in the process's
memory. Behind a webhook with several instances on one database, the instance that did not see the
last step would take a typed comment for a place to search, or a password for a place. Our
conversations (check-in, sign-in) already store their step before the driver sees it; this handler
reads that stored step for the update's chat and user before it picks the step's handler, so the
stored record, not the memory of one process, says where the conversation stands.

``check_update`` cannot wait for storage (python-telegram-bot calls it synchronously), so for an
update that one of the conversation's handlers could take it answers "maybe"; ``handle_update``
then reads the stored step, decides again, and lets the update go on to the next group when the
conversation does not take it after all (it is the only handler in its group).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ConversationHandler

from ocm_bot.context import BotContext

ConversationKey = tuple[int | str, ...]
StepHandlers = Sequence[BaseHandler[Update, BotContext, Any]]
Check = tuple[object, ConversationKey, BaseHandler[Update, BotContext, object], object]
StoredStep = Callable[[BotContext, ConversationKey], Awaitable[object | None]]
"""The conversation's stored step for a (chat id, user id) key; None when no conversation is open."""


class _ReadStoredStep:
    """The "maybe" of ``check_update``: decide in ``handle_update``, after reading the stored step."""


_READ_STORED_STEP = _ReadStoredStep()


class PanelButton(BaseHandler[Update, BotContext, object]):
    """A button of a stored conversation, taken as its ``CallbackQueryHandler`` would take it.

    python-telegram-bot tracks a conversation's buttons per message only with ``per_message=True``,
    which a conversation that also takes typed text (a comment, an e-mail) cannot use; without it,
    it warns that buttons "will not be tracked for every message". Ours are: each stored step
    records its panel message, and a step's handler refuses a button of any other message as
    expired. A button is therefore held as this handler (which python-telegram-bot does not try to
    track per message) instead of as a bare ``CallbackQueryHandler``.
    """

    def __init__(self, button: CallbackQueryHandler[BotContext, object]) -> None:
        super().__init__(button.callback, block=button.block)
        self.button = button

    def check_update(self, update: object) -> object | None:
        return self.button.check_update(update)

    def collect_additional_context(
        self,
        context: BotContext,
        update: Update,
        application: Application[Any, BotContext, Any, Any, Any, Any],
        check_result: Any,
    ) -> None:
        self.button.collect_additional_context(context, update, application, check_result)


def _panel_buttons(handlers: StepHandlers) -> list[BaseHandler[Update, BotContext, Any]]:
    return [PanelButton(h) if isinstance(h, CallbackQueryHandler) else h for h in handlers]


class StoredConversationHandler(ConversationHandler[BotContext]):
    """A ``ConversationHandler`` (per chat and user, re-entrant, persistent) whose state is the stored step.

    ``stored_step(context, key)`` returns the step as stored; with no storage (no conversation can
    be kept anyway) the state in memory is used as python-telegram-bot keeps it. Register it alone
    in its handler group: an update it considers and then does not take skips the rest of its group.
    """

    def __init__(
        self,
        *,
        name: str,
        entry_points: StepHandlers,
        states: dict[object, StepHandlers],
        fallbacks: StepHandlers,
        conversation_timeout: timedelta,
        stored_step: StoredStep,
    ) -> None:
        super().__init__(
            entry_points=_panel_buttons(entry_points),
            states={state: _panel_buttons(handlers) for state, handlers in states.items()},
            fallbacks=_panel_buttons(fallbacks),
            allow_reentry=True,
            conversation_timeout=conversation_timeout,
            name=name,
            persistent=True,
        )
        self._stored_step = stored_step

    def check_update(self, update: object) -> Check | None:
        if not isinstance(update, Update) or update.effective_chat is None or update.effective_user is None:
            return None
        if update.channel_post or update.edited_channel_post:
            return None
        if update.callback_query is not None and update.callback_query.message is None:
            return None  # a button on an inline message: no chat, so no conversation (as the base class)
        if not self._could_take(update):
            return None  # no step of the conversation takes it: no need to read the storage
        return (_READ_STORED_STEP, self._get_key(update), self.entry_points[0], None)

    def _could_take(self, update: Update) -> bool:
        """Whether an entry point, a step's handler or a fallback would take ``update`` in some step."""
        steps = (handlers for state, handlers in self.states.items() if state not in (self.TIMEOUT, self.WAITING))
        candidates = [*self.entry_points, *(h for handlers in steps for h in handlers), *self.fallbacks]
        for candidate in candidates:
            check = candidate.check_update(update)
            if check is not None and check is not False:
                return True
        return False

    async def handle_update(  # type: ignore[override]  # narrowed as ConversationHandler's own (same ignore there)
        self,
        update: Update,
        application: Application[Any, BotContext, Any, Any, Any, Any],
        check_result: Check,
        context: BotContext,
    ) -> object | None:
        if check_result[0] is _READ_STORED_STEP:
            await self._read_stored_step(check_result[1], context)
            decided = super().check_update(update)
            if decided is None:
                return None  # not the conversation's after all: the update goes on to the next group
            check_result = decided
        return await super().handle_update(update, application, check_result, context)

    async def _read_stored_step(self, key: ConversationKey, context: BotContext) -> None:
        if context.services.storage is None:
            return
        stored = await self._stored_step(context, key)
        if self._conversations.get(key) == stored:
            return
        if stored is None:
            self._conversations.pop(key, None)
        else:
            self._conversations[key] = stored
