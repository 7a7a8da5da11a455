"""pytest plugin: no API key issued during a test run, nor any signed scope token, appears in
anything the run captured.

Enabled from ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.key_audit"]``.

- Every key ``wellapi.http.keys.new_key`` (the operator function's, and through it
  ``welldev.api_keys.create_key``'s) returns is recorded, and every key ``create_key`` returns
  (both are wrapped for the whole session, before any test module is imported).
- Everything the run captures is checked against the keys issued so far, as it is captured
  (a key cannot appear before it exists): every log record that reaches the root logger or a
  Powertools logger (message, arguments, extra fields, exception text), everything Powertools
  writes to stdout, and every section pytest captured for each test phase (stdout, stderr,
  log). The check looks for each key's secret part, which the full key contains.
- Powertools' handlers write to the ``sys.stdout`` they found at import; here they write to
  whatever ``sys.stdout`` is at the time, so ``capsys`` captures their JSON lines per test.
- At the end, a leak makes the session fail (exit status 1) and the terminal summary says
  where, naming keys by their public prefix only. Without a leak, it says how much was checked.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import workers
from wellapi.http import keys
from welldev import api_keys

PLUGIN_NAME = __name__
SCOPE_TOKEN = re.compile(r"t1\.\d+\.(?:member|service)\.\d+\.[0-9a-f]{64}")


def secret_of(key: str) -> str:
    """``wk_<prefix>_<secret>``: the secret may itself hold ``_`` (URL-safe base64)."""
    return key.split("_", 2)[2]


def prefix_of(key: str) -> str:
    """The public lookup prefix (stored, and fine to log)."""
    return key.split("_", 2)[1]


@dataclass
class KeyAudit:
    issued: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    texts_checked: int = 0
    chars_checked: int = 0

    def record(self, key: str) -> None:
        if key not in self.issued:
            self.issued.append(key)

    def found_in(self, text: str) -> list[str]:
        """The prefixes of the issued keys whose secret is in ``text``."""
        return [prefix_of(k) for k in self.issued if secret_of(k) in text]

    def check(self, text: str, where: str) -> None:
        if not text:
            return
        self.texts_checked += 1
        self.chars_checked += len(text)
        self.leaks += [f"{where}: the secret of {prefix} appears" for prefix in self.found_in(text)]
        # A signed scope token is a credential too (well_private.scope_token): never in a log line.
        self.leaks += [f"{where}: a signed scope token appears" for _ in SCOPE_TOKEN.findall(text)]


AUDIT = KeyAudit()


class AuditedStdout:
    """A stream that is whatever ``sys.stdout`` is now, auditing what goes through it."""

    def write(self, text: str) -> int:
        AUDIT.check(text, "stdout of a Powertools logger")
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class Recorder(logging.Handler):
    """Audits every record that reaches it.

    Filters others add do not apply: Powertools adds one to every root handler that exists
    when a Logger is created, which would hide its own records from this handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return True

    def emit(self, record: logging.LogRecord) -> None:
        parts = [repr(vars(record))]
        try:
            parts.append(record.getMessage())
        except Exception:  # a bad format string must not break the audit
            parts.append(str(record.msg))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        AUDIT.check("\n".join(parts), f"a log record of {record.name!r}")


RECORDER = Recorder(level=logging.NOTSET)


def powertools_handlers() -> list[tuple[logging.Logger, logging.StreamHandler[Any]]]:
    found = []
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        handler = getattr(logger, "powertools_handler", None)
        if isinstance(handler, logging.StreamHandler):
            found.append((logger, handler))
    return found


def instrument_loggers(set_stream: Callable[[logging.StreamHandler[Any], Any], None]) -> None:
    """Point every Powertools handler at the audited stdout, and audit loggers that do not
    propagate to the root logger."""
    for logger, handler in powertools_handlers():
        if not isinstance(handler.stream, AuditedStdout):
            set_stream(handler, AuditedStdout())
        if not logger.propagate and RECORDER not in logger.handlers:
            logger.addHandler(RECORDER)


def follow_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    """For one test: Powertools output to the current ``sys.stdout`` (with the plugin or not)."""
    instrument_loggers(lambda handler, stream: monkeypatch.setattr(handler, "stream", stream))


def _set_stream(handler: logging.StreamHandler[Any], stream: Any) -> None:
    handler.stream = stream


_originals: dict[str, Any] = {}


def _recording(function: Callable[..., Any], key_of: Callable[[Any], str]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        AUDIT.record(key_of(result))
        return result

    return wrapper


def pytest_configure(config: pytest.Config) -> None:
    _originals.update(new_key=keys.new_key, create_key=api_keys.create_key)
    keys.new_key = _recording(keys.new_key, lambda result: result[0])
    api_keys.create_key = _recording(api_keys.create_key, lambda result: result[1])
    logging.getLogger().addHandler(RECORDER)
    instrument_loggers(_set_stream)


def pytest_unconfigure(config: pytest.Config) -> None:
    keys.new_key = _originals.pop("new_key", keys.new_key)
    for name, original in _originals.items():
        setattr(api_keys, name, original)
    _originals.clear()
    logging.getLogger().removeHandler(RECORDER)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Modules imported since (the handlers, functions loaded by the local runtime) may have
    # created Powertools loggers.
    instrument_loggers(_set_stream)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if workers.from_worker(report):
        return
    # A phase's report repeats the sections of the phases before it: check each once.
    for name, content in report.sections:
        if name.endswith(f" {report.when}"):
            AUDIT.check(content, f"{report.nodeid}, {name.lower()}")


def _figures() -> tuple[dict[str, int], list[str]]:
    """This process's figures and leaks, with those of every xdist worker it ran."""
    counts, leaks = workers.received(PLUGIN_NAME)
    mine = {
        "issued": len(AUDIT.issued),
        "texts": AUDIT.texts_checked,
        "chars": AUDIT.chars_checked,
    }
    return {k: v + counts.get(k, 0) for k, v in mine.items()}, AUDIT.leaks + leaks


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    counts, leaks = _figures()
    workers.hand_over(session.config, PLUGIN_NAME, counts, leaks)
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.section("API key audit")
    counts, leaks = _figures()
    if leaks:
        terminalreporter.write_line(
            f"FAILED: an issued API key appears in captured output ({len(leaks)} places):",
            red=True,
        )
        for leak in leaks[:50]:
            terminalreporter.write_line(f"  {leak}")
        return
    terminalreporter.write_line(
        f"{counts['issued']} API keys issued; none in {counts['texts']} captured texts "
        f"({counts['chars']} characters)."
    )
