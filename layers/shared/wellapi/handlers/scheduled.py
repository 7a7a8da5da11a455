"""What the scheduled functions (the sweeper, the drainer) share: a handler that connects at
init as its role, sets back the application roles' own defaults as the healer
(``wellapi.sync.role_defaults``), then runs its job while the invocation has time, with its
logger's context and its metrics flushed at the end.

The healing depends on no application role (it logs in as ``well_heal``), and the job on no
healing: a healing that fails is said (``RoleDefaultsNotSetBack``, alarmed on) and the job runs
all the same. Both functions heal, each every minute: either alone keeps the roles healed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wellapi.errors import failure_fields
from wellapi.store import connections
from wellapi.sync.role_defaults import Restored, restore_role_defaults


class Job(Protocol):
    """One run of a scheduled function, told how long its invocation has left."""

    def __call__(self, *, time_left_ms: Callable[[], int]) -> dict[str, Any]: ...


def scheduled_handler(
    role: str, logger: Logger, metrics: Metrics, job: Job
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    connections.prepare_at_init(role)

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        restored = heal(logger, metrics)
        done = job(time_left_ms=context.get_remaining_time_in_millis)
        # The invocation's answer says it too (the local stack's schedules print what did).
        said = {
            "role_defaults_set_back": restored.set_back,
            "role_defaults_not_set_back": restored.not_set_back,
        }
        return done | {name: value for name, value in said.items() if value}

    return handler


def heal(logger: Logger, metrics: Metrics) -> Restored:
    """Set back the application roles' own defaults and say what was done: a person must look
    at anything set back (SQL running as that role changed it: ``RoleDefaultsChangedAlarm``)
    and at anything not (``RoleDefaultsNotSetBackAlarm``, docs/operations.md)."""
    try:
        restored = restore_role_defaults()
    except Exception as error:
        # Nothing was checked: a failure of its own, never a metric that stops coming.
        metrics.add_metric(name="RoleDefaultsNotSetBack", unit=MetricUnit.Count, value=1)
        logger.error(
            "the application roles' own defaults could not be checked",
            extra=failure_fields(error),
        )
        return Restored()
    metrics.add_metric(
        name="RoleDefaultsSetBack", unit=MetricUnit.Count, value=len(restored.set_back)
    )
    metrics.add_metric(
        name="RoleDefaultsNotSetBack", unit=MetricUnit.Count, value=len(restored.not_set_back)
    )
    if restored.set_back:
        logger.error(
            "an application role's own defaults were changed: set back",
            extra={"settings": restored.set_back},
        )
    if restored.not_set_back:
        logger.error(
            "an application role's own defaults could not be set back",
            extra={"settings": restored.not_set_back},
        )
    return restored


__all__ = ["Job", "heal", "scheduled_handler"]
