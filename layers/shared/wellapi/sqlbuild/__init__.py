"""Build-time SQL (SQLAlchemy): the statements of every shape, compiled to ``Template``s.

    read_sql   the SELECT of a List or Retrieve
    write_sql  the one statement of a Create, Update or Delete that checks every rule
    compiler   SQLAlchemy statements to ``Template``s

Run ahead of time by ``welldev.compiled`` into ``wellapi/store/compiled/``; in a function only
on a compile miss (``wellapi.store.statements``). The tables they build from are
``wellapi.resources.tables``, beside the resources' SQL conditions that read them too.
"""
