"""The root of every error the bot raises on purpose, so a caller can tell ours from a bug.

Each part keeps its own subtree next to its code; the view layer words each leaf for drivers,
the CLI for operators::

    OcmBotError
    ├── OcmError                  ocm_bot.ocm.errors: Open Charge Map could not answer (its tree there)
    │   └── LocalDataError        ocm_bot.ocm.local: the local OCM data (OCM_DATA_FILE) cannot be read
    ├── GeocodingError            ocm_bot.geocoding: Nominatim down, busy or refusing
    ├── StorageError              ocm_bot.storage.base: the database
    │   └── StorageUnavailable, UnsupportedDatabaseUrl, SchemaTooNew, TokensDisabled
    ├── SettingsError             ocm_bot.settings: the environment configuration is wrong
    ├── StartupError              ocm_bot.app: a service the bot needs cannot be opened
    ├── InputError                below: what a driver typed or pressed cannot be used (also a ValueError)
    │   ├── PlaceInputError       ocm_bot.domain.places: text that cannot name a place (reason: PlaceProblem)
    │   ├── CheckinInputError     ocm_bot.domain.checkin: not for a check-in (a comment type it does not offer)
    │   │   └── CommentTooLong, InvalidRating
    │   ├── InvalidChoice         ocm_bot.domain.preferences_edit: a value the preferences menus never offer
    │   └── InvalidCallback       ocm_bot.views.callbacks: a button's data is malformed, forged or stale
    ├── FavouritesFull            ocm_bot.domain.favourites: the driver has the most favourites kept
    ├── SignInDisabled            ocm_bot.domain.accounts: no STORAGE_SECRET, so no sign-in
    └── (the demo's Telegram answers: ApiError, EntityParseError; a check-in step's early exit: _Stop)

This module imports nothing of the bot: every layer may import it.
"""

from __future__ import annotations


class OcmBotError(Exception):
    """Base class of the bot's own errors."""


class InputError(OcmBotError, ValueError):
    """What a driver typed, or a button's data, cannot be used; the view says why.

    Also a :class:`ValueError`, as the parsers it comes from raise for any value they cannot read.
    """
