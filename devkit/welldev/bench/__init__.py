"""``make bench``: the performance goals of the API, measured on this machine in one command.

    python -m welldev.bench [--quick] [--only cold,warm,...] [--output .local/bench.json]

It seeds its own data (an embedded PostgreSQL in ``.local/bench-pg``, or the server of
``DATABASE_URL``), runs every measurement several times, prints a table and writes
``.local/bench.json``: ``machine`` (pyperf's metadata of the machine and interpreter, with the
commit and the PostgreSQL server), ``figures`` (median/min/max and unit of every measured
quantity), ``ratios`` (every goal as a value next to its goal, measured in the same run as the
floor it is compared with) and ``details`` (plans, samples, derived module lists, diagnostics);
and beside it ``.local/bench-pyperf.json``, every figure pyperf has a unit for as a pyperf
benchmark, for ``python -m pyperf stats``, ``show`` and ``compare_to`` between runs.

Each phase is a module whose docstring says what it measures and against which floor
(``runner.TITLES`` lists them in the order of a run; docs/code.md, how the modules layer). The
cold start's floor is the subtle one: a fresh ``-I -S -B`` interpreter that sees only what
Lambda puts on ``sys.path`` (a read-only copy of the code directory, the layer's ``python/``
and the runtime's boto3) imports the handler, against a fresh interpreter importing only the
third-party modules that function loads (each module, not only its top-level package: the
PostgreSQL dialect and Powertools' event handler are needed by the first request whatever
the import order, so a floor without them would reward moving them out of the import);
``tests/system/test_packaging.py`` fails any function that loads a module it does not need.
Cold starts are judged on the child's CPU time, reported beside its wall time: on a shared
machine the wall time of a single-threaded import mostly measures the other processes.

The seeded databases are cached between runs (their fingerprint covers the migrations, the
seed and the sizes), so only the first run pays for seeding. When a goal is missed, the bench
also records what it costs (``-X importtime`` by package, cProfile of the handler, time on the
wire, the plan without row-level security): see ``details.diagnostics``.

Development only: this package is not shipped in the layer.
"""
