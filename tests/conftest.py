"""Test-wide settings: strict rank promotion (as Equinox), offscreen Qt, float32 everywhere."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
