from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.live import INDEFINITE_LIVE_PERIOD, MAX_TRACKED_SECONDS, LiveReason, LiveTracker

HERE = GeoPoint(45.5122, -122.6587)
TWO_KM_NORTH = GeoPoint(45.5302, -122.6587)
KEY = (1, 10)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def tracker_at(clock: Clock) -> LiveTracker:
    tracker = LiveTracker(clock=clock)
    await tracker.start(KEY, HERE, results_message_id=99, live_period=900)
    return tracker


async def test_standing_still_or_crawling_never_refreshes():
    clock = Clock()
    tracker = await tracker_at(clock)
    clock.now = 30
    assert (await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason == "too_soon"
    clock.now = 120
    assert (await tracker.on_move(KEY, GeoPoint(45.5172, -122.6587), live=True)).reason == "too_close"  # 550 m


async def test_a_real_move_after_a_minute_refreshes_once():
    clock = Clock()
    tracker = await tracker_at(clock)
    clock.now = 61
    decision = await tracker.on_move(KEY, TWO_KM_NORTH, live=True)
    assert decision.update and decision.session.results_message_id == 99
    assert not (await tracker.on_move(KEY, GeoPoint(45.55, -122.6587), live=True)).update  # claimed: a minute again


async def test_sharing_ends_with_the_period_or_an_edit_without_one():
    clock = Clock()
    tracker = await tracker_at(clock)
    clock.now = 901
    assert (await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason == "stopped"
    assert (await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason == "unknown"
    tracker = await tracker_at(clock)
    assert (await tracker.on_move(KEY, TWO_KM_NORTH, live=False)).reason == "stopped"
    assert await tracker.session(KEY) is None


async def test_indefinite_sharing_is_tracked_for_a_day():
    clock = Clock()
    tracker = LiveTracker(clock=clock)
    await tracker.start(KEY, HERE, results_message_id=1, live_period=INDEFINITE_LIVE_PERIOD)
    clock.now = MAX_TRACKED_SECONDS - 10
    assert (await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).update
    clock.now = MAX_TRACKED_SECONDS + 1
    assert not (await tracker.on_move(KEY, HERE, live=True)).update


async def test_a_session_started_by_one_instance_is_followed_by_another(tmp_path):
    from ocm_bot.storage import open_storage

    clock = Clock()
    async with await open_storage(None, data_dir=tmp_path, secret=None) as storage:
        first, second = LiveTracker(clock=clock, state=storage), LiveTracker(clock=clock, state=storage)
        await first.start(KEY, HERE, results_message_id=99, live_period=900)
        clock.now = 61
        decision = await second.on_move(KEY, TWO_KM_NORTH, live=True)
        assert decision.update and decision.session.results_message_id == 99
        assert (await first.on_move(KEY, GeoPoint(45.55, -122.6587), live=True)).reason == "too_soon"  # claimed
        assert (await first.on_move(KEY, HERE, live=False)).reason == "stopped"
        assert await second.session(KEY) is None


async def test_every_decision_names_its_reason_with_the_enum():
    clock = Clock()
    tracker = await tracker_at(clock)
    clock.now = 30
    reasons = [(await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason]
    clock.now = 120
    reasons.append((await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason)
    reasons.append((await tracker.on_move(KEY, TWO_KM_NORTH, live=False)).reason)
    reasons.append((await tracker.on_move(KEY, TWO_KM_NORTH, live=True)).reason)
    assert reasons == [LiveReason.TOO_SOON, LiveReason.UPDATE, LiveReason.STOPPED, LiveReason.UNKNOWN]
    assert all(type(reason) is LiveReason for reason in reasons)
