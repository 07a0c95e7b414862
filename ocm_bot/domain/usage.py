"""Which OCM usage types a driver's usage choice shows: public, with a membership, restricted.

Judged by the usage type's title and flags, so types OCM adds later classify too; without reference
data at hand, :data:`KNOWN_USAGE_CLASSES` stands in. Used by the search filter and the menus alike::

    usage_type_ids(UsageChoice.PUBLIC_ONLY)                   # frozenset({0, 1, 5, 7})
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from ocm_bot.domain.preferences import UsageChoice
from ocm_bot.ocm.models import UsageType


class UsageClass(enum.Enum):
    UNKNOWN = "unknown"
    PUBLIC = "public"
    MEMBERSHIP = "membership"
    RESTRICTED = "restricted"


# OCM's usage types (GET /v3/referencedata, UsageTypes), for when reference data is not at hand.
KNOWN_USAGE_CLASSES: Mapping[int, UsageClass] = {
    0: UsageClass.UNKNOWN,  # (Unknown)
    1: UsageClass.PUBLIC,  # Public
    5: UsageClass.PUBLIC,  # Public - Pay At Location
    7: UsageClass.PUBLIC,  # Public - Notice Required
    4: UsageClass.MEMBERSHIP,  # Public - Membership Required
    2: UsageClass.RESTRICTED,  # Private - Restricted Access
    3: UsageClass.RESTRICTED,  # Privately Owned - Notice Required
    6: UsageClass.RESTRICTED,  # Private - For Staff, Visitors or Customers
}

_SHOWN_CLASSES: Mapping[UsageChoice, frozenset[UsageClass]] = {
    UsageChoice.PUBLIC_ONLY: frozenset({UsageClass.UNKNOWN, UsageClass.PUBLIC}),
    UsageChoice.INCLUDE_MEMBERSHIP: frozenset({UsageClass.UNKNOWN, UsageClass.PUBLIC, UsageClass.MEMBERSHIP}),
}


def usage_class(usage: UsageType) -> UsageClass:
    """Where an OCM usage type falls: judged by its title and flags, so new types classify too."""
    title = usage.title.casefold()
    if usage.id == 0 or title.startswith("(unknown"):
        return UsageClass.UNKNOWN
    if title.startswith("public"):
        return UsageClass.MEMBERSHIP if usage.is_membership_required else UsageClass.PUBLIC
    return UsageClass.RESTRICTED


def usage_type_ids(choice: UsageChoice, usage_types: Mapping[int, UsageType] | None = None) -> frozenset[int] | None:
    """The OCM ``usagetypeid`` values a choice allows; None means no usage filter at all.

    Chargers of unknown usage (ID 0) stay visible, as chargers of unknown status do; a charger
    with no usage type at all should be read as ID 0 by a local filter.
    """
    shown = _SHOWN_CLASSES.get(choice)
    if shown is None:
        return None
    if usage_types:
        classes = {usage_id: usage_class(usage) for usage_id, usage in usage_types.items()}
    else:
        classes = dict(KNOWN_USAGE_CLASSES)
    return frozenset(usage_id for usage_id, kind in classes.items() if kind in shown)
