"""Quiet hours on the group's clock: over midnight, within a day, at a UTC offset, off."""

from __future__ import annotations

from datetime import UTC, datetime

from ocm_bot.domain.watch_quiet import QuietHours


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def test_quiet_hours_over_midnight_on_the_groups_clock() -> None:
    quiet = QuietHours(22, 7, utc_offset_minutes=60, on=True)  # 21:00-06:00 UTC
    assert [quiet.is_quiet(at(h)) for h in (20, 21, 23, 0, 5, 6, 12)] == [False, True, True, True, True, False, False]


def test_quiet_hours_within_a_day_at_a_negative_half_hour_offset() -> None:
    quiet = QuietHours(13, 15, utc_offset_minutes=-210, on=True)  # 16:30-18:30 UTC
    assert [
        quiet.is_quiet(at(16, 29)),
        quiet.is_quiet(at(16, 30)),
        quiet.is_quiet(at(18, 29)),
        quiet.is_quiet(at(18, 30)),
    ] == [
        False,
        True,
        True,
        False,
    ]


def test_off_or_empty_quiet_hours_are_never_quiet_and_steps_wrap_and_clamp() -> None:
    assert not QuietHours(22, 7).is_quiet(at(23))
    assert not QuietHours(5, 5, on=True).is_quiet(at(5))
    moved = QuietHours(23, 0, utc_offset_minutes=14 * 60).moved(start=1, end=-1, offset_minutes=60)
    assert (moved.start_hour, moved.end_hour, moved.utc_offset_minutes) == (0, 23, 14 * 60)
    assert QuietHours.from_data(moved.to_data()) == moved
    assert QuietHours.guessed_for(-74.0).utc_offset_minutes == -300  # New York
    assert QuietHours.from_data({"start": 1}) is None
