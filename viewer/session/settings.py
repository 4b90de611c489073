"""`Settings`: what the viewer trains, as the library's two configs plus what only the view needs.

``Settings(model, train, dataset, n_train, n_test, columns)``: ``model`` is the
:class:`jaxconv.config.ModelConfig` the columns share (its ``kind`` is replaced by each column's,
its ``num_classes`` by the dataset's), ``train`` the :class:`jaxconv.config.TrainConfig` of every
column (``train.steps``: where `Session.rounds` ends), ``columns`` the kinds trained side by side
(names of `jaxconv.kinds`, checked by `check_columns`), and the rest is the view's. The command
line (`jaxconv_viewer.__main__`) is generated from the two configs' fields, so a new field is a flag of
``jaxconv-viewer`` with no edit here. No JAX and no Qt: the window builds its controls from this
before JAX has loaded (the kind records load no JAX either).
"""

from __future__ import annotations

import dataclasses

from jaxconv import kinds
from jaxconv.config import ModelConfig, TrainConfig
from jaxconv.names import LECTURE_KINDS

__all__ = ["HEADS", "Settings", "VIEWER_MODEL", "VIEWER_TRAINING", "check_columns", "fit_depth"]

#: What feeds the classifier (``ModelConfig.global_pool`` False / True): the flattened feature
#: maps, or their average over every position.
HEADS = ("flatten", "global-pool")
#: The viewer trains until paused: ``steps`` is only a ceiling. Adam at 3e-3.
VIEWER_TRAINING = TrainConfig(steps=1_000_000, learning_rate=3e-3)
#: The defaults make the lecture's point in 300 steps, 67-81 s of CPU time on the two-core
#: development machine (docs/viewer.md has the measured numbers): three 3x3 layers of 8, 16,
#: 32 channels, circular padding (no unit can tell where it is from zeros at the edge) and a
#: global-average-pool head. ``regions=None``: the middle column is locally connected until the
#: sharing dial sets regions (`jaxconv_viewer.session.columns`).
VIEWER_MODEL = ModelConfig("conv", channels=(8, 16, 32), kernel_size=3, padding="CIRCULAR",
                           global_pool=True, regions=None)
_MODEL = {f.name for f in dataclasses.fields(ModelConfig)}
_TRAIN = {f.name for f in dataclasses.fields(TrainConfig)}


def check_columns(columns, fn: str = "Settings") -> tuple[str, ...]:
    """``columns`` as a tuple of registered kind names, each once, at least one.

    Args:
        columns: a sequence of names of `jaxconv.kinds` (``kinds.names()``), left to right.
        fn: the caller's name, for the messages (``--columns`` on the command line).

    Raises:
        TypeError: not a list or tuple of strings.
        ValueError: empty, a name no kind is registered under, or a name twice.

    Example:
        >>> check_columns(["dense", "conv"])
        ('dense', 'conv')
    """
    if not isinstance(columns, (tuple, list)) or not all(isinstance(c, str) for c in columns):
        raise TypeError(f"{fn}: `columns` must be a tuple of kind names, got columns={columns!r}.")
    columns = tuple(columns)
    known = kinds.names()
    unknown = [c for c in columns if c not in known]
    if not columns or unknown:
        raise ValueError(f"{fn}: `columns` must name one or more of {', '.join(known)}, got "
                         f"columns={','.join(columns)!r}.")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{fn}: `columns` must name each kind once, got "
                         f"columns={','.join(columns)!r}.")
    return columns


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the controls set.

    Attributes:
        model: the ModelConfig every column shares (``kind`` and ``num_classes`` are replaced).
        train: the TrainConfig of every column; ``train.steps`` ends `Session.rounds`.
        dataset: a `jaxconv.data` name or path.
        n_train: keep this many training images (None: all).
        n_test: keep this many test images (None: all).
        columns: the kinds trained side by side, left to right (`check_columns`); the
            lecture's dense, locally-connected and conv by default.

    The controls show the layer widths as ``channels`` (the first layer's) and ``depth``; spatial
    layer ``i`` then has ``channels * 2**i`` (see `with_fields`).
    """

    model: ModelConfig = VIEWER_MODEL
    train: TrainConfig = VIEWER_TRAINING
    dataset: str = "mnist-5k"
    n_train: int | None = None
    n_test: int | None = None
    columns: tuple[str, ...] = LECTURE_KINDS

    def __post_init__(self):
        for name, cls in (("model", ModelConfig), ("train", TrainConfig)):
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"Settings: `{name}` must be a {cls.__name__}, got "
                                f"{type(getattr(self, name)).__name__}.")
        object.__setattr__(self, "columns", check_columns(self.columns))  # a list saved as JSON

    def model_fields(self, num_classes: int) -> dict:
        """`jaxconv.models.ModelConfig` fields, less ``kind``, with the dataset's classes."""
        fields = dataclasses.asdict(self.model)
        del fields["kind"]
        return {**fields, "num_classes": num_classes}

    @property
    def head(self) -> str:
        """``"global-pool"`` or ``"flatten"``: ``model.global_pool`` by its name in `HEADS`."""
        return HEADS[bool(self.model.global_pool)]

    def value(self, name: str):
        """A setting by its flat name: a field of ``model`` or ``train``, one of this class, or
        ``channels`` (the first layer's width) and ``depth`` (the number of spatial layers)."""
        if name == "channels":
            return self.model.channels[0]
        if name == "depth":
            return len(self.model.channels)
        if name == "head":
            return self.head
        if name in _MODEL:
            return getattr(self.model, name)
        if name in _TRAIN:
            return getattr(self.train, name)
        return getattr(self, name)

    def with_fields(self, **fields) -> Settings:
        """These settings with fields replaced by their flat names (see `value`).

        ``channels`` (an int) and ``depth`` make the widths ``channels * 2**i``; unchanged, they
        keep the widths as they are (``16,48`` stays).

        Raises:
            TypeError: a name that is no setting.
        """
        if "head" in fields:  # a name of HEADS for ModelConfig.global_pool
            head = fields.pop("head")
            if head not in HEADS:
                raise ValueError(f"Settings.with_fields: `head` must be one of "
                                 f"{', '.join(HEADS)}, got head={head!r}.")
            fields["global_pool"] = head == "global-pool"
        unknown = sorted(set(fields) - _MODEL - _TRAIN - {"depth", *self.__dataclass_fields__})
        if unknown:
            raise TypeError(f"Settings.with_fields: unknown setting(s) {', '.join(unknown)}.")
        width, depth = fields.pop("channels", None), fields.pop("depth", None)
        if isinstance(width, int) or depth is not None:
            width = self.value("channels") if width is None else width
            depth = self.value("depth") if depth is None else depth
            if (width, depth) != (self.value("channels"), self.value("depth")):
                fields["channels"] = tuple(width * 2 ** i for i in range(int(depth)))
        elif width is not None:
            fields["channels"] = tuple(width)
        model = {k: fields.pop(k) for k in list(fields) if k in _MODEL}
        train = {k: fields.pop(k) for k in list(fields) if k in _TRAIN}
        return dataclasses.replace(self, model=dataclasses.replace(self.model, **model),
                                   train=dataclasses.replace(self.train, **train), **fields)

    def to_json(self) -> dict:
        """JSON-serialisable: both configs as their ``to_json``, the columns as a list."""
        return {"model": self.model.to_json(), "train": self.train.to_json(),
                "dataset": self.dataset, "n_train": self.n_train, "n_test": self.n_test,
                "columns": list(self.columns)}

    @classmethod
    def from_json(cls, data: dict) -> Settings:
        """The settings of a ``to_json`` dict, or of a flat one saved before the configs (a
        session saved before ``columns`` existed has the default columns)."""
        data = dict(data)
        if "model" in data:
            return cls(model=ModelConfig.from_json(data.pop("model")),
                       train=TrainConfig.from_json(data.pop("train")), **data)
        if "max_steps" in data:  # a session saved by an older viewer
            data["steps"] = data.pop("max_steps")
        return cls().with_fields(**data)


def fit_depth(settings: Settings, input_shape, dataset: str = "") -> tuple[Settings, str | None]:
    """``settings`` with as many spatial layers as images of ``input_shape`` take.

    The viewer's default depth suits 28x28 images; the 8x8 ``digits`` take two of its layers.
    Switching datasets then still trains: the deeper layers are dropped, and the note says so.

    Args:
        settings: a `Settings`.
        input_shape: one image's shape (H, W, C).
        dataset: the dataset's name, for the messages.

    Returns:
        ``(settings, note)``: the settings unchanged and None when every layer fits; else
        fewer layers and a one-line note naming the depth used.

    Raises:
        ValueError: not even the first layer fits (its window is larger than the image); the
            message names the fix.
    """
    from jaxconv.models.topology import fitting_depth  # JAX-free; loaded when a dataset is

    layers, reason = fitting_depth(settings.model, input_shape)
    if reason is None:
        return settings, None
    image = "x".join(map(str, input_shape[:-1]))
    named = f"the {image} images of {dataset!r}" if dataset else f"{image} images"
    if layers == 0:
        raise ValueError(f"Settings: {named} are too small for a {settings.model.kernel_size}x"
                         f"{settings.model.kernel_size} window with padding "
                         f"{settings.model.padding!r} ({reason}); use a smaller kernel size, "
                         f"or padding 'SAME'.")
    fitted = dataclasses.replace(settings, model=dataclasses.replace(
        settings.model, channels=settings.model.channels[:layers]))
    return fitted, (f"{named} take {layers} of the {len(settings.model.channels)} spatial "
                    f"layers: depth {layers} is used ({reason.rstrip('.')}).")
