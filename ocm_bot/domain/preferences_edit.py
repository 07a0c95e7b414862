"""Pure edits of a driver's preferences, as the /settings menus offer them.

Every edit takes the current :class:`UserPreferences` and returns a new one. A value the menus do
not offer (a button from an old release, or tampered data) raises :class:`InvalidChoice`, so the
handler answers "this button has expired" instead of saving nonsense.

Example::

    prefs = apply_choice(prefs, Setting.POWER, "50")          # minimum 50 kW
    prefs = apply_choice(prefs, Setting.CONNECTORS, "c2")     # toggle CCS (Type 2)
    search_operators(reference.operators, "ionity")           # [Operator(id=3299, title='IONITY'...)]
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from ocm_bot.domain.preferences import (
    PAGE_SIZES,
    POWER_STEPS_KW,
    RADIUS_STEPS_KM,
    DistanceUnitChoice,
    UsageChoice,
    UserPreferences,
)
from ocm_bot.errors import InputError
from ocm_bot.geometry import KM_PER_MILE
from ocm_bot.ocm.models import Operator

RADIUS_STEPS_MI: tuple[float, ...] = (1, 3, 5, 15, 30)
MAX_OPERATORS = 10
"""A driver picks a few networks; more would make the OCM query long and the menu unreadable."""
E = TypeVar("E", bound=enum.StrEnum)
MIN_OPERATOR_QUERY = 2
MAX_OPERATOR_QUERY = 60


class InvalidChoice(InputError):
    """A value the settings menus never offer."""


class Setting(enum.StrEnum):
    """The settings a driver can change; the values are short because they travel in buttons."""

    POWER = "pw"
    CONNECTORS = "ct"
    LEVELS = "lv"
    OPERATIONAL = "op"
    USAGE = "us"
    OPERATORS = "or"
    OPEN_DATA = "od"
    HIDE_FAULTS = "hf"
    RADIUS = "rd"
    UNIT = "un"
    PAGE_SIZE = "ps"
    LANGUAGE = "lg"
    RESET = "rs"


ANY = "any"
"""The value that clears a filter (any power, any plug, any operator)."""
AUTOMATIC = "auto"
"""The value that returns a setting to its automatic default (unit, language)."""


# Connector types -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorGroup:
    """Plugs a driver thinks of as one (OCM lists Type 2 sockets and tethered cables apart)."""

    key: str
    connection_type_ids: frozenset[int]


# IDs from OCM's reference data (GET /v3/referencedata, ConnectionTypes).
COMMON_CONNECTORS: tuple[ConnectorGroup, ...] = (
    ConnectorGroup("t2", frozenset({25, 1036})),  # Type 2 socket only, Type 2 tethered
    ConnectorGroup("c2", frozenset({33})),  # CCS (Type 2)
    ConnectorGroup("ch", frozenset({2})),  # CHAdeMO
    ConnectorGroup("t1", frozenset({1})),  # Type 1 (J1772)
    ConnectorGroup("c1", frozenset({32})),  # CCS (Type 1)
    ConnectorGroup("ts", frozenset({27, 30, 8})),  # NACS / Tesla Supercharger, Model S/X, Roadster
    ConnectorGroup("gb", frozenset({1038, 1039, 1040})),  # GB/T AC socket, AC tethered, DC
    # Domestic sockets: BS1363, Schuko, Europlug, CEE 7/5, NEMA 5-15R, NEMA 5-20R, Swiss T13, AS 3112.
    ConnectorGroup("dm", frozenset({3, 28, 13, 23, 22, 9, 1037, 29})),
)
_CONNECTOR_BY_KEY = {group.key: group for group in COMMON_CONNECTORS}


def connector_group(key: str) -> ConnectorGroup:
    try:
        return _CONNECTOR_BY_KEY[key]
    except KeyError:
        raise InvalidChoice(f"no connector group {key!r}") from None


def is_group_selected(prefs: UserPreferences, group: ConnectorGroup) -> bool:
    return group.connection_type_ids <= prefs.connection_type_ids


def other_connection_type_ids(prefs: UserPreferences) -> list[int]:
    """Selected connection types that no common group covers (kept, shown, removable)."""
    covered = set().union(*(group.connection_type_ids for group in COMMON_CONNECTORS))
    return sorted(prefs.connection_type_ids - covered)


def toggle_connector_group(prefs: UserPreferences, key: str) -> UserPreferences:
    group = connector_group(key)
    if is_group_selected(prefs, group):
        return replace(prefs, connection_type_ids=prefs.connection_type_ids - group.connection_type_ids)
    return replace(prefs, connection_type_ids=prefs.connection_type_ids | group.connection_type_ids)


def toggle_connection_type(prefs: UserPreferences, connection_type_id: int) -> UserPreferences:
    """Add or remove one connection type (for types outside the common groups)."""
    return replace(prefs, connection_type_ids=prefs.connection_type_ids ^ {connection_type_id})


# Charging levels -------------------------------------------------------------------------------

LEVEL_IDS: tuple[int, ...] = (1, 2, 3)
"""OCM's charging levels (reference data ``ChargerTypes``): 1 under 2 kW, 2 over 2 kW, 3 over 40 kW."""


def toggle_level(prefs: UserPreferences, level_id: int) -> UserPreferences:
    if level_id not in LEVEL_IDS and level_id not in prefs.level_ids:
        raise InvalidChoice(f"no charging level {level_id}")
    return replace(prefs, level_ids=prefs.level_ids ^ {level_id})


# Power, radius, unit, page size, language ------------------------------------------------------


def set_min_power(prefs: UserPreferences, power_kw: float | None) -> UserPreferences:
    if power_kw is not None and power_kw not in POWER_STEPS_KW:
        raise InvalidChoice(f"{power_kw} kW is not a power step")
    return replace(prefs, min_power_kw=power_kw)


@dataclass(frozen=True, slots=True)
class RadiusChoice:
    """A radius as shown (``value`` in ``unit``) and as stored (``km``)."""

    value: float
    unit: DistanceUnitChoice

    @property
    def km(self) -> float:
        return self.value * KM_PER_MILE if self.unit is DistanceUnitChoice.MILES else float(self.value)

    def is_current(self, prefs: UserPreferences) -> bool:
        return math.isclose(prefs.radius_km, self.km, abs_tol=0.01)


def radius_choices(unit: DistanceUnitChoice) -> tuple[RadiusChoice, ...]:
    steps = RADIUS_STEPS_MI if unit is DistanceUnitChoice.MILES else RADIUS_STEPS_KM
    return tuple(RadiusChoice(step, unit) for step in steps)


def set_radius(prefs: UserPreferences, value: float, unit: DistanceUnitChoice) -> UserPreferences:
    if value not in (choice.value for choice in radius_choices(unit)):
        raise InvalidChoice(f"{value} {unit} is not a radius step")
    return replace(prefs, radius_km=RadiusChoice(value, unit).km)


def set_unit(prefs: UserPreferences, unit: DistanceUnitChoice | None) -> UserPreferences:
    return replace(prefs, unit=unit)


def set_page_size(prefs: UserPreferences, size: int) -> UserPreferences:
    if size not in PAGE_SIZES:
        raise InvalidChoice(f"{size} is not a page size")
    return replace(prefs, page_size=size)


def set_language(prefs: UserPreferences, language: str | None, available: Iterable[str]) -> UserPreferences:
    """Override the Telegram language with one we have a catalog for (None: follow Telegram)."""
    if language is not None and language not in tuple(available):
        raise InvalidChoice(f"no catalog for {language!r}")
    return replace(prefs, language=language)


def set_usage(prefs: UserPreferences, usage: UsageChoice) -> UserPreferences:
    return replace(prefs, usage=usage)


def reset_filters(prefs: UserPreferences) -> UserPreferences:
    """Every search filter back to its default; language, unit and page size stay."""
    defaults = UserPreferences()
    return replace(defaults, language=prefs.language, unit=prefs.unit, page_size=prefs.page_size)


# Operators ------------------------------------------------------------------------------------


def toggle_operator(prefs: UserPreferences, operator_id: int, operators: Mapping[int, Operator]) -> UserPreferences:
    """Remove a selected operator, or add one that OCM's reference data knows."""
    if operator_id in prefs.operator_ids:
        return replace(prefs, operator_ids=prefs.operator_ids - {operator_id})
    if operator_id not in operators:
        raise InvalidChoice(f"no operator {operator_id}")
    if len(prefs.operator_ids) >= MAX_OPERATORS:
        raise InvalidChoice(f"at most {MAX_OPERATORS} operators")
    return replace(prefs, operator_ids=prefs.operator_ids | {operator_id})


def normalise_name(text: str) -> str:
    """Lower case, no accents, words separated by single spaces ("ALDI SÜD" -> "aldi sud")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.split(r"[\W_]+", bare)).strip()


def search_operators(operators: Mapping[int, Operator], query: str, *, limit: int = 8) -> list[Operator]:
    """Operators whose name contains every word of ``query``, best matches first.

    Order: the whole name, then names starting with the query, then names with a word starting
    with each query word, then names merely containing the words; ties by name. Case and accents
    are ignored, so "aldi sud" finds "ALDI SÜD".
    """
    wanted = normalise_name(query[:MAX_OPERATOR_QUERY])
    if len(wanted.replace(" ", "")) < MIN_OPERATOR_QUERY:
        return []
    words = wanted.split()
    ranked: list[tuple[int, str, Operator]] = []
    for operator in operators.values():
        name = normalise_name(operator.title)
        if not name or not all(word in name for word in words):
            continue
        name_words = name.split()
        if name == wanted:
            rank = 0
        elif name.startswith(wanted):
            rank = 1
        elif all(any(part.startswith(word) for part in name_words) for word in words):
            rank = 2
        else:
            rank = 3
        ranked.append((rank, name, operator))
    ranked.sort(key=lambda item: (item[0], item[1], item[2].id))
    return [operator for _, _, operator in ranked[:limit]]


# One entry point for the menus -----------------------------------------------------------------


def apply_choice(
    prefs: UserPreferences,
    setting: Setting | str,
    *values: str,
    languages: Iterable[str] = (),
    operators: Mapping[int, Operator] | None = None,
) -> UserPreferences:
    """Apply a menu choice as it comes back from a button (strings); InvalidChoice if not offered.

    Toggles (``OPERATIONAL``, ``OPEN_DATA``, ``RESET``) take no value; ``RADIUS`` takes the value
    and its unit (``"5", "mi"``); ``ANY`` clears a filter and ``AUTOMATIC`` returns the unit or the
    language to its default.
    """
    try:
        setting = Setting(setting)
    except ValueError:
        raise InvalidChoice(f"no setting {setting!r}") from None
    if setting is Setting.OPERATIONAL:
        return replace(prefs, operational_only=not prefs.operational_only)
    if setting is Setting.OPEN_DATA:
        return replace(prefs, open_data_only=not prefs.open_data_only)
    if setting is Setting.HIDE_FAULTS:
        return replace(prefs, hide_recent_faults=not prefs.hide_recent_faults)
    if setting is Setting.RESET:
        return reset_filters(prefs)
    if not values:
        raise InvalidChoice(f"{setting} needs a value")
    value = values[0]
    if setting is Setting.POWER:
        return set_min_power(prefs, None if value == ANY else _number(value))
    if setting is Setting.CONNECTORS:
        if value == ANY:
            return replace(prefs, connection_type_ids=frozenset())
        if value.isdigit():
            if int(value) not in prefs.connection_type_ids:
                raise InvalidChoice("only selected connection types are toggled by ID")
            return toggle_connection_type(prefs, int(value))
        return toggle_connector_group(prefs, value)
    if setting is Setting.LEVELS:
        if value == ANY:
            return replace(prefs, level_ids=frozenset())
        return toggle_level(prefs, _integer(value))
    if setting is Setting.OPERATORS:
        if value == ANY:
            return replace(prefs, operator_ids=frozenset())
        return toggle_operator(prefs, _integer(value), operators or {})
    if setting is Setting.USAGE:
        return set_usage(prefs, _enum(UsageChoice, value))
    if setting is Setting.RADIUS:
        unit = _enum(DistanceUnitChoice, values[1] if len(values) > 1 else "")
        return set_radius(prefs, _number(value), unit)
    if setting is Setting.UNIT:
        return set_unit(prefs, None if value == AUTOMATIC else _enum(DistanceUnitChoice, value))
    if setting is Setting.PAGE_SIZE:
        return set_page_size(prefs, _integer(value))
    if setting is Setting.LANGUAGE:
        return set_language(prefs, None if value == AUTOMATIC else value, languages)
    raise InvalidChoice(f"no edit for {setting}")  # pragma: no cover - every Setting is handled above


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidChoice(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise InvalidChoice(f"not a finite number: {text!r}")
    return value


def _integer(text: str) -> int:
    if not text.isdigit():
        raise InvalidChoice(f"not an integer: {text!r}")
    return int(text)


def _enum(kind: type[E], text: str) -> E:
    try:
        return kind(text)
    except ValueError:
        raise InvalidChoice(f"not a {kind.__name__}: {text!r}") from None
