"""Sample complexity of conv, locally-connected and dense models on the Dynamic Signal Distribution.

Lahoti, Karp, Winston, Singh and Li (ICLR 2024, "Role of Locality and Weight Sharing in
Image-Based Tasks: A Sample Complexity Separation between CNNs, LCNs, and FCNs") define the DSD
task: an input is ``k`` patches of dimension ``d``; one patch, chosen uniformly at random, holds
the signal ``y * w_star`` plus isotropic Gaussian noise, every other patch only the noise, and the
label is the sign ``y``. For orthogonally equivariant training algorithms such as gradient
descent they prove that a CNN needs O~(k + d) samples, a locally-connected network Omega(k d)
(and O~(k (k + d))), and a fully-connected network Omega(k^2 d).

:func:`make_dsd` generates the task as images of shape (N, 1, k, d): one row of ``k`` positions
with ``d`` channels, so a 1x1 window is one patch. The three kinds of :mod:`jaxconv.models` with
``kernel_size=1``, a global average pool and a linear head are then the paper's three
architectures in spirit: one filter shared by all patches (conv), one filter per patch (local), or
a dense layer on all ``k * d`` inputs (dense). :func:`dsd_experiment` measures, for each kind and
each value of ``d`` (or ``k``), the smallest training-set size on a doubling grid whose test
accuracy reaches ``target``, and fits the slope of log(samples) against log(d) next to the slope
the bounds predict over the same values.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from jaxconv.config import ModelConfig, TrainConfig
from jaxconv.data.dataset import Dataset
from jaxconv.validate import check_choice, check_float, check_int

__all__ = ["MODEL", "PREDICTED", "dsd_experiment", "fit_slope", "make_dsd"]

#: Samples the bounds predict, up to constants and log factors, per kind.
PREDICTED = {"conv": lambda k, d: k + d, "local": lambda k, d: k * d,
             "dense": lambda k, d: k * k * d}
#: The model of every run; ``kind`` is replaced by each kind.
MODEL = ModelConfig("conv", num_classes=2, channels=(16,), kernel_size=1, padding="VALID",
                    pool=False, global_pool=True, hidden=0)
SCALE = 10.0
#: Norm of ``w_star`` against unit noise: at 4 the conv model reached 0.9 test accuracy from 16
#: samples at every d from 4 to 32 (nothing to measure); at 2 the signal is a 2-sigma bump.
SIGNAL = 3.0
TRAINING = TrainConfig(steps=300, learning_rate=1e-2, schedule="cosine", eval_every=0)


def make_dsd(k: int, d: int, *, n_train: int, n_test: int = 1000, signal: float | None = None,
             noise: float = 1.0, seed: int = 0) -> Dataset:
    """The DSD task: ``k`` patches of dimension ``d``, the signed signal in one random patch.

    ``w_star`` is a fixed random unit vector of dimension ``d`` (from ``seed``) times ``signal``
    (default :data:`SIGNAL`);
    every patch gets i.i.d. ``N(0, noise^2)`` entries and the chosen patch adds ``y * w_star``.
    Class 1 is ``y = +1``, class 0 is ``y = -1``. Images are stored as ``0.5 + x / 20`` clipped
    to [0, 1] (jaxconv's datasets are images in [0, 1]); at the default signal and noise an entry
    beyond 10 standard deviations would be needed for the clip to act.

    Returns:
        A `Dataset` named ``"dsd"`` with images (N, 1, k, d) float32 and labels (N,) int32.

    Example:
        >>> make_dsd(4, 8, n_train=16, n_test=8).x_train.shape
        (16, 1, 4, 8)
    """
    fn = "make_dsd"
    k, d = check_int(fn, "k", k), check_int(fn, "d", d)
    n_train, n_test = check_int(fn, "n_train", n_train), check_int(fn, "n_test", n_test)
    signal = check_float(fn, "signal", SIGNAL if signal is None else signal, 0)
    check_float(fn, "noise", noise, 0)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)]
    w_star = rngs[0].standard_normal(d)
    w_star *= signal / np.linalg.norm(w_star)

    def split(rng, n):
        y = rng.integers(0, 2, n)
        x = noise * rng.standard_normal((n, k, d))
        x[np.arange(n), rng.integers(0, k, n)] += (2 * y - 1)[:, None] * w_star
        # jaxconv's datasets hold images in [0, 1]: an affine map the first layer's bias undoes.
        image = np.clip(0.5 + x / (2 * SCALE), 0.0, 1.0)
        return image[:, None].astype(np.float32), y.astype(np.int32)

    return Dataset(*split(rngs[1], n_train), *split(rngs[2], n_test), class_names=("-1", "+1"),
                   name="dsd")


def fit_slope(xs, ys) -> float:
    """Least-squares slope of log(ys) against log(xs).

    Example:
        >>> round(fit_slope([2, 4, 8], [4, 16, 64]), 6)
        2.0
    """
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)[0])


def crossing(sizes, accuracies, target: float) -> float | None:
    """Where accuracy first reaches ``target``, interpolated linearly in log(size) between the two
    grid points around the crossing (the first size if it already reaches it; None if none does).

    Example:
        >>> crossing([16, 64], [0.8, 1.0], 0.9)
        32.0
    """
    for i, (n, a) in enumerate(zip(sizes, accuracies)):
        if a >= target:
            if i == 0:
                return float(n)
            n0, a0 = sizes[i - 1], accuracies[i - 1]
            t = (target - a0) / (a - a0)
            return float(math.exp(math.log(n0) + t * (math.log(n) - math.log(n0))))
    return None


def _samples_needed(kind, k, d, sizes, target, training, seeds):
    """Test accuracy (mean over ``seeds``) per size, up to the first size that reaches ``target``."""
    from jaxconv.experiments import train_model

    accuracies = []
    for n in sizes:
        runs = []
        for seed in seeds:
            ds = make_dsd(k, d, n_train=n, seed=seed)
            config = dataclasses.replace(MODEL, kind=kind)
            run = dataclasses.replace(training, batch_size=min(training.batch_size, n), seed=seed)
            runs.append(train_model(config, ds, run)[2]["test_accuracy"])
        accuracies.append(sum(runs) / len(runs))
        if accuracies[-1] >= target:
            break
    return crossing(sizes[:len(accuracies)], accuracies, target), accuracies


def dsd_experiment(*, vary: str = "d", values=(4, 8, 16, 32), fixed: int = 4,
                   kinds=("conv", "local", "dense"), target: float = 0.85, sizes=None,
                   steps: int | None = None, seeds=(0, 1)) -> dict:
    """Samples each kind needs to reach ``target`` test accuracy on DSD, against d (or k).

    Args:
        vary: ``"d"`` (patch dimension; ``k = fixed``) or ``"k"`` (patches; ``d = fixed``).
        values: the values of the varied quantity.
        fixed: the other quantity.
        kinds: which of conv, local, dense to measure.
        target: test accuracy to reach, in (0.5, 1).
        sizes: training-set sizes tried in order (default: 16, 32, ... 8192).
        steps: training steps per run (default 300: Adam, cosine decay, batch 64).
        seeds: each size is trained once per seed (data and initial parameters); accuracies
            are their mean.

    Returns:
        ``{"vary", "fixed", "values", "target", "steps", "kinds": [{"kind", "samples": [n or
        None per value], "accuracies": [[...] per value], "slope", "predicted_slope"}, ...]}``.
        ``samples`` is where the mean accuracy crosses ``target`` (:func:`crossing`).
        ``slope`` fits the values whose samples were found (None with fewer than two);
        ``predicted_slope`` fits :data:`PREDICTED` over the same values.
    """
    fn = "dsd_experiment"
    vary = check_choice(fn, "vary", vary, ("d", "k"))
    values = tuple(check_int(fn, "values", v) for v in values)
    fixed = check_int(fn, "fixed", fixed)
    target = check_float(fn, "target", target, 0.5, 1, low_open=True, high_open=True)
    for kind in kinds:
        check_choice(fn, "kinds", kind, tuple(PREDICTED))
    seeds = tuple(check_int(fn, "seeds", v, 0) for v in seeds)
    sizes = tuple(16 * 2 ** i for i in range(10)) if sizes is None else tuple(
        check_int(fn, "sizes", n) for n in sizes)
    training = TRAINING if steps is None else dataclasses.replace(
        TRAINING, steps=check_int(fn, "steps", steps))
    rows = []
    for kind in kinds:
        samples, accuracies = [], []
        for v in values:
            k, d = (fixed, v) if vary == "d" else (v, fixed)
            n, accs = _samples_needed(kind, k, d, sizes, target, training, seeds)
            samples.append(n)
            accuracies.append(accs)
        found = [(v, n) for v, n in zip(values, samples) if n is not None]
        predicted = [PREDICTED[kind](*((fixed, v) if vary == "d" else (v, fixed)))
                     for v, _ in found]
        two = len(found) >= 2
        rows.append({"kind": kind, "samples": samples, "accuracies": accuracies,
                     "slope": fit_slope(*zip(*found)) if two else None,
                     "predicted_slope": fit_slope([v for v, _ in found], predicted) if two
                     else None})
    return {"vary": vary, "fixed": fixed, "values": list(values), "target": target,
            "steps": training.steps, "seeds": list(seeds), "signal": SIGNAL, "kinds": rows}


def predicted_curve(kind: str, vary: str, fixed: int, values, anchor_value, anchor_samples):
    """:data:`PREDICTED` for ``kind`` over ``values``, scaled to pass through one measured point."""
    def f(v):
        return PREDICTED[kind](*((fixed, v) if vary == "d" else (v, fixed)))

    scale = anchor_samples / f(anchor_value)
    return [scale * f(v) for v in values]

