"""Data parallelism: one device in-process; 8 simulated devices and 2 processes in subprocesses."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxconv import train

WORKER = Path(__file__).parent / "train_worker.py"
TIMEOUT = 240


def worker_env(devices):
    # conftest's XLA flags (no backend optimisation) kept, the device count added
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    env = dict(os.environ, XLA_FLAGS=flags.strip(), JAX_PLATFORMS="cpu")
    env.pop("JAX_NUM_CPU_DEVICES", None)
    return env


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """One subprocess with 8 CPU devices: the same training on 1, 4 and 8 of them."""
    out = tmp_path_factory.mktemp("local") / "run"
    subprocess.run([sys.executable, str(WORKER), str(out), "local", "1,4,8"], env=worker_env(8),
                   check=True, timeout=TIMEOUT, capture_output=True)
    runs = {n: dict(np.load(f"{out}-{n}.npz")) for n in (1, 4, 8)}
    runs["error"] = Path(f"{out}-error.txt").read_text()
    return runs


def assert_runs_close(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        if key not in ("devices", "processes"):
            np.testing.assert_allclose(a[key], b[key], rtol=0, atol=1e-5, err_msg=key)


@pytest.mark.slow
def test_eight_devices_train_like_one(local_runs):
    assert int(local_runs[8]["devices"]) == 8
    assert_runs_close(local_runs[1], local_runs[8])
    assert_runs_close(local_runs[1], local_runs[4])
    assert np.any(local_runs[8]["head/kernel"] != 0)


@pytest.mark.slow
def test_a_batch_that_does_not_split_over_the_devices_is_refused(local_runs):
    assert local_runs["error"] == ("fit: `batch_size` must divide by the number of devices (8), "
                                   "got batch_size=12.")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_like_one_process_with_four_devices(local_runs, tmp_path):
    out, port = tmp_path / "run", free_port()
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(out), "process", str(i), str(port)],
                              env=worker_env(2), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for i in range(2)]
    logs = []
    try:
        for proc in procs:
            logs.append(proc.communicate(timeout=TIMEOUT)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)[-3000:]
    run = dict(np.load(f"{out}-proc.npz"))
    assert (int(run["processes"]), int(run["devices"])) == (2, 4)
    assert_runs_close(run, local_runs[4])


def test_one_device_mesh_in_process():
    mesh = train.data_mesh()
    assert mesh.axis_names == ("data",) and mesh.size == jax.device_count()
    x = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    sharded = train.shard_batch(x, mesh)
    assert sharded.sharding == train.batch_sharding(mesh)
    np.testing.assert_array_equal(train.to_host(sharded), x)
    tree = train.replicate({"w": x}, mesh)
    assert tree["w"].sharding.is_fully_replicated
    np.testing.assert_array_equal(train.to_host(tree)["w"], x)


def test_sharding_errors():
    mesh = train.data_mesh()
    with pytest.raises(ValueError, match=r"data_mesh: `devices` must not be empty"):
        train.data_mesh([])
    with pytest.raises(TypeError, match=r"shard_batch: `mesh` must be a jax.sharding.Mesh with a "
                                        r"'data' axis, got 'cpu'"):
        train.shard_batch(np.ones(4), "cpu")
    with pytest.raises(TypeError, match=r"replicate: `mesh` must be a jax.sharding.Mesh"):
        train.replicate({}, None)
    with pytest.raises(ValueError, match=r"shard_batch: the batch size must divide by the number "
                                         r"of devices \(1\), got batch shape \(\)"):
        train.shard_batch(np.float32(1.0), mesh)


@pytest.mark.parametrize("args, error, match", [
    (("localhost", 2, 0), ValueError, r"initialize_distributed: `coordinator_address` must be "
                                      r"'host:port', got coordinator_address='localhost'"),
    (("127.0.0.1:1", 2, 2), ValueError, r"initialize_distributed: `process_id` must be an integer "
                                        r"in \[0, 1\], got process_id=2"),
    (("127.0.0.1:1", 0, 0), ValueError, r"`num_processes` must be a positive integer, got "
                                        r"num_processes=0"),
    (("127.0.0.1:1", 2.0, 0), TypeError, r"initialize_distributed: `num_processes` must be an "
                                         r"int, got num_processes=2.0"),
])
def test_initialize_distributed_checks_before_connecting(args, error, match):
    with pytest.raises(error, match=match):
        train.initialize_distributed(*args)
