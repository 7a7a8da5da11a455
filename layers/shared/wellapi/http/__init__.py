"""The HTTP request: who calls (``principal``, ``keys``, ``proofs``), what they ask (``request``)
and what they are answered (``response``). The handler factory that serves it is
``wellapi.handlers.api``; this package imports nothing, so the authorizer loads no request."""
