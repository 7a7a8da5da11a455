"""The local server in this process on an ephemeral port, for ``make load`` and the system tests."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from wellapi.roles import API_ROLE
from wellapi.store import connections as wellapi_db
from welldev import database
from welldev import stack as local_stack
from welldev.function_roles import connect_functions_as
from welldev.gateway import Gateway
from welldev.lambda_runtime import LambdaRuntime, apply_template_environment
from welldev.server import LocalServer

FUNCTIONS = str(Path(__file__).resolve().parents[2] / "functions")


@dataclass(frozen=True)
class Served:
    server: LocalServer
    gateway: Gateway
    runtime: LambdaRuntime
    url: str  # the server's, on the port it was given


@contextmanager
def serving(
    db: database.LocalDatabase,
    *,
    processes: int,
    log: TextIO | None = None,
) -> Iterator[Served]:
    """Every route on a loopback port, built as ``wellapi run`` builds it, up to ``processes``
    environments per function (0: this process, for tests that look inside a function); on exit
    the process gets back its environment, import path and modules, its connections closed."""
    template = local_stack.load()
    saved_environ = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    connect_functions_as(db, API_ROLE)
    apply_template_environment(template, template.functions.values())
    runtime = LambdaRuntime(template, processes=processes)
    gateway = Gateway(template, runtime, log=log or io.StringIO())
    server = LocalServer(gateway, "127.0.0.1", 0, log=log or io.StringIO())
    thread = server.start_in_thread()
    try:
        yield Served(server, gateway, runtime, server.url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        runtime.close()
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(FUNCTIONS):
                del sys.modules[name]
        wellapi_db.reset_pools()
