"""``jaxconv info``: versions and the devices JAX sees (to spot a silent fall-back to CPU)."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("info", help="versions and the devices JAX will use")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def collect() -> dict:
    """Versions of jaxconv and its engine, the devices of the default backend, and on a CPU the
    libraries XLA can be told to run products in (:mod:`jaxconv.backend.xla_cpu`)."""
    import flax
    import jax
    import optax

    import jaxconv
    from jaxconv.backend import xla_cpu

    info = {
        "jaxconv": jaxconv.__version__,
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }
    if jax.default_backend() == "cpu":
        info["cpu_libraries"] = list(xla_cpu.usable())
    return info


def run(args) -> int:
    info = collect()
    if args.json:
        print(json.dumps(info))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            print(f"{key:<{width}}  {shown}")
    return 0
