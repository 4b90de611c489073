"""Subprocess worker for the multi-device and multi-process training tests (not a test module).

Usage:
    python train_worker.py OUT local 1,4,8      # one process; a run on the first 1, 4, 8 devices
    python train_worker.py OUT process ID PORT  # one of two processes on 127.0.0.1, all devices

Set ``XLA_FLAGS=--xla_force_host_platform_device_count=K`` in the environment to get K CPU devices.
Each run writes its final parameters (flattened, ``/``-joined names), per-step losses and test
accuracy to OUT-<devices>.npz (OUT-proc.npz for the two-process run). ``local`` also writes
OUT-error.txt: the message of fit's refusal of a batch size that does not divide over 8 devices.
"""

import sys

import numpy as np


def dataset():
    """Random 8x8 images with 3 classes: cheaper to make than digits (no scikit-learn import)."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    return SimpleNamespace(x_train=rng.random((64, 8, 8, 1), np.float32),
                           y_train=rng.integers(0, 3, 64).astype(np.int32),
                           x_test=rng.random((32, 8, 8, 1), np.float32),
                           y_test=rng.integers(0, 3, 32).astype(np.int32))


def run(out, mesh_devices=None):
    import jax

    from jaxconv import models, train

    ds = dataset()
    model = models.build("conv", num_classes=3, channels=(4, 8), hidden=16)
    mesh = train.data_mesh(None if mesh_devices is None else jax.devices()[:mesh_devices])
    losses = []
    for result in train.fit(model, ds, steps=4, batch_size=16, optimizer="momentum",
                            learning_rate=0.05, eval_every=2, eval_batch_size=32, mesh=mesh):
        losses.append(result.loss)
    params = train.to_host(result.state.params)
    flat = {"/".join(str(getattr(k, "key", k)) for k in path): leaf
            for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]}
    if jax.process_index() == 0:
        np.savez(f"{out}-{mesh_devices or 'proc'}.npz", losses=np.array(losses),
                 test_accuracy=result.test_accuracy,
                 devices=jax.device_count(), processes=jax.process_count(), **flat)


def main(argv):
    out, mode = argv[1], argv[2]
    if mode == "local":
        for devices in argv[3].split(","):
            run(out, int(devices))
        from jaxconv import models, train

        try:
            train.fit(models.build("conv"), dataset(), steps=1, batch_size=12)
        except ValueError as err:
            with open(f"{out}-error.txt", "w") as f:
                f.write(str(err))
    elif mode == "process":
        from jaxconv.train import initialize_distributed

        initialize_distributed(f"127.0.0.1:{argv[4]}", num_processes=2, process_id=int(argv[3]),
                               initialization_timeout=60)
        run(out)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv)
