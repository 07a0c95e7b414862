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
    └── StartupError              ocm_bot.app: a service the bot needs cannot be opened

This module imports nothing of the bot: every layer may import it.
"""

from __future__ import annotations


class OcmBotError(Exception):
    """Base class of the bot's own errors."""
