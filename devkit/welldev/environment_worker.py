"""One execution environment of the local Lambda runtime, run as ``python -m
welldev.environment_worker <fd>`` by ``welldev.lambda_runtime.ProcessEnvironment``: like Lambda's
runtime, it imports one function (init), then serves one invocation at a time until its parent
hangs up. Over ``fd``, its end of a socket pair, it receives the function, then each event, and
answers with the result or error and what the function printed (for the parent to print).
"""

from __future__ import annotations

import io
import pickle
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

PRINTED_IN_THE_ENVIRONMENT = "raised in the execution environment:"


class Printed(io.StringIO):
    """What stands for ``sys.stdout`` (or ``stderr``), keeping the text; installed before the
    function is imported, so that loggers made at import (Powertools') write here too."""

    def take(self) -> str:
        """The text kept so far, as a UTF-8 stream takes it: a lone surrogate (a message that
        escaped one in its JSON) is relayed escaped rather than failing the relay."""
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class RemoteError(Exception):
    """An error of the function that cannot travel to the caller as itself (not picklable)."""


def portable(error: BaseException) -> BaseException:
    """The error as the caller will raise it, the environment's traceback in a note."""
    error.add_note(f"{PRINTED_IN_THE_ENVIRONMENT}\n{''.join(traceback.format_exception(error))}")
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes: does it travel?
    except Exception:
        stand_in = RemoteError(f"{type(error).__name__}: {error}")
        stand_in.__notes__ = list(getattr(error, "__notes__", []))
        return stand_in
    return error


def serve(connection: Connection) -> int:
    # Imported here: the function's imports come after stdout is replaced.
    from welldev.lambda_runtime import LambdaContext, load_handler, log_stream_name, marshal

    out, err = Printed(), Printed()
    sys.stdout, sys.stderr = out, err
    function = connection.recv()
    try:
        handler = load_handler(function)
    except Exception as error:
        connection.send(("failed", portable(error), out.take(), err.take()))
        return 1
    stream = log_stream_name()
    connection.send(("ready", None, out.take(), err.take()))
    while True:
        try:
            event = connection.recv()
        except EOFError:
            return 0  # the runtime is done with this environment
        answer: tuple[str, Any]
        try:
            answer = ("result", marshal(handler(event, LambdaContext(function, stream))))
        except Exception as error:
            answer = ("error", portable(error))
        connection.send((*answer, out.take(), err.take()))


if __name__ == "__main__":
    # Its parent ends it by hanging up (EOFError above); a signal to the process group (Ctrl-C,
    # SIGTERM) is the parent's, which stops its schedules first: no invocation meets a dead worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        sys.exit(serve(Connection(int(sys.argv[1]))))
    except Exception:
        traceback.print_exc(file=sys.__stderr__)  # the runtime reports the environment's exit
        sys.exit(2)
