"""Run-time SQL and the database, without SQLAlchemy: what every request and sync message runs.

connections  the database connections of one execution environment
sql          statements, their slots, and the values bound to them; scripts
rows         the rows statements answer with, and the labels of their columns
idempotency  a retry-safe create's statements: the key's claim, the response stored, read back
shapes       what decides a statement's text, apart from its values (``wellapi.sqltext``
             composes the text of each)
driver       every name of pg8000 used beyond its documented API, listed and checked
certs/       the RDS certificate bundles ``connections`` verifies the server with
"""
