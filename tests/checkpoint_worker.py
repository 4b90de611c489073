"""Subprocess worker for the kill -9 checkpoint test (not a test module).

Usage: python checkpoint_worker.py DIR — saves train states 1, 2, 3, ... to DIR forever, each
holding 16M float32 parameters equal to its step, printing "saving K" before and "saved K" after
each save is on disk. The test kills it with SIGKILL in the middle of a save.
"""

import sys

import jax.numpy as jnp

from jaxconv.train import Checkpointer, TrainState

SIZE = 1 << 24


def state(step):
    return TrainState(step=jnp.array(step, jnp.int32),
                      params={"w": jnp.full((SIZE,), step, jnp.float32)},
                      opt_state={"count": jnp.array(step, jnp.int32)})


def main(directory):
    ckpt = Checkpointer(directory, max_to_keep=2)
    step = 0
    while True:
        step += 1
        print(f"saving {step}", flush=True)
        ckpt.save(state(step))
        ckpt.wait()
        print(f"saved {step}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
