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

The six measurements, and the floor each one is held against:

1. cold start of every function of the built template, in a fresh ``-I -S -B`` interpreter that
   sees only what Lambda puts on ``sys.path`` (a read-only copy of the code directory, the
   layer's ``python/`` and the runtime's boto3), against a fresh interpreter importing only the
   third-party modules that function loads (each module, not only its top-level package: the
   PostgreSQL dialect and Powertools' event handler are needed by the first request whatever
   the import order, so a floor without them would reward moving them out of the import);
   ``tests/system/test_packaging.py`` fails any function that loads a module it does not need
   (``sqlalchemy.orm``, boto3);
2. warm latency of Retrieve, List (100 rows, two includes) and Create through the Lambda
   handler, against the same SQL text sent by hand with raw pg8000 and dumped with ``json``,
   by a role row-level security does not apply to; the same SQL as the API role beside it,
   so the policies' own price is a goal too (at most 1.2x); and the same SQL as the API role
   with the wall between tenants (its proof of its own transaction, two messages) against
   without it (``wall``: at most 1.1x), beside the wall before it (revision 0016's spent proof);
   and each request's database CPU (its backend's time on a CPU) against the plainest
   statements any server must send for the same rows, prepared once (``db_cpu``: at most
   1.2x), with a read's CPU taken apart (opening, proof and scope, parse and plan, execute);
3. statements, round trips and transactions per request, counted at the pg8000 connection;
4. rows/s through the sync handler, against raw ``COPY`` of the same rows into the same table,
   and the database CPU each spends a row; the same batches with the recording triggers off
   give what the change records cost (``outbox.sync_batch``);
5. peak RSS of a process serving 10,000 Retrieve requests, and its growth;
6. every read shape of every resource for a tenant of 10,000,000 ledger rows and for a small
   tenant beside it, against the same shapes at 10,000 rows, and the sync writer's rows/s at
   both sizes; the deepest numbered page against the first at 10,000,000 rows, at most what
   following ``next`` to it costs (``welldev.bench.large``); the sync-status List, its cursor
   1,000 pages deep, gives ``scale.*`` too.

Beside the import-only cold start (reported, no longer a goal: see
``cold_start.measure_cold``), phase ``first`` (``welldev.bench.first_request``) holds the cold
start with the first request, every function's own event on the seeded demo, to 3x a fresh
interpreter sending the same SQL with raw pg8000, and reports init and first invoke under the
real runtime client (awslambdaric).

The seeded databases are cached between runs (their fingerprint covers the migrations, the
seed and the sizes), so only the first run pays the ~10 s of seeding. A full run took 2-3
minutes on a 2-core AMD EPYC VM (plus ~20-50 s when ``sam build`` is stale), most of it the
cold starts (33 functions x 3 runs x 2 interpreters); ``--quick`` takes about a minute.
Cold starts are judged on the child's CPU time, reported beside its wall time: on a shared
machine the wall time of a single-threaded import mostly measures the other processes.
When a goal is missed, the bench also records what it costs (``-X importtime`` by package,
cProfile of the handler, time on the wire, the plan without row-level security): see
``details.diagnostics``.

The package, one module per concern; imports go one way, down this list:

- ``__main__`` and ``command_line``: the command (``python -m welldev.bench``, ``make bench``);
- ``runner``: every phase of a run, in order, on one report;
- the phases, each measuring and diagnosing one thing: ``cold_start`` (1), ``warm``,
  ``wall`` and ``db_cpu`` (2),
  ``round_trips`` (3), ``sync`` (4), ``memory`` (5), ``large`` (6, with the
  tenants and shapes of ``large_tenant``, which the plan test reads too) and ``first_request``
  (with ``runtime_api``, awslambdaric behind AWS's Runtime Interface Emulator);
- ``child_*``: the programs the phases run in a fresh Lambda-like interpreter (``python -I -S
  -B child_....py``, by path): standard library only (and the layer's proofs for the floor's),
  since what they import is measured;
- what the phases share: ``sandbox`` (the build laid out as in Lambda), ``databases`` (every
  seeded database), ``api_requests`` (the measured events), ``raw_client`` (the raw
  floor), ``wire`` (statements and round trips at the pg8000 connection), ``profiles``,
  ``harness`` (calling the handlers in this process), ``config``;
- ``report`` (figures on pyperf, goals and the printed table: it imports no phase) and
  ``errors``.

Development only: this package is not shipped in the layer.
"""
