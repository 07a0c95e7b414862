"""A group's preferences and language, and who asked its searches, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ocm_bot.domain.group_preferences import (
    Asker,
    asker_of,
    chat_language_choice,
    forget_group_settings,
    group_preferences,
    move_group_settings,
    remember_asker,
    save_group_preferences,
)
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences

GROUP, SUPERGROUP, DRIVER = -4242, -1004242, 42


@pytest.fixture(params=["sqlite_storage", "postgres_storage"])
def storage(request):
    return request.getfixturevalue(request.param)


async def test_a_group_keeps_its_own_preferences_apart_from_its_members(storage):
    assert await group_preferences(storage, GROUP) == UserPreferences()
    chosen = replace(UserPreferences(), radius_km=25, unit=DistanceUnitChoice.MILES, language="de", min_power_kw=50)
    await save_group_preferences(storage, GROUP, chosen)
    await storage.save_user(DRIVER, UserPreferences(language="fr").to_dict())

    assert await group_preferences(storage, GROUP) == chosen
    assert await chat_language_choice(storage, GROUP) == "de"
    assert await chat_language_choice(storage, DRIVER) == "fr"
    assert await chat_language_choice(storage, -1) is None  # a group nobody configured


async def test_the_preferences_follow_a_migration_and_go_when_the_bot_leaves(storage):
    await save_group_preferences(storage, GROUP, UserPreferences(radius_km=5))
    await move_group_settings(storage, GROUP, SUPERGROUP)
    assert (await group_preferences(storage, SUPERGROUP)).radius_km == 5
    assert await group_preferences(storage, GROUP) == UserPreferences()

    await forget_group_settings(storage, SUPERGROUP)
    assert await group_preferences(storage, SUPERGROUP) == UserPreferences()


async def test_who_asked_a_search_is_remembered_until_it_expires(storage):
    await remember_asker(storage, "s1", Asker(DRIVER, "Ada"), ttl_seconds=60)
    await remember_asker(storage, "s2", Asker(GROUP), ttl_seconds=60)  # an anonymous admin
    assert await asker_of(storage, "s1") == Asker(DRIVER, "Ada")
    assert await asker_of(storage, "s2") == Asker(GROUP)
    assert await asker_of(storage, "unknown") is None
    await storage.forget_user(DRIVER)  # /forget deletes the driver's own records
    assert await asker_of(storage, "s1") is None
