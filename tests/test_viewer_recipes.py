"""Every optimiser and schedule `jaxconv train` offers also trains in the viewer's Session.

The Session used to build its columns' states with ``make_optimizer(optimizer, learning_rate)``,
dropping the schedule, so ``jaxconv-viewer --schedule cosine`` trained a cosine transform on a
constant one's state and failed at the first step. Its states now come from
`jaxconv.train.make_tx`, as `fit`'s updates do.
"""

import itertools

import jax
import numpy as np
import pytest
from viewer_tiny import TINY

from jaxconv import names, train
from jaxconv_viewer.session.columns import dial_column
from jaxconv_viewer.session.session import Session

RECIPES = list(itertools.product(names.OPTIMIZERS, names.SCHEDULES))


def _trains_two_rounds(session):
    session.startup.wait()  # every step ready: the columns train in step from the first round
    rounds = session.rounds()
    assert [next(rounds), next(rounds)] == [1, 2]
    for kind in session.settings.columns:
        losses = session.history[kind].view()["train"]["loss"]
        assert len(losses) == 2 and np.all(np.isfinite(losses)), (kind, losses)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer, schedule", RECIPES)
def test_every_optimizer_and_schedule_trains_in_the_session(optimizer, schedule):
    settings = TINY.with_fields(optimizer=optimizer, schedule=schedule, steps=6, eval_every=0)
    session = Session(settings)
    session.prepare()
    tx = train.make_tx(session.settings.train)  # the transform fit updates with
    for kind in session.settings.columns:  # each column's state was made by it, not by a constant-rate twin
        state = session.states[kind]
        assert (jax.tree.structure(state.opt_state)
                == jax.tree.structure(tx.init(state.params))), (kind, optimizer, schedule)
    _trains_two_rounds(session)


@pytest.mark.slow
def test_the_dial_rebuilds_the_middle_column_with_the_schedule():
    session = Session(TINY.with_fields(optimizer="momentum", schedule="warmup_cosine", steps=6,
                                       eval_every=0))
    session.prepare()
    session.set_regions(1)  # the middle column starts again, as a regional model
    tx = train.make_tx(session.settings.train)
    state = session.states[dial_column(session.settings.columns)]
    assert jax.tree.structure(state.opt_state) == jax.tree.structure(tx.init(state.params))
    _trains_two_rounds(session)


def test_clip_norm_is_a_viewer_flag_and_trains_in_the_session():
    from jaxconv_viewer.__main__ import _parser, settings_from_args

    args = _parser().parse_args(["--clip-norm", "0.5", "--optimizer", "sgd"])
    clipped = settings_from_args(args).train
    assert clipped.clip_norm == 0.5  # a TrainConfig field is a flag with no viewer edit
    session = Session(TINY.with_fields(optimizer="sgd", clip_norm=0.5, steps=6, eval_every=0))
    session.prepare()
    _trains_two_rounds(session)
