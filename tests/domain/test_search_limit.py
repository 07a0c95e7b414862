"""The per-driver search limit: a sliding minute, each driver on their own."""

from ocm_bot.domain.search_limit import SearchRateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_slides_with_the_minute_and_says_how_long_to_wait():
    clock = Clock()
    limit = SearchRateLimit(per_minute=3, clock=clock)
    for step in range(3):
        clock.now = 1000.0 + step * 10
        assert limit.check(7) is None
    clock.now = 1030.0
    assert limit.check(7) == 30.0  # the first of the three leaves the window at 1060
    assert limit.check(8) is None  # another driver is not held back
    clock.now = 1060.0
    assert limit.check(7) is None
    assert limit.check(7) == 10.0  # the second leaves at 1070


def test_no_limit_when_set_to_zero_or_without_a_person():
    limit = SearchRateLimit(per_minute=0, clock=Clock())
    assert all(limit.check(7) is None for _ in range(1000))
    assert SearchRateLimit(per_minute=1, clock=Clock()).check(None) is None
