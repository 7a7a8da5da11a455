"""The SQL text of every statement the API serves, composed at run time from the resources'
descriptions, in small parts (no SQL toolkit: a function imports nothing to build its SQL).

    document    a keyed create's re-read: its resource object and included records as JSON
    reads       the SELECT of a List or Retrieve, and a List's bounded total
    writes      the one statement of a Create, Update or Delete that checks every rule
    statements  a shape's statement, composed the first time a function serves it (cached)

Identifiers come only from the descriptions (``wellapi.resources``), values only through the
``%(name)s`` slots of a ``Statement`` (``wellapi.store.sql``). The rules' conditions are
the resources' ``wellapi.resources.<module>_sql`` modules, in the same words
(``wellapi.resources.conditions``).
"""
