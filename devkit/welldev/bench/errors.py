"""The one error of the bench: what it raises when it cannot measure.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations


class BenchError(Exception):
    """The bench cannot measure (a missing build, an unexpected response...)."""
