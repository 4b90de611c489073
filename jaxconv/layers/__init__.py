"""The Flax modules: :mod:`jaxconv.layers.linen` and :mod:`jaxconv.layers.nnx` wrap the ops.

``jaxconv.linen`` and ``jaxconv.nnx`` are these two modules under their drop-in names
(``from jaxconv.linen import Conv`` as ``from flax.linen import Conv``); their initialisers are
:mod:`jaxconv.layers.initializers`. Importing this package loads Flax only when a module is used.
"""
