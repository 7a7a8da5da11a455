"""Execution environments for the tests that race: each a process of its own, as in Lambda.

Concurrent requests never share an environment in Lambda, and the shipped package relies on
it (one connection per role, caches and metrics without locks). A test that races callers
therefore gives each one an environment of the local runtime (``ProcessEnvironment``, a
worker process that imports the function as Lambda does and opens its connections at init),
or, for code that is not a function (the sync writer called directly), a spawned process.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wellapi.handlers.entry_points import handler_name
from welldev import stack as local_stack
from welldev.lambda_runtime import ProcessEnvironment
from welldev.stack import Function

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _functions_by_handler() -> dict[str, Function]:
    template = local_stack.load()
    return {function.handler: function for function in template.functions.values()}


def function_of(resource: str, operation: str) -> Function:
    """The template's function that serves ``operation`` of ``resource``."""
    return _functions_by_handler()[handler_name(resource, operation)]


# Warm environments between races, as Lambda keeps them: by function and by the variables they
# started with (a test that changes the database URL gets new ones). Only the last race's
# functions keep theirs: each holds a connection, and the API role's are limited.
_warm: dict[tuple[str, frozenset[tuple[str, str]]], list[ProcessEnvironment]] = {}


def _key(function: Function) -> tuple[str, frozenset[tuple[str, str]]]:
    return function.logical_id, frozenset(os.environ.items())


def _close_warm() -> None:
    for warm in _warm.values():
        for environment in warm:
            environment.close()
    _warm.clear()


atexit.register(_close_warm)


def started(functions: Sequence[Function]) -> list[ProcessEnvironment]:
    """One environment per function, all ready on return: a warm one where one is free, else
    a new one (their inits run at once)."""
    wanted = {_key(function) for function in functions}
    for key in set(_warm) - wanted:
        for environment in _warm.pop(key):
            environment.close()
    chosen: list[ProcessEnvironment | None] = []
    for function in functions:
        warm = _warm.get(_key(function), [])
        chosen.append(warm.pop() if warm else None)
    with ThreadPoolExecutor(max_workers=max(1, len(functions))) as starting:
        futures = {
            i: starting.submit(ProcessEnvironment, function)
            for i, function in enumerate(functions)
            if chosen[i] is None
        }
        try:
            for i, future in futures.items():
                chosen[i] = future.result(timeout=120)
        except BaseException:
            for environment in chosen:
                if environment is not None:
                    environment.close()
            raise
    return [environment for environment in chosen if environment is not None]


def _give_back(environments: Sequence[ProcessEnvironment]) -> None:
    for environment in environments:
        if environment.process.poll() is None:
            _warm.setdefault(_key(environment.function), []).append(environment)


@contextmanager
def invoking(
    functions: Sequence[Function],
) -> Iterator[Callable[[int, dict[str, Any]], Future[Any]]]:
    """``send(i, event)``: the i-th function's answer to ``event``, from its own environment.

    Every environment is ready (its function imported, its connection open) before the block
    starts, so requests sent together reach the database together.
    """
    environments = started(functions)
    sending = ThreadPoolExecutor(max_workers=max(1, len(environments)))
    try:
        yield lambda index, event: sending.submit(environments[index].invoke, event)
    finally:
        sending.shutdown(wait=True, cancel_futures=True)
        _give_back(environments)


@contextmanager
def processes(count: int) -> Iterator[ProcessPoolExecutor]:
    """``count`` processes, each its own environment (its own ``wellapi.store.connections``
    connections).

    Spawned, never forked: a fork would copy this process's open connections. Jobs that block
    until all ``count`` wait together (``released_together``) each hold a process of their own.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as executor:
        yield executor
