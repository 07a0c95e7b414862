"""Labels of the /settings menus: names of plugs, levels, access, operators, languages and values.

Also usable in other views (the results header names the driver's filters with these).
"""

from __future__ import annotations

from collections.abc import Sequence

from babel import Locale, UnknownLocaleError

from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.preferences_edit import COMMON_CONNECTORS, LEVEL_IDS, is_group_selected
from ocm_bot.i18n import N_, Translator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.format import radius as format_radius
from ocm_bot.views.ocm_vocabulary import CHARGING_LEVELS, CONNECTION_TYPES
from ocm_bot.views.vocabulary import connection_type_id_name

CHECK = "✓ "
MAX_NAMES_IN_SUMMARY = 3


# Labels of the connector groups in ocm_bot.domain.preferences_edit.COMMON_CONNECTORS.
CONNECTOR_LABELS: dict[str, str] = {
    "t2": N_("Type 2"),
    "c2": N_("CCS (Type 2)"),
    "ch": N_("CHAdeMO"),
    "t1": N_("Type 1 (J1772)"),
    "c1": N_("CCS (Type 1)"),
    "ts": N_("Tesla / NACS"),
    "gb": N_("GB/T"),
    "dm": N_("Domestic socket"),
}

# OCM's charging levels (ocm_bot.domain.preferences_edit.LEVEL_IDS), named the way drivers know them.
LEVEL_LABELS: dict[int, str] = {level_id: CHARGING_LEVELS[level_id] for level_id in LEVEL_IDS}

USAGE_LABELS: dict[UsageChoice, str] = {
    UsageChoice.PUBLIC_ONLY: N_("Public only"),
    UsageChoice.INCLUDE_MEMBERSHIP: N_("Public, including membership"),
    UsageChoice.INCLUDE_RESTRICTED: N_("All, including restricted"),
}


# Small labels (also usable in other views, e.g. a results header) --------------------------------


def power_label(t: Translator, power_kw: float | None) -> str:
    if power_kw is None:
        return t.gettext("any power")
    return t.gettext("≥ {power} kW", power=t.number(power_kw))


def distance_label(t: Translator, value: float, unit: DistanceUnitChoice) -> str:
    if unit is DistanceUnitChoice.MILES:
        return t.gettext("{distance} mi", distance=t.number(value))
    return t.gettext("{distance} km", distance=t.number(value))


def radius_label(t: Translator, radius_km: float, unit: DistanceUnitChoice) -> str:
    """The radius as the results header shows it ("6.2 mi", "24 km")."""
    return format_radius(t, radius_km, unit)


def connector_names(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> list[str]:
    """One name per plug the driver picked: common groups by our (translated) name, any other
    type by OCM's title. A group such as Type 2 is one pick however many OCM types it holds."""
    groups = [group for group in COMMON_CONNECTORS if is_group_selected(prefs, group)]
    covered = set().union(*(group.connection_type_ids for group in groups))
    names = [t.gettext(CONNECTOR_LABELS[group.key]) for group in groups]
    names += [connection_type_title(t, reference, type_id) for type_id in sorted(prefs.connection_type_ids - covered)]
    return names


def connectors_label(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> str:
    """The chosen plugs: common groups by our name, any other type by OCM's title."""
    return _names_summary(t, connector_names(t, prefs, reference), empty=t.gettext("any plug"))


def short_level_name(t: Translator, level_id: int) -> str:
    """A charging level in a few characters ("level 3"), for filter chips."""
    return t.gettext("level {id}", id=level_id)


def levels_label(t: Translator, prefs: UserPreferences) -> str:
    names = [
        t.gettext(LEVEL_LABELS[level_id]) if level_id in LEVEL_LABELS else short_level_name(t, level_id)
        for level_id in sorted(prefs.level_ids)
    ]
    return _names_summary(t, names, empty=t.gettext("any level"))


def operators_label(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> str:
    names = sorted((operator_title(t, reference, op_id) for op_id in prefs.operator_ids), key=str.casefold)
    return _names_summary(t, names, empty=t.gettext("any operator"))


def language_name(code: str, *, in_sentence: bool = False) -> str:
    """A language's own name for itself ("Deutsch", "English", "Français"); ``in_sentence``: as the
    language writes it inside a sentence ("som i Telegram (svenska)", "Langue : français")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name if in_sentence else name[:1].upper() + name[1:]


def _names_summary(t: Translator, names: Sequence[str], *, empty: str) -> str:
    if not names:
        return empty
    shown = ", ".join(names[:MAX_NAMES_IN_SUMMARY])
    hidden = len(names) - MAX_NAMES_IN_SUMMARY
    if hidden > 0:
        return t.ngettext("{names} and {n} more", "{names} and {n} more", hidden, names=shown)
    return shown


def connection_type_title(t: Translator, reference: ReferenceData, type_id: int) -> str:
    """A connector type in the driver's language (the same name as on a card and a filter chip)."""
    known = reference.connection_types.get(type_id)
    if type_id not in CONNECTION_TYPES and not (known and known.title):
        return t.gettext("plug #{id}", id=type_id)
    return connection_type_id_name(t, type_id, known.title if known else None)


def operator_title(t: Translator, reference: ReferenceData, operator_id: int) -> str:
    known = reference.operators.get(operator_id)
    return known.title if known and known.title else t.gettext("operator #{id}", id=operator_id)


def on_off(t: Translator, value: bool) -> str:
    return t.gettext("on") if value else t.gettext("off")


def marked(label: str, current: bool) -> str:
    return CHECK + label if current else label
