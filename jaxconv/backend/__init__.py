"""Tuning the machine under the library, never its math.

- :mod:`jaxconv.backend.xla_cpu`: where XLA runs a CPU program's convolutions, products and
  reductions (YNNPACK or Eigen), and ``jit`` with those options;
- :mod:`jaxconv.backend.host_memory`: keep freed host memory for reuse (XLA's CPU temporaries);
- :mod:`jaxconv.backend.compile_cache`: JAX's persistent compilation cache in the user cache.
"""
