"""The ``wellapi`` commands, one module each, imported only when that command runs."""
