"""``make bench``: the performance goals of the API, measured on this machine in one command.

    python -m welldev.bench [--quick] [--only cold,warm,...] [--output .local/bench.json]

It seeds its own data (an embedded PostgreSQL in ``.local/bench-pg``, or the server of
``DATABASE_URL``; kept between runs while its fingerprint holds), runs every measurement
several times and writes ``.local/bench.json``: ``machine`` (pyperf's metadata, the commit, the
PostgreSQL server), ``figures`` (median, min, max and unit), ``ratios`` (every goal, measured in
the same run as the floor it is compared with) and ``details`` (plans, samples, and what a
missed goal costs: ``details.diagnostics``); beside it ``.local/bench-pyperf.json``, for
``python -m pyperf stats``, ``show`` and ``compare_to``. Each phase is a module whose docstring
says what it measures against which floor (``runner.TITLES``: a run's order).

The cold start's floor is a fresh ``-I -S -B`` interpreter that sees only what Lambda puts on
``sys.path``, importing each third-party module the function loads (each module, not only its
package: a floor without them would reward moving them out of the import), judged on CPU time:
on a shared machine a single-threaded import's wall time mostly measures the other processes.

Development only: this package is not shipped in the layer.
"""
