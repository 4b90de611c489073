"""Redraw bookkeeping: `DrawSchedule` (no Qt) and the nice bounds plot ranges grow by."""

from jaxconv_viewer.gui.draw_schedule import DrawSchedule


def test_every_job_is_drawn_in_turn_and_shown_follows_the_slowest():
    schedule = DrawSchedule(["a", "b", "c"])
    assert schedule.next_jobs(2) == ["a", "b"] and schedule.shown == -1
    schedule.new_snapshot(step=1)
    assert not schedule.done("a", 1) and not schedule.done("b", 1)
    schedule.new_snapshot(step=2)  # c never drew: it comes first now, then a and b again
    assert schedule.next_jobs(3) == ["c", "a", "b"]
    assert schedule.done("c", 2) and schedule.shown == 1  # a and b still show step 1
    assert schedule.next_jobs(5) == ["a", "b"]
    assert not schedule.done("a", 2) and schedule.done("b", 2) and schedule.shown == 2
    assert schedule.next_jobs(3) == []


def test_reset_forgets_what_was_drawn():
    schedule = DrawSchedule(["a"])
    schedule.new_snapshot(step=7)
    assert schedule.done("a", 7) and schedule.shown == 7
    schedule.reset()
    assert schedule.shown == -1 and schedule.next_jobs(1) == ["a"]


def test_only_the_shown_pages_jobs_are_drawn():
    schedule = DrawSchedule(["a", "b", "c"])
    schedule.new_snapshot(step=3)
    assert schedule.done("a", 3) is False  # b and c have not drawn it
    schedule.set_jobs(["a"])  # another page: only a is on it
    assert schedule.next_jobs(3) == [] and schedule.jobs == ["a"]
    schedule.new_snapshot(step=4)
    assert schedule.next_jobs(3) == ["a"] and schedule.done("a", 4) and schedule.shown == 4
    assert not schedule.done("b", 4)  # drawn for a page no longer shown: no step moves
    schedule.set_jobs(["a", "b", "c"])  # back: c never drew step 4, so it comes first
    assert schedule.next_jobs(3) == ["c"]


def test_nice_ceiling_is_a_round_bound_just_above():
    from jaxconv_viewer.gui.plots import nice_ceiling

    assert [nice_ceiling(x) for x in (0.52, 1.0, 2.3, 130, 201)] == [0.6, 1.0, 2.5, 150.0, 250.0]
