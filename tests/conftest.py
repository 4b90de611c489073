"""Test-wide settings: strict rank promotion (as Equinox), offscreen Qt, float32 everywhere."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The viewer and the CLI cache compiled programs in the user's cache directory; tests do not
# (tests/test_compile_cache.py turns it on in a temporary directory).
os.environ["JAXCONV_COMPILE_CACHE"] = "0"
# The suite compiles hundreds of tiny programs and runs each a few times, so XLA's backend
# optimisation (LLVM) is most of its time: a Flax Conv's init compiled in 1.5 s optimised and
# 0.2 s without. The HLO and its numerics are the same; only the machine code is less tuned.
# JAXCONV_TEST_XLA_OPT=1 runs the suite optimised, as users' programs are.
if os.environ.get("JAXCONV_TEST_XLA_OPT") != "1":
    os.environ["XLA_FLAGS"] = " ".join(
        [os.environ.get("XLA_FLAGS", ""), "--xla_backend_optimization_level=0"]).strip()

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
