"""The one error of the bench: what it raises when it cannot measure (a missing build, an
unexpected response...). Development only: this package is not shipped in the layer."""


class BenchError(Exception):
    pass
