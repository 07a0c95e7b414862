"""How the bot names itself to the services it calls, and the OCM web pages it links to.

One User-Agent builder for OCM, Nominatim and the configuration check (OCM's and Nominatim's
usage policies ask for a descriptive one; a library default is taken for a robot), and one
builder for each page of openchargemap.org a driver is sent to.

Example::

    user_agent()                      # 'ocm-bot/0.4.0 (Telegram bot; +https://github.com/ocm-bot/ocm-bot)'
    user_agent(contact="ops@example.org")
    poi_page_url(100627)              # 'https://openchargemap.org/site/poi/details/100627'
"""

from __future__ import annotations

from ocm_bot import __version__

PROJECT_URL = "https://github.com/ocm-bot/ocm-bot"
OCM_SITE_URL = "https://openchargemap.org/site"


def user_agent(*, contact: str | None = None, purpose: str = "Telegram bot") -> str:
    """``ocm-bot/<version> (<purpose>; +<project>[; <contact>])``."""
    extra = f"; {contact}" if contact else ""
    return f"ocm-bot/{__version__} ({purpose}; +{PROJECT_URL}{extra})"


def poi_page_url(charger_id: int) -> str:
    """The charger's page on openchargemap.org."""
    return f"{OCM_SITE_URL}/poi/details/{charger_id}"


def add_comment_url(charger_id: int) -> str:
    """OCM's own page for a check-in or comment on the charger."""
    return f"{OCM_SITE_URL}/poi/addcomment/{charger_id}"


def add_charger_url() -> str:
    """OCM's page for adding a charger it does not know."""
    return f"{OCM_SITE_URL}/poi/add"


def add_photo_url(charger_id: int) -> str:
    """OCM's own page for adding a photo of the charger."""
    return f"{OCM_SITE_URL}/poi/addmediaitem/{charger_id}"
