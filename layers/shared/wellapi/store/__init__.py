"""Run-time SQL and the database, without SQLAlchemy: what every request and sync message runs.

connections  the database connections of one execution environment
templates    SQL text for the simple query protocol: templates, scripts, literals
rows         the rows statements answer with, and the labels of their columns
idempotency  a retry-safe create's statements: the key's claim, the answer kept, read back
shapes       what decides a statement's text, apart from its values
statements   a shape's SQL: read from ``compiled/`` (built ahead by ``welldev.compiled``),
             else built by ``wellapi.sqlbuild`` on a miss (the one import of SQLAlchemy
             a request may make, and only then)
certs/       the RDS certificate bundles ``connections`` verifies the server with
"""
