"""Personal alerts: a driver's favourites warn the driver in private when they break, are fixed or
removed, or get a fault report.

Alerts are ON by default: adding a favourite already says "I rely on this charger", and the one
message that matters (it broke, here are two alternatives) is worth more than a setting the driver
must first discover; ``/alerts`` turns them off (and on again). The choice is kept in the value
store under ``alerts:<user_id>`` (``False``: off; absent: on); the delivery sets it to ``False``
when the driver blocked the bot, and ``/forget`` deletes it.

The watch poll (:class:`~ocm_bot.domain.watch_poller.WatchPoller`) reads the owners of the chargers
it saw change (:meth:`~ocm_bot.storage.base.FavouriteStore.favourite_owners`, one indexed lookup
by charger ID, in the same poll: no extra OCM request) and returns their events in
``PollResult.alerts``.

Example::

    if await alerts_on(storage, user_id):
        ...
    await set_alerts(storage, user_id, on=False)
"""

from __future__ import annotations

from ocm_bot.domain.watches import Announce
from ocm_bot.storage.base import ValueStore

ALERTS_KEY = "alerts:{}"
ALERT_KINDS = frozenset({Announce.STATUS, Announce.FAULT})
"""What a favourite's owner hears of: it stops or starts working (or is removed), or a fault report."""
TELEGRAM_LANGUAGE = "telegram_language"
"""Key in the driver's stored document: their Telegram language, kept when they star a charger, so
that an alert (sent with no update to read it from) speaks it unless /language chose another."""
ALTERNATIVES = 2
"""Working chargers near the favourite that fit the driver's filters, shown with each alert."""


async def alerts_on(store: ValueStore, user_id: int) -> bool:
    return await store.get_value(ALERTS_KEY.format(user_id)) is not False


async def set_alerts(store: ValueStore, user_id: int, *, on: bool) -> None:
    # On is the default: it is stored as no value at all.
    await store.set_value(ALERTS_KEY.format(user_id), None if on else False)
