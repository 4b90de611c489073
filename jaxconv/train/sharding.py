"""Data parallelism: a one-axis device mesh, replicated parameters, batches split over devices.

The same code serves one CPU, several local devices (for instance 8 simulated CPU devices with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``) and several hosts after
:func:`initialize_distributed`. Every process holds the same global batch on the host (the
streams are seeded alike) and feeds only its own rows through
``jax.make_array_from_process_local_data``; parameters are replicated on every device, and XLA
all-reduces the gradients inside the jitted step.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxconv.validate import check_int

__all__ = ["DATA_AXIS", "abstract_state", "batch_sharding", "data_mesh", "initialize_distributed",
           "replicate", "replicated", "shard_batch", "to_host"]

#: Name of the mesh axis the batch is split over.
DATA_AXIS = "data"


def data_mesh(devices=None) -> Mesh:
    """A one-dimensional mesh with axis ``"data"`` over ``devices`` (default: all, all hosts).

    Example:
        >>> data_mesh().shape
        {'data': 8}
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("data_mesh: `devices` must not be empty, got devices=[].")
    return Mesh(np.array(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding that puts a full copy on every device of ``mesh``."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """The sharding that splits axis 0 (the batch) over the mesh's ``"data"`` axis."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def _check_mesh(fn, mesh):
    if not isinstance(mesh, Mesh) or DATA_AXIS not in mesh.axis_names:
        raise TypeError(f"{fn}: `mesh` must be a jax.sharding.Mesh with a {DATA_AXIS!r} axis, got "
                        f"{mesh!r}.")


def replicate(tree, mesh: Mesh):
    """Copies every leaf of ``tree`` to every device of ``mesh``.

    Every process must pass the same values (for parameters: initialise with the same seed).
    """
    _check_mesh("replicate", mesh)
    sharding = replicated(mesh)
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)
    return jax.tree.map(
        lambda a: jax.make_array_from_process_local_data(sharding, np.asarray(a)), tree)


def shard_batch(batch, mesh: Mesh):
    """Splits a global host batch over the mesh's ``"data"`` axis.

    Args:
        batch: array of shape (B, ...), the *global* batch, the same on every process.
        mesh: the data mesh; ``B`` must divide by its size.

    Returns:
        A global ``jax.Array`` of shape (B, ...) whose rows ``i * B / D ... (i + 1) * B / D - 1``
        live on the i-th device of the mesh. Each process supplies only its own rows.

    Raises:
        ValueError: ``B`` does not divide by the number of devices.
    """
    _check_mesh("shard_batch", mesh)
    batch = np.asarray(batch)
    if batch.ndim == 0 or len(batch) % mesh.size:
        raise ValueError(f"shard_batch: the batch size must divide by the number of devices "
                         f"({mesh.size}), got batch shape {batch.shape}.")
    sharding = batch_sharding(mesh)
    rows = sharding.addressable_devices_indices_map(batch.shape).values()
    # jax types each index Optional; a batch sharding gives every addressable device one.
    start = min(index[0].start or 0 for index in rows)  # pyright: ignore[reportOptionalSubscript]
    stop = max(len(batch) if index[0].stop is None else index[0].stop  # pyright: ignore[reportOptionalSubscript]
               for index in rows)
    return jax.make_array_from_process_local_data(sharding, batch[start:stop], batch.shape)


def to_host(tree):
    """Host numpy copies of a pytree of (possibly replicated, multi-host) arrays.

    A replicated array that spans other hosts cannot be fetched whole; its local copy is used.
    """
    def local(a):
        if isinstance(a, jax.Array) and not a.is_fully_addressable:
            if not a.is_fully_replicated:
                raise ValueError(f"to_host: array of shape {a.shape} is split over other hosts; "
                                 f"gather it first.")
            return a.addressable_data(0)
        return a

    # One device_get for the whole tree: the transfers overlap instead of waiting in turn.
    return jax.tree.map(np.asarray, jax.device_get(jax.tree.map(local, tree)))


def initialize_distributed(coordinator_address: str, num_processes: int, process_id: int,
                           **kwargs) -> None:
    """Joins a multi-host run: checks the arguments and calls ``jax.distributed.initialize``.

    Call it first, before any other JAX call, in every process; then ``jax.devices()`` lists the
    devices of all hosts and :func:`data_mesh` spans them.

    Args:
        coordinator_address: ``"host:port"`` of process 0, reachable by every process.
        num_processes: total number of processes, >= 1.
        process_id: this process's index, in [0, num_processes).
        **kwargs: passed on (e.g. ``local_device_ids``, ``initialization_timeout``).

    Example:
        >>> initialize_distributed("10.0.0.1:1234", num_processes=2, process_id=0)
    """
    if not isinstance(coordinator_address, str) or ":" not in coordinator_address:
        raise ValueError(f"initialize_distributed: `coordinator_address` must be 'host:port', got "
                         f"coordinator_address={coordinator_address!r}.")
    num_processes = check_int("initialize_distributed", "num_processes", num_processes)
    process_id = check_int("initialize_distributed", "process_id", process_id, 0, num_processes - 1)
    jax.distributed.initialize(coordinator_address, int(num_processes), int(process_id), **kwargs)


def abstract_state(state, mesh=None):
    """Shape/dtype/sharding skeleton of ``state`` to restore into, without its values.

    Args:
        state: a train state (concrete or from ``jax.eval_shape``), or a function returning one,
            which is traced with ``jax.eval_shape`` (nothing is allocated).
        mesh: restore replicated on this mesh; default: the first local device.

    Returns:
        A pytree of ``jax.ShapeDtypeStruct`` with shardings.
    """
    if callable(state):
        state = jax.eval_shape(state)
    target = (jax.sharding.SingleDeviceSharding(jax.local_devices()[0]) if mesh is None
              else replicated(mesh))
    return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=target), state)
