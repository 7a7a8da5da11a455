"""The periods of the provenance ledgers, made ahead of their time (docs/design.md, "Ledger
periods").

A ledger is partitioned on its time-ordered id, a period a partition; a row whose id has no
period is refused (422 ``ID_OUTSIDE_PERIODS`` over HTTP, the dead-letter queue for a sync
message). So the sweep function, every minute, makes the periods that cover now and
``LEDGER_PERIODS_AHEAD`` periods after it where they are missing
(``core_api.make_ledger_periods_ahead``), of the deployment's length (``LEDGER_PERIOD``: a year,
a quarter or a month), and reports how long from now the ledgers are covered
(``LedgerPeriodSecondsAhead``, alarmed on below a week): a period that could not be made (its
ledger's lock not had within two seconds) is tried again the next minute, and one that keeps
failing is seen weeks before a row is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wellapi.settings import get_settings
from wellapi.store import connections
from wellapi.store.sql import Statement

MAKE_AHEAD = Statement(
    "SELECT ledger, starts_at, ends_at FROM core_api.make_ledger_periods_ahead("
    "%(period)s::text, %(ahead)s::integer)"
)
SECONDS_AHEAD = Statement("SELECT core_api.ledger_seconds_ahead()")


@dataclass(frozen=True)
class Period:
    ledger: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PeriodsReport:
    """What a run made, how long from now every ledger's ids have a period, and why it could
    make none (the failure, which the rest of the sweep does not wait on)."""

    made: tuple[Period, ...]
    seconds_ahead: float
    failure: Exception | None = None


def make_periods_ahead(*, pool: Any = None) -> PeriodsReport:
    """Make the missing periods, in a transaction of their own, then measure the cover: a
    failure to make them (a lock not had in time) is reported, and the cover still measured,
    so the alarm sees how long is left."""
    settings = get_settings()
    params = {"period": settings.ledger_period, "ahead": settings.ledger_periods_ahead}
    made: list[Any] = []
    failure: Exception | None = None
    try:
        made = connections.in_transaction([MAKE_AHEAD.bind(params)], retry=False, pool=pool)
    except Exception as error:
        failure = error
    ((seconds,),) = connections.in_transaction([SECONDS_AHEAD.bind()], pool=pool)
    return PeriodsReport(tuple(Period(*row) for row in made), float(seconds), failure)


__all__ = ["Period", "PeriodsReport", "make_periods_ahead"]
