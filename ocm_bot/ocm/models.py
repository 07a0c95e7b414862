"""Typed Open Charge Map data, as the rest of the bot sees it.

The client parses every OCM payload shape (verbose, ``verbose=false``, ``compact=true``,
camelCase) into these frozen dataclasses, resolving reference IDs through
:class:`~ocm_bot.ocm.reference.ReferenceData`. Nothing outside ``ocm_bot.ocm`` sees raw JSON.

Distances are not part of a charger: OCM only fills ``AddressInfo.Distance`` for the point
it was asked about, while the bot re-sorts cached chargers for new points, so the domain
computes distances itself.

Example::

    charger.name                 # "Lidl Garforth"
    charger.max_power_kw         # 50.0
    charger.status.is_operational  # True, False or None (unknown)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class DistanceUnit(enum.IntEnum):
    """OCM's ``DistanceUnit`` codes (``distanceunit`` query values are ``km`` / ``miles``)."""

    KM = 1
    MILES = 2


# Reference entities ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionType:
    id: int
    title: str
    formal_name: str | None = None
    is_discontinued: bool | None = None
    is_obsolete: bool | None = None


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    title: str
    website_url: str | None = None
    phone: str | None = None
    is_private_individual: bool | None = None


@dataclass(frozen=True, slots=True)
class StatusType:
    """A charger or connection status; ``is_operational`` is None when OCM does not know."""

    id: int
    title: str
    is_operational: bool | None = None
    is_user_selectable: bool | None = None


@dataclass(frozen=True, slots=True)
class UsageType:
    id: int
    title: str
    is_pay_at_location: bool | None = None
    is_membership_required: bool | None = None
    is_access_key_required: bool | None = None


@dataclass(frozen=True, slots=True)
class Level:
    """OCM's charging level ("charger type"): 1 low, 2 medium, 3 high / DC fast."""

    id: int
    title: str
    is_fast_charge_capable: bool | None = None


@dataclass(frozen=True, slots=True)
class CurrentType:
    id: int
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Country:
    id: int
    title: str
    iso_code: str | None = None
    continent_code: str | None = None


@dataclass(frozen=True, slots=True)
class DataProvider:
    """Who published a charger's data, and under which licence (cards must credit it)."""

    id: int
    title: str
    website_url: str | None = None
    license: str | None = None
    is_open_data_licensed: bool | None = None


@dataclass(frozen=True, slots=True)
class CommentType:
    id: int
    title: str


@dataclass(frozen=True, slots=True)
class CheckinStatusType:
    """An outcome a driver can report; ``is_positive`` None means neutral."""

    id: int
    title: str
    is_positive: bool | None = None
    is_automated_checkin: bool | None = None


@dataclass(frozen=True, slots=True)
class SubmissionStatusType:
    id: int
    title: str
    is_live: bool | None = None


# POI data -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    title: str | None
    latitude: float
    longitude: float
    address_line1: str | None = None
    address_line2: str | None = None
    town: str | None = None
    state_or_province: str | None = None
    postcode: str | None = None
    country: Country | None = None
    phone: str | None = None
    email: str | None = None
    access_comments: str | None = None
    related_url: str | None = None


@dataclass(frozen=True, slots=True)
class Connection:
    id: int | None
    connection_type: ConnectionType | None = None
    status: StatusType | None = None
    level: Level | None = None
    amps: int | None = None
    voltage: int | None = None
    power_kw: float | None = None
    current_type: CurrentType | None = None
    quantity: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    """A user comment or check-in on a charger."""

    id: int | None
    comment_type: CommentType | None = None
    checkin_status: CheckinStatusType | None = None
    rating: int | None = None
    text: str | None = None
    user_name: str | None = None
    date_created: datetime | None = None


@dataclass(frozen=True, slots=True)
class MediaItem:
    id: int | None
    url: str | None = None
    thumbnail_url: str | None = None
    comment: str | None = None
    date_created: datetime | None = None
    user_name: str | None = None  # who took it (photo credits)


@dataclass(frozen=True, slots=True)
class Charger:
    """One OCM POI (a charging location with one or more connections)."""

    id: int
    address: Address
    uuid: str | None = None
    connections: tuple[Connection, ...] = ()
    operator: Operator | None = None
    usage_type: UsageType | None = None
    usage_cost: str | None = None
    status: StatusType | None = None
    data_provider: DataProvider | None = None
    submission_status: SubmissionStatusType | None = None
    number_of_points: int | None = None
    general_comments: str | None = None
    date_created: datetime | None = None
    date_last_verified: datetime | None = None
    date_last_status_update: datetime | None = None
    date_planned: datetime | None = None
    data_quality_level: int | None = None
    comments: tuple[Comment, ...] = field(default=(), compare=True)
    media_items: tuple[MediaItem, ...] = ()

    @property
    def name(self) -> str:
        return self.address.title or f"#{self.id}"

    @property
    def latitude(self) -> float:
        return self.address.latitude

    @property
    def longitude(self) -> float:
        return self.address.longitude

    @property
    def max_power_kw(self) -> float | None:
        powers = [c.power_kw for c in self.connections if c.power_kw is not None]
        return max(powers) if powers else None
