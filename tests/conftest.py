"""Test-wide settings: strict rank promotion (as Equinox), offscreen Qt, float32 everywhere."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The viewer and the CLI cache compiled programs in the user's cache directory; tests do not
# (tests/test_compile_cache.py turns it on in a temporary directory).
os.environ["JAXCONV_COMPILE_CACHE"] = "0"

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
