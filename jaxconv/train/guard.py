"""The divergence guard: stop training at the first sign of divergence, keeping a state that passed.

A NaN is the last symptom of divergence, not the first. With plain SGD at learning rate 100 the
parameters reached about 1e21 before the loss became NaN, so the "last finite" state was useless:
continuing from it failed again at any lower learning rate. With Adam at learning rate 1e6 the loss
never became NaN at all (its step size is bounded): it sat near 1e26 and the run ended "normally".

So :class:`Guard` checks three things after every step ``s`` (``loss_s`` is the loss of batch
``s`` on the parameters of state ``s - 1``, before the update):

1. ``loss_s`` is finite, and not both above ``loss_ratio`` times its running minimum and above
   the chance loss ``log(classes)`` (the cross-entropy of a uniform guess) and the run's first
   loss. The floor keeps a converged run's noise on a tiny loss (0.005 then 0.06) from being
   taken for divergence: a loss worse than guessing is. Else state ``s - 1`` is the bad one and
   the guard returns state ``s - 2``.
2. the gradients and the new parameters are finite (the jitted step reports this). Else state
   ``s - 1`` is the last good one.
3. the new parameters' global norm is at most ``norm_growth`` times the previous one. Else state
   ``s`` is bad and state ``s - 1`` is the last good one.

It raises :class:`DivergenceError` (or its subclass :class:`NonFiniteError` for case 2 and
non-finite losses) with ``state`` = the newest state that passed every check, ``good_step`` its
step and ``reason`` in words. It holds references to the last two states, no copies.
"""

from __future__ import annotations

import math

__all__ = ["DivergenceError", "Guard", "NonFiniteError"]


class DivergenceError(FloatingPointError):
    """Training diverged; ``state`` is the newest state that passed the guard.

    Attributes:
        step: the step at which training stopped (its update was not kept).
        good_step: the step of ``state``.
        state: the newest :class:`~jaxconv.train.TrainState` that passed every check.
        reason: what the guard saw, e.g. ``"loss 3.1e+05 is above 10 x its running minimum 0.21"``.
    """

    def __init__(self, step: int, state, reason: str | None = None, good_step: int | None = None):
        self.step = int(step)
        self.good_step = self.step - 1 if good_step is None else int(good_step)
        self.state = state
        self.reason = reason or "non-finite loss, gradients or parameters"
        super().__init__(
            f"fit: training diverged at step {self.step} ({self.reason}); training stopped and "
            f"err.state holds the state of step {self.good_step}, the last that passed the "
            f"divergence guard. Continue from it with a smaller learning rate.")


class NonFiniteError(DivergenceError):
    """Training produced a NaN or infinite loss, gradient or parameter (a :class:`DivergenceError`).

    Attributes:
        step, good_step, state, reason: as in :class:`DivergenceError`.
    """


class Guard:
    """Checks every step's loss, finiteness and parameter norm (see the module docstring).

    Args:
        start: ``(step, state)`` the run starts from.
        start_norm: the global norm of ``start``'s parameters, or None (then the first step's
            norm is not compared).
        loss_ratio: stop when a loss exceeds this multiple of the running minimum (and the first
            loss); None turns the check off.
        norm_growth: stop when one step multiplies the parameter norm by more than this; None
            turns the check off.
        chance_loss: the loss of a uniform guess, ``log(classes)``, below which no loss counts
            as divergence.
    """

    def __init__(self, start, start_norm=None, *, loss_ratio: float | None = 10.0,
                 norm_growth: float | None = 10.0,
                 chance_loss=0.0):
        self.loss_ratio, self.norm_growth = loss_ratio, norm_growth
        self.chance_loss = float(chance_loss)
        self._states = [start]  # the last two (step, state) that passed, oldest first
        self._norm = start_norm
        self._first = self._min = None

    def check(self, step: int, loss: float, finite: bool, norm: float | None, state) -> None:
        """Accepts step ``step`` (its loss, finiteness, new norm and new state) or raises.

        Raises:
            DivergenceError, NonFiniteError: with the newest state that passed.
        """
        before = self._states[-1]
        if not math.isfinite(loss):
            raise self._stop(NonFiniteError, step, f"loss {loss}", older=True)
        if self.loss_ratio is not None and self._min is not None:
            assert self._first is not None  # set with _min
            limit = max(self.loss_ratio * self._min, self._first, self.chance_loss)
            if loss > limit:
                raise self._stop(DivergenceError, step, f"loss {loss:.3g} is above "
                                 f"{self.loss_ratio:g} x its running minimum {self._min:.3g}",
                                 older=True)
        if not finite:
            raise self._stop(NonFiniteError, step, "non-finite gradients or parameters")
        if norm is not None and not math.isfinite(norm):
            raise self._stop(NonFiniteError, step, f"parameter norm {norm}")
        if (self.norm_growth is not None and norm is not None and self._norm
                and norm > self.norm_growth * self._norm):
            raise self._stop(DivergenceError, step, f"one step grew the parameter norm from "
                             f"{self._norm:.3g} to {norm:.3g}, more than {self.norm_growth:g} x")
        self._first = loss if self._first is None else self._first
        self._min = loss if self._min is None else min(self._min, loss)
        self._norm = norm if norm is not None else self._norm
        self._states = [before, (step, state)]

    def _stop(self, kind, step, reason, older=False):
        # A bad loss condemns the state it was measured on (step - 1): go one further back,
        # unless that is where this run started (nothing older is known).
        good_step, good = self._states[0] if older else self._states[-1]
        return kind(step, good, reason, good_step=good_step)
