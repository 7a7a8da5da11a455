"""What the scheduled functions (the sweeper, the drainer) share: a handler that connects at
init as its role, sets back the application roles' own defaults (``wellapi.sync.role_defaults``)
and runs its job while the invocation has time, with its logger's context and its metrics
flushed at the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wellapi.store import connections
from wellapi.sync.role_defaults import restore_role_defaults


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
        set_back = restore_role_defaults(pool=connections.get_pool(role))
        metrics.add_metric(name="RoleDefaultsSetBack", unit=MetricUnit.Count, value=len(set_back))
        if set_back:
            # SQL running as an application role changed its own defaults: a person must
            # look at who could (RoleDefaultsChangedAlarm, docs/operations.md).
            logger.error(
                "an application role's own defaults were changed: set back",
                extra={"settings": set_back},
            )
        done = job(time_left_ms=context.get_remaining_time_in_millis)
        # The invocation's answer says it too (the local stack's schedules print what did).
        return done | {"role_defaults_set_back": set_back} if set_back else done

    return handler


__all__ = ["Job", "scheduled_handler"]
