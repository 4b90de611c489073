"""What a model connects to and what it has learnt, measured.

- :mod:`jaxconv.analysis.receptive`: which inputs a unit is wired to, and which move it now;
- :mod:`jaxconv.analysis.probes`: accuracy against shift and per-layer equivariance;
- :mod:`jaxconv.analysis.similarity`: each position's filter against the mean filter.
"""
