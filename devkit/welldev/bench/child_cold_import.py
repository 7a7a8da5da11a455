"""Phase ``cold``, in the child: a fresh Lambda-like interpreter imports what it is told.

Run by path by ``cold_start.run_cold`` as ``python -I -S -B child_cold_import.py PATHS TARGET
LIST``: PATHS the ``sys.path`` entries (JSON), TARGET what to import (a JSON list of module
names, ``handler:<module.attribute>``, or ``paired:<JSON list>|<module.attribute>``), LIST
``list`` to print the modules it loaded. The parent times from spawn to the ``imported`` line:
interpreter start-up plus imports, and not the teardown, which Lambda never pays (os._exit).

What this process imports is what is measured: the standard library modules below and nothing
else (no typing, no welldev), so every annotation here is a builtin type.
"""

import importlib
import json
import os
import sys
import time

# Loaded before the target: the listing names only what the target brought in.
BEFORE = set(sys.modules)


def import_target(target: str) -> float | None:
    """Import the target; for a paired one, the CPU time once the floor's modules were in."""
    floor = None
    if target.startswith("paired:"):
        for name in json.loads(target[len("paired:") :].partition("|")[0]):
            importlib.import_module(name)
        floor = time.process_time()
        target = "handler:" + target.partition("|")[2]
    if target.startswith("handler:"):
        module_name, _, attribute = target[len("handler:") :].rpartition(".")
        getattr(importlib.import_module(module_name), attribute)
    else:
        for name in json.loads(target):
            importlib.import_module(name)
    return floor


def loaded_modules(paths: list[str]) -> list[tuple[str, int | None]]:
    """Every module loaded since BEFORE, with the index of the path it came from (None: other)."""
    roots = [os.path.abspath(p) + os.sep for p in paths]
    loaded: list[tuple[str, int | None]] = []
    for name in [n for n in sys.modules if n not in BEFORE]:
        module = sys.modules[name]
        where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), "")
        where = os.path.abspath(where) if where else ""
        root = next((i for i, r in enumerate(roots) if where.startswith(r)), None)
        loaded.append((name, root))
    return loaded


def main(argv: list[str]) -> None:
    paths = json.loads(argv[0])
    sys.path[:0] = paths
    floor = import_target(argv[1])
    sys.stdout.write(f"imported {time.process_time()!r} {floor!r}\n")
    sys.stdout.flush()
    if argv[2] == "list":
        sys.stdout.write(json.dumps(loaded_modules(paths)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
    os._exit(0)
