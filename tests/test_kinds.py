"""The connectivity kind has one home: a kind registered here, in a test file, appears everywhere.

``DepthwiseKind`` is a kind from outside the package: a convolution whose feature groups are its
input channels (one filter per channel), written as a ``ConvKind`` subclass that overrides only
its names, labels, colour and ``layer_settings``. With no other edit it is a ``ModelConfig`` kind,
a model that trains, a ``jaxconv.summary`` row, a row of ``jaxconv count --json``, a model of
``jaxconv compare``, a workload of ``jaxconv bench`` and a column of the viewer.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxconv
from jaxconv import kinds, models, train
from jaxconv.cli import main
from jaxconv.config import ModelConfig, field_choices


class DepthwiseKind(kinds.ConvKind):
    """A convolution with one filter per input channel (``groups`` = the input's channels)."""

    name = "depthwise"
    labels = {"en": "Depthwise convolution", "zh_CN": "卷积"}
    short_labels = {"en": "Depthwise", "zh_CN": "卷积"}
    color = "#9467bd"
    order = 25  # between regional and conv: local, shared, and fewer weights than conv

    def layer_settings(self, input_shape, **given):
        return {**super().layer_settings(input_shape, **given), "groups": input_shape[-1]}


@pytest.fixture
def depthwise():
    kind = kinds.register(DepthwiseKind())
    try:
        yield kind
    finally:
        kinds.unregister(kind.name)


def test_a_registered_kind_appears_in_the_seven_places(depthwise, capsys, tmp_path):
    # 1. ModelConfig takes it, and the generated flags offer it.
    config = ModelConfig("depthwise", num_classes=10, channels=(2, 4), hidden=0)
    assert "depthwise" in field_choices(next(f for f in ModelConfig.__dataclass_fields__.values()
                                             if f.name == "kind"))
    # 2. models.build makes it: layer 2 reads its 2 channels one filter each (groups 2), and a
    # training step moves it.
    model = models.build(config)
    ds = jaxconv.data.load("digits", n_train=64, n_test=16, seed=0)
    results = list(train.fit(model, ds, steps=2, batch_size=8, eval_every=0, seed=0))
    kernel = results[-1].state.params["layer2"]["kernel"]
    assert kernel.shape == (3, 3, 1, 4)
    assert np.isfinite([r.loss for r in results]).all() and results[-1].step == 2
    # 3. jaxconv.summary counts it as itself: 3 * 3 * 1 * 4 weights in layer 2.
    rows = {r.name: r for r in jaxconv.summary(model, (8, 8, 1)).rows}
    assert (rows["layer2"].layer, rows["layer2"].weights) == ("depthwise", 36)
    assert rows["layer2"].formula == "window * C/groups * F = 9 * 1 * 4 = 36"
    # 4. jaxconv count --json has its row, between regional's place and conv's.
    assert main(["count", "--input", "8x8x2", "--kernel-size", "3", "--features", "2",
                 "--json"]) == 0
    counted = {r["layer"]: r["weights"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert list(counted) == ["dense", "local", "depthwise", "conv"]
    assert (counted["depthwise"], counted["conv"]) == (18, 36)
    # 5. jaxconv compare trains it beside conv.
    assert main(["compare", "--dataset", "digits", "--models", "depthwise,conv", "--steps", "2",
                 "--channels", "2,4", "--hidden", "0", "--batch-size", "8", "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)["models"]
    assert [(m["model"], m["params"]) for m in compared][0][0] == "depthwise"
    assert compared[0]["params"] < compared[1]["params"]  # fewer weights than conv
    # 6. jaxconv bench times it (the op, and its Flax peer inherited from conv).
    assert main(["bench", "--quick", "--json", "--no-torch", "--layer", "depthwise", "--input",
                 "5x5x2", "--features", "2", "--batch-size", "2", "--mode", "forward",
                 "--rounds", "1"]) == 0
    benched = json.loads(capsys.readouterr().out)["results"]
    assert [r["impl"] for r in benched] == ["jaxconv", "flax"]
    # 7. The viewer offers it as a column.
    from jaxconv_viewer.__main__ import _parser, settings_from_args

    args = _parser().parse_args(["--columns", "dense,depthwise"])
    assert settings_from_args(args).columns == ("dense", "depthwise")


def test_a_kind_is_one_record_with_what_every_part_asks():
    conv = kinds.get("conv")
    assert kinds.names() == ("dense", "local", "regional", "conv")
    assert [k.sharing for k in kinds.registered()] == ["none", "none", "regions", "all"]
    assert [k.whole_input for k in kinds.registered()] == [True, False, False, False]
    assert [k.regional_form for k in kinds.registered()] == [None, "regional", None, None]
    assert conv.label("zh_CN") == "卷积" and conv.label("fr", short=True) == "Conv"
    assert conv.padding == jaxconv.names.CONV_PADDING
    assert kinds.get("local").padding == jaxconv.names.LOCAL_PADDING
    assert conv.op is jaxconv.conv and conv.linen is jaxconv.linen.Conv
    assert conv.nnx is jaxconv.nnx.Conv and conv.backward is jaxconv.ops.backprop.conv_backward
    # what the lecture's table counts is each kind's own cost
    lecture = {k.name: k.connect((1000, 1000, 1), kernel_size=10, padding="SAME")
               for k in kinds.registered()}
    assert {k: None if c is None else c.weights for k, c in lecture.items()} == {
        "dense": 10**12, "local": 10**8, "regional": None, "conv": 100}


@pytest.mark.parametrize("call,error,message", [
    (lambda: kinds.get("mlp"), ValueError,
     r"kinds.get: `kind` must be one of dense, local, regional, conv, got kind='mlp'\."),
    (lambda: kinds.get(3), TypeError, r"kinds.get: `kind` must be one of .*, got kind=3\."),
    (lambda: kinds.register("conv"), TypeError,
     r"kinds.register: `kind` must be a jaxconv.kinds.Kind instance, got str\."),
    (lambda: kinds.register(kinds.ConvKind()), ValueError,
     r"kinds.register: a kind named 'conv' is already registered \(<kind 'conv'>\); pass "
     r"replace=True to replace it\."),
    (lambda: kinds.register(type("Bad", (kinds.ConvKind,), {"name": "a b"})()), ValueError,
     r"kinds.register: a kind's `name` must be a non-empty word of letters, digits, '-' or "
     r"'_', got name='a b'\."),
    (lambda: kinds.register(type("Bad", (kinds.ConvKind,), {"name": "x", "sharing": "most"})()),
     ValueError, r"kinds.register: kind 'x': `sharing` must be one of none, regions, all, got "
                 r"sharing='most'\."),
    (lambda: kinds.unregister("mlp"), ValueError,
     r"kinds.unregister: `kind` must be one of dense, local, regional, conv, got kind='mlp'\."),
])
def test_the_registry_refuses_what_it_cannot_hold(call, error, message):
    with pytest.raises(error, match=message):
        call()
    assert kinds.names() == ("dense", "local", "regional", "conv")  # nothing half-registered


def test_a_kind_lacking_its_layer_cannot_be_made():
    class Half(kinds.Kind):
        name = "half"

    with pytest.raises(TypeError, match=r"abstract"):
        Half()


_PLUGIN = textwrap.dedent('''
    from jaxconv import kinds

    class Depthwise(kinds.ConvKind):
        name = "plugged"
        order = 25

        def layer_settings(self, input_shape, **given):
            return {**super().layer_settings(input_shape, **given), "groups": input_shape[-1]}
''')


def _plugin_dist(root, value):
    """A package on ``root`` that offers a kind through the ``jaxconv.kinds`` entry points."""
    (root / "plugkinds.py").write_text(_PLUGIN)
    info = root / "plugkinds-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugkinds\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[jaxconv.kinds]\nplugged = {value}\n")
    return root


@pytest.mark.slow  # two Python start-ups
def test_an_installed_package_offers_a_kind_to_the_command_line(tmp_path):
    env = {"PYTHONPATH": str(_plugin_dist(tmp_path, "plugkinds:Depthwise"))}
    command = [sys.executable, "-m", "jaxconv.cli", "count", "--input", "8x8x2",
               "--kernel-size", "3", "--features", "2", "--json"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**_environ(), **env})
    assert proc.returncode == 0, proc.stderr
    rows = {r["layer"]: r["weights"] for r in json.loads(proc.stdout)["rows"]}
    assert rows["plugged"] == 18
    broken = tmp_path / "broken"
    broken.mkdir()
    _plugin_dist(broken, "plugkinds:Nothing")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**_environ(), "PYTHONPATH": str(broken)})
    assert proc.returncode == 0, proc.stderr  # the other kinds still count
    assert "jaxconv.kinds: the kind 'plugged' offered by 'plugkinds:Nothing' is left out " \
           "(AttributeError" in proc.stderr
    assert "plugged" not in proc.stdout


def _environ():
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_a_regional_layer_chooses_its_implementation_from_its_regions():
    from jaxconv import shapes

    regional, geom = kinds.get("regional"), shapes.geometry("test", (6, 6), 3)
    assert regional.chosen_implementation(geom, 1, 2, (2, 2)) in ("grouped", "local")
    with pytest.raises(ValueError, match=r"regional: `regions` must be given to choose an "
                                         r"implementation, got regions=None\."):
        regional.chosen_implementation(geom, 1, 2)
