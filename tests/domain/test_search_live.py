from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.live import INDEFINITE_LIVE_PERIOD, MAX_TRACKED_SECONDS, LiveTracker

HERE = GeoPoint(45.5122, -122.6587)
TWO_KM_NORTH = GeoPoint(45.5302, -122.6587)
KEY = (1, 10)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tracker_at(clock: Clock) -> LiveTracker:
    tracker = LiveTracker(clock=clock)
    tracker.start(KEY, HERE, results_message_id=99, live_period=900)
    return tracker


def test_standing_still_or_crawling_never_refreshes():
    clock = Clock()
    tracker = tracker_at(clock)
    clock.now = 30
    assert tracker.on_move(KEY, TWO_KM_NORTH, live=True).reason == "too_soon"
    clock.now = 120
    assert tracker.on_move(KEY, GeoPoint(45.5172, -122.6587), live=True).reason == "too_close"  # 550 m


def test_a_real_move_after_a_minute_refreshes_once():
    clock = Clock()
    tracker = tracker_at(clock)
    clock.now = 61
    decision = tracker.on_move(KEY, TWO_KM_NORTH, live=True)
    assert decision.update and decision.session.results_message_id == 99
    assert not tracker.on_move(KEY, GeoPoint(45.55, -122.6587), live=True).update  # claimed: a minute again


def test_sharing_ends_with_the_period_or_an_edit_without_one():
    clock = Clock()
    tracker = tracker_at(clock)
    clock.now = 901
    assert tracker.on_move(KEY, TWO_KM_NORTH, live=True).reason == "stopped"
    assert tracker.on_move(KEY, TWO_KM_NORTH, live=True).reason == "unknown"
    tracker = tracker_at(clock)
    assert tracker.on_move(KEY, TWO_KM_NORTH, live=False).reason == "stopped"
    assert KEY not in tracker


def test_indefinite_sharing_is_tracked_for_a_day():
    clock = Clock()
    tracker = LiveTracker(clock=clock)
    tracker.start(KEY, HERE, results_message_id=1, live_period=INDEFINITE_LIVE_PERIOD)
    clock.now = MAX_TRACKED_SECONDS - 10
    assert tracker.on_move(KEY, TWO_KM_NORTH, live=True).update
    clock.now = MAX_TRACKED_SECONDS + 1
    assert not tracker.on_move(KEY, HERE, live=True).update
